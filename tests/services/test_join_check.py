""""Har alla anslutit?": a few minutes after the start the creator learns who has joined and how,
read from the CMS's call legs (the simulator's), through the in-memory chat; counts only."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.store.schema import Reminder
from cards import texts
from tests.handlers.test_routine import ADMIN, COLLEAGUE, NURSE, create_room
from tests.harness import Chat, last_card
from tests.store.rows import everything_stored

# create_room books 2026-11-26 13:30–14:30 in Stockholm (12:30 UTC); the check comes 5 minutes in.
START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
CHECK_AT = START + timedelta(minutes=5)
PATIENT = "Patient Patientsson 191212121212"  # a display name the CMS may show: never kept or shown


async def _room_with_two_recipients(chat: Chat) -> dict:
    room_card = (await create_room(chat))[0].card
    for label, channel in (("Kommunen – hemtjänsten", "messenger"), ("Biståndshandläggare", "phone")):
        room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT, label=label, channel=channel))
    return room_card


def _pushed_join_checks(chat: Chat) -> list[dict]:
    return [sent.reply.card for sent in chat.pushed
            if sent.reply.card and sent.reply.text.startswith(texts.JOIN_CHECK_TITLE.format(room="HC Torsås 1"))]


def _facts(card: dict) -> dict[str, str]:
    return {fact["title"]: fact["value"] for element in card["body"] if element["type"] == "FactSet"
            for fact in element["facts"]}


async def test_five_minutes_in_the_creator_is_told_how_many_joined_and_by_which_way(chat, services, clock, cms,
                                                                                    caplog):
    caplog.set_level(logging.DEBUG)
    await _room_with_two_recipients(chat)
    [space] = cms.simulator.snapshot()
    cms.simulator.join(space["id"], "video", name=PATIENT)
    cms.simulator.join(space["id"], "phone")

    clock.set(CHECK_AT)
    await services.reminders.run_due()
    [card] = _pushed_join_checks(chat)
    assert chat.pushed[-1].to == NURSE.id
    shown = json.dumps(card, ensure_ascii=False)
    assert texts.JOIN_CHECK_SOME.format(joined=2, expected=3) in shown  # two recipients and the creator
    ways = texts.JOIN_CHECK_WAYS
    assert {ways["video"]: "1", ways["browser"]: "0", ways["phone"]: "1"}.items() <= _facts(card).items()
    call_id = " ".join(space["callId"][i:i + 3] for i in range(0, 9, 3))
    assert _facts(card)[texts.CALL_ID] == call_id  # ready to pass on to the one missing
    assert _facts(card)[texts.VIDEO_ADDRESS] == "hc.torsas.1@video.region.example"
    assert _facts(card)[texts.JOIN_CHECK_DIAL_IN] == texts.JOIN_CHECK_DIAL_IN_VALUE.format(
        number="0480 44 55 11", call_id=call_id)
    assert [action["title"] for action in card["actions"]] == [texts.JOIN_CHECK_AGAIN]

    # Sent once, however often the timer looks.
    clock.set(CHECK_AT + timedelta(minutes=20))
    await services.reminders.run_due()
    assert len(_pushed_join_checks(chat)) == 1
    # The participant's name and number went nowhere: not the card, the log or the store.
    for text in (shown, caplog.text, await everything_stored(services)):
        assert "Patientsson" not in text and "191212121212" not in text


async def test_titta_igen_reads_again_for_the_creator_or_an_admin(chat, services, clock, cms):
    await _room_with_two_recipients(chat)
    [space] = cms.simulator.snapshot()
    clock.set(CHECK_AT)
    await services.reminders.run_due()
    [card] = _pushed_join_checks(chat)
    assert texts.JOIN_CHECK_NOBODY.format(expected=3) in json.dumps(card, ensure_ascii=False)

    for way in ("video", "browser", "phone"):
        cms.simulator.join(space["id"], way)
    [again] = await chat.click(NURSE, card, texts.JOIN_CHECK_AGAIN)
    assert again.replaces_card
    assert texts.JOIN_CHECK_ALL.format(joined=3, expected=3) in again.text or \
        texts.JOIN_CHECK_ALL.format(joined=3, expected=3) in json.dumps(again.card, ensure_ascii=False)
    assert texts.JOIN_CHECK_MISSING not in json.dumps(again.card, ensure_ascii=False)
    assert {texts.JOIN_CHECK_WAYS[w]: "1" for w in ("video", "browser", "phone")}.items() <= _facts(again.card).items()

    [refused] = await chat.click(COLLEAGUE, card, texts.JOIN_CHECK_AGAIN)
    assert refused.text == texts.ERRORS["not_allowed"]
    [by_admin] = await chat.click(ADMIN, card, texts.JOIN_CHECK_AGAIN)
    assert texts.JOIN_CHECK_TITLE.format(room="HC Torsås 1") in by_admin.text


async def test_a_cms_that_does_not_answer_is_said_so_and_the_check_is_not_lost(chat, services, clock, cms):
    await create_room(chat)
    clock.set(CHECK_AT)
    cms.simulator.fail_next(503, count=50, on="GET calls")
    await services.reminders.run_due()
    [card] = _pushed_join_checks(chat)
    assert texts.JOIN_CHECK_UNAVAILABLE in json.dumps(card, ensure_ascii=False)
    cms.simulator.clear_faults()
    [again] = await chat.click(NURSE, card, texts.JOIN_CHECK_AGAIN)
    assert texts.JOIN_CHECK_NOBODY.format(expected=1) in json.dumps(again.card, ensure_ascii=False)


@pytest.mark.parametrize(("back_at", "sent"), [(START + timedelta(minutes=40), True),
                                               (START + timedelta(hours=2), False)])
async def test_after_a_stop_it_is_sent_while_the_meeting_is_on_and_not_after(chat, services, clock, back_at, sent):
    await create_room(chat)
    clock.set(back_at)  # the bot was stopped over the check's time
    await services.reminders.run_due()
    assert len(_pushed_join_checks(chat)) == int(sent)
    async with services.sessions() as session:
        states = set(await session.scalars(select(Reminder.state).where(Reminder.kind == "join_check")))
    assert states == ({"sent"} if sent else {"skipped"})


async def test_lista_shows_how_many_are_in_a_meeting_in_progress(chat, services, clock, cms):
    await create_room(chat)
    [space] = cms.simulator.snapshot()
    listed = last_card(await chat.say(NURSE, "/distansmöte lista"))
    assert texts.JOINED_NOW not in json.dumps(listed, ensure_ascii=False)  # not begun: nothing to count
    cms.simulator.join(space["id"], "browser")
    cms.simulator.join(space["id"], "video")
    clock.set(START + timedelta(minutes=10))
    listed = last_card(await chat.say(NURSE, "/distansmöte lista"))
    assert _facts(listed)[texts.JOINED_NOW] == "2"


async def test_a_cms_that_hangs_gives_the_check_that_says_it_cannot_see(chat, services, clock, cms):
    await create_room(chat)
    clock.set(CHECK_AT)
    cms.simulator.hang(on="GET calls")
    try:
        await services.reminders.run_due()  # within Joins.LOOK_SECONDS (5 s), not the CMS client's retries
    finally:
        cms.simulator.release()
    [card] = _pushed_join_checks(chat)
    assert texts.JOIN_CHECK_UNAVAILABLE in json.dumps(card, ensure_ascii=False)
