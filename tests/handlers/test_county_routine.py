"""The routine as the county wrote it (issue 13): default values, invitation, confirmations, help."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.runtime import Services, open_services
from cards import texts
from cards.meeting import grouped
from tests.conftest import RunningCms, make_settings, open_with_chat
from tests.handlers.test_routine import NURSE, create_room
from tests.harness import Chat, last_card


@pytest.fixture
async def default_services(cms: RunningCms, tmp_path: Path, clock: ManualClock,
                           memory_chat: Chat) -> AsyncIterator[Services]:
    """Only what an operator must set: database, CMS and video domain; everything else by default."""
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",  # type: ignore[call-arg]
                        cms_url=cms.url, cms_username="api", cms_password="simulator",
                        video_domain="video.region.example")
    opened = await open_services(settings, clock=clock, adapters=[memory_chat])
    create_app(opened)
    yield opened
    await opened.close()


def _pushed_cards(chat: Chat) -> list[dict]:
    """The cards the bot sent on its own (reminders), through the nurse's stored reference."""
    return [sent.reply.card for sent in chat.pushed if sent.reply.card is not None]


async def test_with_default_settings_the_invitation_has_the_routines_phone_number(default_services, memory_chat):
    chat = memory_chat
    replies = await create_room(chat)
    invitation = replies[-1].text
    assert "ring 0480 44 55 11" in invitation


async def test_without_a_join_link_the_invitation_still_says_how_to_join_in_a_browser(default_services, memory_chat,
                                                                                      cms):
    invitation = (await create_room(memory_chat))[-1].text
    [space] = cms.simulator.snapshot()
    [browser] = [line for line in invitation.splitlines() if line.startswith("Via Cisco Meeting i en webbläsare")]
    assert browser == texts.INVITATION_JOIN_BROWSER_NO_LINK.format(call_id=grouped(space["callId"]),
                                                                   address="hc.torsas.1@video.region.example")
    assert "Cisco Meetings webbapp" in browser and "be den som skickade inbjudan om länken" in browser
    assert "Anslut till distansmötesrum via Cisco Meeting" not in invitation  # no film configured: not named


@pytest.mark.parametrize("web_join_url", [None, "https://join.region.example/meeting"])
async def test_the_routines_film_on_joining_reaches_the_participants_when_configured(cms, tmp_path, clock,
                                                                                     web_join_url):
    film = "https://film.region.example/anslut-via-cisco-meeting.mp4"
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", link_film_join=film,
                             web_join_url=web_join_url)
    services, chat = await open_with_chat(settings, clock)
    try:
        lines = (await create_room(chat, patient_joins="browser"))[-1].text.splitlines()
    finally:
        await services.close()
    browser = next(i for i, line in enumerate(lines) if line.startswith("Via Cisco Meeting i en webbläsare"))
    assert lines[browser + 1] == texts.INVITATION_JOIN_FILM.format(link=film)


# -- the invitation: nothing meant for staff inside the pasted block ------------------------------

# Words only staff act on: the channels, the bot's buttons, the routine's instructions to staff.
STAFF_WORDS = ("Cosmic", "Messenger", "klistra", "Klicka", "klicka", "bekräft", "e-post", "kommunen", "Kommunen",
               "mottagare", "rutin", "Skickat", "läs upp", "patientuppgift")


