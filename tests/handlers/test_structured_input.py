"""Rule 1 by construction: units from the region's list, recipients as roles, no text where a card
sends something else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.runtime import Services
from bot.store.schema import Meeting, Recipient
from cards import texts
from tests.conftest import RunningCms, make_settings, open_with_chat
from tests.handlers.test_routine import ADMIN, NURSE, create_room
from tests.harness import Chat, last_card

UNITS = ("HC Torsås", "HC Ljungby", "Avd 12")


@pytest.fixture
async def listed(cms: RunningCms, tmp_path, clock) -> AsyncIterator[tuple[Services, Chat]]:
    """The bot with DISTANSMOTE_UNITS set."""
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'listed.db'}", units=UNITS)
    services, chat = await open_with_chat(settings, clock)
    yield services, chat
    await services.close()


def _input(card: dict, input_id: str) -> dict:
    return next(e for e in card["body"] if e.get("id") == input_id)


async def _units_stored(services: Services) -> set[str]:
    async with services.sessions() as session:
        return set(await session.scalars(select(Meeting.unit)))


async def test_with_units_set_the_card_offers_them_and_nothing_else_is_taken(listed, cms):
    services, chat = listed
    card = last_card(await chat.say(NURSE, "/distansmöte ny"))
    unit = _input(card, "unit")
    assert unit["type"] == "Input.ChoiceSet" and [c["value"] for c in unit["choices"]] == list(UNITS)

    for forged in ("Karl Andersson", "hc torsås", "HC Torsås 8", "HC Växjö"):
        replies = await create_room(chat, unit=forged)
        assert [r.text for r in replies] == [texts.ERRORS["unit_not_listed"]], forged
    assert cms.simulator.snapshot() == [] and await _units_stored(services) == set()

    created = await create_room(chat, unit="HC Ljungby")
    assert created[0].text == texts.ROOM_CREATED_TITLE
    assert [space["name"] for space in cms.simulator.snapshot()] == ["HC Ljungby 1"]
    # The next card offers the unit used last.
    assert _input(last_card(await chat.say(NURSE, "/distansmöte ny")), "unit")["value"] == "HC Ljungby"

    listing = str(last_card(await chat.say(NURSE, "/distansmöte lista")))
    report = str(last_card(await chat.say(ADMIN, "/distansmöte rapport")))
    assert "HC Ljungby" in listing and "HC Ljungby" in report
    assert "Karl Andersson" not in listing + report
    assert await _units_stored(services) == {"HC Ljungby"}


async def test_without_units_set_the_unit_is_typed_under_strict_rules(chat, cms):
    card = last_card(await chat.say(NURSE, "/distansmöte ny"))
    assert _input(card, "unit")["type"] == "Input.Text"
    assert [r.text for r in await create_room(chat, unit="HC 2 3456")] == [texts.ERRORS["unit_digits"]]
    assert cms.simulator.snapshot() == []


async def test_a_recipient_is_a_role_from_the_list_or_a_short_text(chat, services):
    room_card = last_card(await create_room(chat))
    role = _input(room_card, "role")
    assert [c["value"] for c in role["choices"]] == list(texts.RECIPIENT_ROLES)

    room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, role="Kommunen – hemsjukvården",
                                           channel="messenger"))
    room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, role="Kommunen – hemsjukvården",
                                           label="Korttidsboendet", channel="phone"))  # the text wins
    forged = await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, role="Karl Andersson", channel="link")
    assert [r.text for r in forged] == [texts.ERRORS["role_not_listed"]]
    digits = await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label="Hemtjänst 12345", channel="link")
    assert [r.text for r in digits] == [texts.ERRORS["label_digits"]]
    nothing = await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, channel="link")
    assert [r.text for r in nothing] == [texts.ERRORS["label_missing"]]
    async with services.sessions() as session:
        assert set(await session.scalars(select(Recipient.label))) == {"Kommunen – hemsjukvården", "Korttidsboendet"}


async def test_the_region_names_its_own_recipient_roles(cms, tmp_path, clock):
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'roles.db'}",
                             recipient_roles=("Kommunen – hemtjänsten", "Anhörigstöd"))
    services, chat = await open_with_chat(settings, clock)
    try:
        room_card = last_card(await create_room(chat))
        assert [c["value"] for c in _input(room_card, "role")["choices"]] == ["Kommunen – hemtjänsten", "Anhörigstöd"]
        refused = await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, role=texts.RECIPIENT_ROLES[-1],
                                   channel="link")
        assert [r.text for r in refused] == [texts.ERRORS["role_not_listed"]]
    finally:
        await services.close()
