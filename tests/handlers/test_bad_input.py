"""Every bad input gets a clear Swedish answer and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core import CARD_VERSION
from bot.store.schema import Meeting, Recipient
from cards import texts
from cards.actions import ConfirmDelete, CreateMeeting, MarkSent
from cards.meeting import grouped
from tests.handlers.test_routine import COLLEAGUE, NURSE, create_room
from tests.harness import last_card, submission
from tests.reading import shows_number
from tests.store.rows import everything_stored


async def _counts(services) -> tuple[int, int]:
    async with services.sessions() as session:
        meetings = await session.scalar(select(func.count()).select_from(Meeting))
        recipients = await session.scalar(select(func.count()).select_from(Recipient))
    return meetings, recipients


def _answer(replies) -> str:
    return " ".join(r.text for r in replies)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"date": "2026-11-24"}, "in_the_past"),
        ({"date": "2026-11-25", "start": "07:00"}, "in_the_past"),
        ({"date": "2027-03-28", "start": "02:30"}, "time_does_not_exist"),
        ({"length": "0"}, "length_out_of_range"),
        ({"length": "481"}, "length_out_of_range"),
        ({"length": "en timme"}, "length_invalid"),
        ({"date": "26/11"}, "date_invalid"),
        ({"start": "25:00"}, "time_invalid"),
        ({"unit": "H" * 200}, "unit_too_long"),
        ({"unit": "HC \u202eTorsås"}, "invisible_characters"),
        ({"unit": "<b>HC Torsås</b>"}, "unit_characters"),
        ({"unit": "**HC** [Torsås](https://evil.example)"}, "unit_characters"),
        ({"unit": ""}, "unit_missing"),
        # "HC 850709980 1", the first room's name, would read as a (mistyped) personnummer.
        ({"unit": "HC 850709980"}, "unit_digits"),
        ({"unit": "HC 12345"}, "unit_digits"),
        ({"unit": "HC_Torsås"}, "unit_characters"),
    ],
)
async def test_bad_meeting_input_is_refused_in_swedish(chat, services, cms, fields, expected):
    replies = await create_room(chat, **fields)
    assert _answer(replies) == texts.ERRORS[expected]
    assert all(r.direct for r in replies)
    assert await _counts(services) == (0, 0)
    assert cms.simulator.snapshot() == []


async def test_march_clock_change_gap_is_refused_on_2026_03_29(chat, services, cms, clock):
    from datetime import UTC, datetime

    clock.set(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))
    replies = await create_room(chat, date="2026-03-29", start="02:30")
    assert _answer(replies) == texts.ERRORS["time_does_not_exist"]
    assert cms.simulator.snapshot() == []


# 850709-9805 is a valid personnummer. The spellings after the first line got into the unit, the
# label and the command text at some time: after the first five, the guard read the normalised text;
# from "2 850709-9805" on (issue 18), it reads any window beside other digits and any non-letter separator.
SPELLINGS = [
    "850709-9805", "8507099805", "19850709-9805", "850709+9805", "850709 9805",
    "850709 - 9805", "850709 -9805", "850709  9805", "850709\u20139805", "850709\u00a09805", "850709\t9805",
    "85 07 09-9805", "\uff18\uff15\uff10\uff17\uff10\uff19-\uff19\uff18\uff10\uff15",
    "850709-9806",  # a wrong check digit: a mistyped personnummer is still one
    "2 850709-9805", "1 850709-9805 a", "850709_9805", "850709/9805", "850709,9805", "850709:9805", "850709|9805",
    "850709\u20229805", "850709*9805", "#850709#9805", "8\ufe0f\u20e35\ufe0f\u20e30709-9805", "85\u316407\u280009-9805",
    "850709%2D9805", "850709&#45;9805", "**850709**-**9805**", "<b>850709</b>-9805",
]


def _leaks(*shown: Any) -> bool:
    return shows_number("8507099805", *shown) or shows_number("8507099806", *shown)


def _shown(replies) -> list:
    return [[r.text, r.card] for r in replies]


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_personnummer_in_unit_reaches_neither_store_cms_nor_reply(chat, services, cms, caplog, spelling):
    replies = await create_room(chat, unit=f"HC Torsås {spelling}")
    assert _answer(replies) == texts.PERSONAL_NUMBER_REFUSED
    assert await _counts(services) == (0, 0)
    assert cms.simulator.snapshot() == [] and not any(r.startswith("POST") for r in cms.simulator.requests)
    next_card = last_card(await chat.say(NURSE, "/distansmöte ny"))  # the last unit prefills the next card
    assert not _leaks(_shown(replies), next_card, caplog.text,
                      await everything_stored(services))


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_personnummer_in_recipient_label_reaches_neither_store_nor_reply(chat, services, cms, caplog,
                                                                               spelling):
    room_card = last_card(await create_room(chat))
    replies = await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label=f"Kommunen {spelling}", channel="link")
    assert _answer(replies) == texts.PERSONAL_NUMBER_REFUSED
    assert await _counts(services) == (1, 0)
    listed = await chat.say(NURSE, "/distansmöte lista")
    assert not _leaks(_shown(replies), _shown(listed), caplog.text, await everything_stored(services),
                      cms.simulator.snapshot())


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_personnummer_typed_in_a_command_is_refused_and_not_echoed(chat, services, caplog, spelling):
    for command in (f"/distansmöte ny för {spelling}", f"/distansmöte ta bort HC Torsås {spelling}", spelling):
        replies = await chat.say(NURSE, command)
        assert _answer(replies) == texts.PERSONAL_NUMBER_REFUSED
        assert not _leaks(_shown(replies), caplog.text)
    assert not _leaks(await everything_stored(services))


@pytest.mark.parametrize("fields", [{"date": "2026-11-26", "start": "13:30", "length": "90"},
                                    {"unit": "Avd 12 Växjö", "start": "08:05"}])
async def test_dates_times_and_call_ids_still_pass_the_guard(chat, cms, fields):
    replies = await create_room(chat, **fields)
    assert replies[0].text == texts.ROOM_CREATED_TITLE
    [space] = cms.simulator.snapshot()
    assert grouped(space["callId"]) in replies[1].text


async def test_recipient_label_with_email_address_is_refused(chat, services):
    room_card = last_card(await create_room(chat))
    replies = await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label="hemtjanst@kommun.se", channel="link")
    assert _answer(replies) == texts.ERRORS["label_email"]
    assert await _counts(services) == (1, 0)


async def test_email_is_never_offered_and_asking_for_it_explains_why(chat, services):
    room_card = last_card(await create_room(chat))
    channel_input = next(e for e in room_card["body"] if e.get("id") == "channel")
    assert {c["value"] for c in channel_input["choices"]} == {"link", "messenger", "phone"}
    forged = submission(room_card, texts.ADD_RECIPIENT, label="Kommunen", channel="email")
    replies = await chat.deliver(chat.event(NURSE, inputs=forged))
    assert _answer(replies) == texts.NO_EMAIL
    assert _answer(await chat.say(NURSE, "/distansmöte e-post")) == texts.NO_EMAIL
    assert await _counts(services) == (1, 0)


async def test_forged_or_unknown_meeting_id_is_refused(chat, services):
    room_card = last_card(await create_room(chat))
    for forged_id in (str(uuid.uuid4()), "'; DROP TABLE meeting; --".ljust(36, "x")):
        inputs = submission(room_card, texts.DELETE_ROOM) | {"meeting_id": forged_id}
        replies = await chat.deliver(chat.event(NURSE, inputs=inputs))
        assert _answer(replies) == texts.ERRORS["not_found"]
    assert await _counts(services) == (1, 0)


async def test_button_clicked_by_someone_else_is_refused(chat, services, cms):
    room_card = last_card(await create_room(chat))
    question = last_card(await chat.click(NURSE, room_card, texts.DELETE_ROOM))
    replies = await chat.click(COLLEAGUE, question, texts.DELETE_YES)
    assert _answer(replies) == texts.ERRORS["not_allowed"]
    replies = await chat.click(COLLEAGUE, room_card, texts.ADD_RECIPIENT, label="Kommunen", channel="phone")
    assert _answer(replies) == texts.ERRORS["not_allowed"]
    assert len(cms.simulator.snapshot()) == 1
    assert await _counts(services) == (1, 0)


async def test_buttons_clicked_twice_change_nothing(chat, services, cms):
    new_card = last_card(await chat.say(NURSE, "/distansmöte ny"))
    fields = {"unit": "HC Torsås", "date": "2026-11-26", "start": "13:30", "length": "60"}
    await chat.click(NURSE, new_card, texts.CREATE_ROOM, **fields)
    again = await chat.click(NURSE, new_card, texts.CREATE_ROOM, **fields)
    assert _answer(again) == texts.ALREADY_DONE["already_created"]
    assert len(cms.simulator.snapshot()) == 1

    room_card = last_card(await chat.click(NURSE, _room_card_of(chat), texts.ADD_RECIPIENT,
                                           label="Kommunen", channel="phone"))
    await chat.click(NURSE, room_card, texts.MARK_SENT)
    # A phoned recipient has nothing to confirm: either button says the call is already recorded.
    for button in (texts.MARK_SENT, texts.MARK_CONFIRMED):
        assert _answer(await chat.click(NURSE, room_card, button)) == texts.ALREADY_DONE["already_phoned"], button

    question = last_card(await chat.click(NURSE, room_card, texts.DELETE_ROOM))
    await chat.click(NURSE, question, texts.DELETE_YES)
    again = await chat.click(NURSE, question, texts.DELETE_YES)
    assert _answer(again) == texts.ALREADY_DONE["already_deleted"]
    for button in (texts.MORE, texts.DELETE_ROOM, texts.MARK_CONFIRMED):
        old_card = await chat.click(NURSE, room_card, button)
        assert _answer(old_card) == texts.ALREADY_DONE["already_deleted"], button


async def test_a_link_recipient_clicked_twice_is_already_sent_then_already_confirmed(chat):
    room_card = last_card(await create_room(chat))
    room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label="Kommunen", channel="link"))
    await chat.click(NURSE, room_card, texts.MARK_SENT)
    assert _answer(await chat.click(NURSE, room_card, texts.MARK_SENT)) == texts.ALREADY_DONE["already_sent"]
    await chat.click(NURSE, room_card, texts.MARK_CONFIRMED)
    again = await chat.click(NURSE, room_card, texts.MARK_CONFIRMED)
    assert _answer(again) == texts.ALREADY_DONE["already_confirmed"]


def _room_card_of(chat) -> dict:
    return next(s.reply.card for s in chat.sent if s.reply.text == texts.ROOM_CREATED_TITLE)


async def test_same_platform_event_delivered_twice_is_handled_once(chat, cms):
    new_card = last_card(await chat.say(NURSE, "/distansmöte ny"))
    inputs = submission(new_card, texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-26", start="13:30")
    event = chat.event(NURSE, inputs=inputs, event_id="webhook-event-1")
    assert await chat.deliver(event)
    assert await chat.deliver(event) == []
    assert len(cms.simulator.snapshot()) == 1


async def test_card_from_an_old_version_of_the_bot_gets_a_polite_answer(chat, services):
    old = CreateMeeting.submit_data(request_id="a" * 32) | {"v": "0", "unit": "HC Torsås"}
    replies = await chat.deliver(chat.event(NURSE, inputs=old))
    assert _answer(replies) == texts.STALE_CARD
    unknown = {"action": "launch_rockets", "v": CARD_VERSION}
    assert _answer(await chat.deliver(chat.event(NURSE, inputs=unknown))) == texts.UNKNOWN_ACTION
    assert await _counts(services) == (0, 0)


async def test_malformed_submission_does_not_echo_inputs(chat):
    inputs = MarkSent.submit_data(meeting_id="short")
    assert _answer(await chat.deliver(chat.event(NURSE, inputs=inputs))) == texts.INVALID_FORM
    inputs = ConfirmDelete.submit_data(meeting_id=str(uuid.uuid4()), end_calls="maybe")
    assert _answer(await chat.deliver(chat.event(NURSE, inputs=inputs))) == texts.INVALID_FORM