@pytest.mark.parametrize("patient_joins", ["", "video_room", "browser", "phone"])
async def test_the_pasted_invitation_holds_no_sentence_addressed_to_staff(chat, patient_joins):
    replies = await create_room(chat, patient_joins=patient_joins)
    room_card, invitation = replies[0].card, replies[-1].text
    staff_texts = [texts.MUNICIPALITY_NEEDS, texts.INVITATION_FOLLOWS, *texts.FORWARDING_RULES, texts.NO_EMAIL,
                   texts.READ_ALOUD_TITLE, texts.PATIENT_JOINS_HINT]
    for sentence in staff_texts:
        assert sentence not in invitation
    for word in STAFF_WORDS:
        assert word not in invitation, word
    # What the municipality needs is all there: time, video address, call ID, the three ways to join.
    for needed in ("kl. 13.30–14.30", "Videoadress: hc.torsas.1@video.region.example", "Samtals-ID: ",
                   "Via videokonferenssystem", "Via Cisco Meeting i en webbläsare",
                   "Via telefon (endast ljud): ring 0480"):
        assert needed in invitation
    # The staff guidance is beside it, on the room card, with the Messenger category and a text to read aloud.
    shown = str(room_card)
    assert texts.MUNICIPALITY_NEEDS in shown and "kategori ”Distansmöte”" in shown and "ämnesraden" in shown
    assert texts.READ_ALOUD_TITLE in shown and "Ring 0480 44 55 11 och ange samtals-ID " in shown


async def test_where_the_patient_takes_part_leads_the_invitation_and_the_start_reminder(chat, services, clock):
    replies = await create_room(chat, patient_joins="browser")
    invitation = replies[-1].text.splitlines()
    assert invitation[1] == texts.PATIENT_JOINS_LEAD["browser"]
    assert invitation[invitation.index(texts.INVITATION_HOW) + 1].startswith("Via Cisco Meeting i en webbläsare")
    assert ("Patienten deltar via", "webbläsare med kamera och mikrofon") in _facts(replies[0].card)

    clock.set(datetime(2026, 11, 26, 12, 25, tzinfo=UTC))  # five minutes before 13:30 in Stockholm
    await services.reminders.run_due()
    start = [card for card in _pushed_cards(chat) if card["body"][0]["text"] == "HC Torsås 1 börjar kl. 13.30"]
    assert start and start[0]["body"][1]["text"] == texts.PATIENT_JOINS_LEAD["browser"]


# -- confirmations: a telephone recipient is told in one step and never unconfirmed ----------------


async def test_a_telephone_recipient_is_told_in_one_step_and_never_unconfirmed_or_reminded_about(
        chat, services, clock):
    room_card = (await create_room(chat))[0].card
    room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label="Biståndshandläggare",
                                           channel="phone"))
    room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label="Kommunen – hemtjänsten",
                                           channel="link"))
    assert ("Biståndshandläggare", "Telefon – inte meddelad ännu") in _facts(room_card)
    room_card = last_card(await chat.click(NURSE, room_card, texts.MARK_SENT,
                                           recipient_id=_recipient_id(room_card, "Biståndshandläggare")))
    status = dict(_facts(room_card))["Biståndshandläggare"]
    assert status.startswith("Telefon – meddelad per telefon 2026-11-25")

    listed = last_card(await chat.say(NURSE, "/distansmöte lista"))
    assert ("Mottagare", "0 av 1 har bekräftat, 1 av 1 meddelade per telefon") in _facts(listed)

    clock.set(datetime(2026, 11, 26, 11, 30, tzinfo=UTC))  # an hour before the start
    await services.reminders.run_due()
    [reminder] = _pushed_cards(chat)
    # Not sent yet: the title does not say "har inte bekräftat" above it.
    assert reminder["body"][0]["text"] == "HC Torsås 1: inbjudan är inte skickad till 1 mottagare"
    assert "Kommunen – hemtjänsten" in str(reminder) and "Biståndshandläggare" not in str(reminder)  # phoned


async def test_a_telephone_recipient_not_yet_phoned_is_to_be_rung_before_the_meeting(chat, services, clock):
    room_card = (await create_room(chat))[0].card
    room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label="Biståndshandläggare",
                                           channel="phone"))
    clock.set(datetime(2026, 11, 26, 11, 30, tzinfo=UTC))
    await services.reminders.run_due()
    # The routine: whoever has no Link or Messenger "ska få informationen via en telefonkontakt".
    [reminder] = _pushed_cards(chat)
    assert reminder["body"][0]["text"] == "HC Torsås 1: ring 1 mottagare innan mötet"
    assert texts.RING_THEM in str(reminder) and "Biståndshandläggare" in str(reminder)
    # "Bekräftelse mottagen" on a telephone recipient is the same one step.
    room_card = last_card(await chat.click(NURSE, room_card, texts.MARK_CONFIRMED))
    assert dict(_facts(room_card))["Biståndshandläggare"].startswith("Telefon – meddelad per telefon")


# -- help, e-mail, room names -----------------------------------------------------------------------

ROUTINE_TITLES = (
    "checklista för rekommenderad utrustning för distansmöte", "Tips inför distansmöte",
    "Distansmöte mellan huvudmän", "Skapa distansmöten/mötesrum för planering mellan huvudmän",
    "Anslut till distansmötesrum via Cisco Meeting", "Konfigurera bild och ljud i Cisco Meeting",
    "Ta bort mötesrum i Cisco Meeting",
)


async def test_help_with_default_settings_names_every_document_and_film(default_services, memory_chat):
    chat = memory_chat
    shown = str(last_card(await chat.say(NURSE, "/distansmöte hjälp")))
    for title in ROUTINE_TITLES:
        assert f"{title}” – finns på intranätet Navet" in shown or f"{title} – finns på intranätet Navet" in shown
    for needed in ("IT-supporten", "Förberedelser", "förstahandsval", "Ring 0480 44 55 11", "Navet"):
        assert needed in shown


async def test_help_links_a_document_where_one_is_configured(cms, tmp_path, clock):
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                             link_film_delete_room="https://intranat.region.example/ta-bort.mp4")
    services, chat = await open_with_chat(settings, clock)
    try:
        shown = str(last_card(await chat.say(NURSE, "/distansmöte hjälp")))
    finally:
        await services.close()
    assert "[Film: Ta bort mötesrum i Cisco Meeting](https://intranat.region.example/ta-bort.mp4)" in shown
    assert "Film: Anslut till distansmötesrum via Cisco Meeting – finns på intranätet Navet" in shown


async def test_e_mail_in_a_command_gets_the_explanation_besides_the_card(chat):
    replies = await chat.say(NURSE, "/distansmöte ny skicka inbjudan via e-post")
    assert [r.text for r in replies] == [texts.NEW_MEETING_TITLE, texts.NO_EMAIL]
    for typed in ("/distansmöte mejla inbjudan", "distansmote lista epost", "/distansmöte hjälp mail"):
        assert (await chat.say(NURSE, typed))[-1].text == texts.NO_EMAIL
    assert [r.text for r in await chat.say(NURSE, "/distansmöte e-post")] == [texts.NO_EMAIL]  # once


async def test_e_mail_in_a_recipient_label_gets_the_explanation_and_the_recipient_is_added(chat):
    room_card = (await create_room(chat))[0].card
    replies = await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label="Hemtjänsten (ville ha mejl)",
                               channel="messenger")
    assert replies[-1].text == texts.NO_EMAIL
    assert ("Hemtjänsten (ville ha mejl)", "Cosmic Messenger – inte skickat") in _facts(replies[0].card)


async def test_a_unit_typed_with_a_room_number_is_read_as_the_unit(chat, cms):
    replies = await create_room(chat, unit="HC Torsås 8")
    [space] = cms.simulator.snapshot()
    assert space["name"] == "HC Torsås 1"
    assert texts.UNIT_NUMBER_STRIPPED.format(unit="HC Torsås", typed="HC Torsås 8", room="HC Torsås 1") \
        in str(replies[0].card)
    await create_room(chat, unit="Avd 12")  # a number that is the unit's own name stays
    assert {s["name"] for s in cms.simulator.snapshot()} == {"HC Torsås 1", "Avd 12 1"}


def _facts(card: dict) -> list[tuple[str, str]]:
    return [(f["title"], f["value"]) for e in card["body"] if e["type"] == "FactSet" for f in e["facts"]]


def _recipient_id(card: dict, label: str) -> str:
    chooser = next(e for e in card["body"] if e.get("id") == "recipient_id")
    return next(c["value"] for c in chooser["choices"] if c["title"] == label)
