"""Commands as people type them, in 1:1 and in group spaces."""

from __future__ import annotations

import pytest

from bot.core.inbound import parse_command
from cards import texts
from cards.meeting import grouped
from tests.handlers.test_routine import ADMIN, COLLEAGUE, NURSE, create_room
from tests.harness import last_card


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/distansmöte ny", ("ny", "")),
        ("distansmote NY", ("ny", "")),
        ("  /Distansmöte    ny  ", ("ny", "")),
        ("/DISTANSMOTE hjälp", ("hjalp", "")),
        ("ny", ("ny", "")),
        ("/distansmöte ta bort HC Torsås 9", ("ta bort", "HC Torsås 9")),
        ("distansmöte Ta  Bort  HC Torsås 9", ("ta bort", "HC Torsås 9")),
        ("/distansmöte", ("", "")),
    ],
)
def test_command_parsing_is_forgiving(typed, expected):
    assert parse_command(typed) == expected


async def test_new_meeting_card_is_prefilled_with_the_last_unit(chat):
    await create_room(chat, unit="Avd 12 Medicin")
    card = last_card(await chat.say(NURSE, "distansmote ny"))
    unit_input = next(e for e in card["body"] if e.get("id") == "unit")
    assert unit_input["value"] == "Avd 12 Medicin"


async def test_in_a_group_space_only_a_short_answer_is_posted_there(chat, cms):
    replies = await chat.say(NURSE, "/distansmöte ny", room="group-ward-12")
    assert [r.direct for r in replies] == [False, True]
    assert replies[0].text == texts.MOVED_TO_DIRECT and replies[0].card is None
    await chat.click(NURSE, last_card(replies), texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-26")
    await chat.say(NURSE, "/distansmöte lista", room="group-ward-12")
    [space] = cms.simulator.snapshot()
    in_group = [s.reply for s in chat.sent if s.where == "group-ward-12"]
    assert in_group and all(r.card is None and r.text == texts.MOVED_TO_DIRECT for r in in_group)
    assert any(grouped(space["callId"]) in s.reply.text for s in chat.sent if s.where == "direct")


async def test_list_shows_only_the_persons_live_rooms(chat):
    await create_room(chat, unit="HC Torsås")
    await create_room(chat, actor=COLLEAGUE, unit="HC Emmaboda")
    card = last_card(await chat.say(NURSE, "/distansmöte lista"))
    headings = [e["text"] for e in card["body"] if e.get("weight") == "Bolder" and e.get("size") != "Large"]
    assert headings == ["HC Torsås 1"]
    empty = last_card(await chat.say(ADMIN, "/distansmöte lista"))
    assert empty["body"][1]["text"] == texts.LIST_EMPTY


async def test_delete_by_room_name_asks_first_and_warns_about_an_active_call(chat, cms):
    await create_room(chat)
    [space] = cms.simulator.snapshot()
    cms.simulator.add_call(space["id"])
    question = last_card(await chat.say(NURSE, "/distansmöte ta bort hc torsås 1"))
    assert any(e.get("text") == texts.DELETE_CALL_ACTIVE for e in question["body"])
    await chat.click(NURSE, question, texts.DELETE_YES_END_CALL)
    assert cms.simulator.snapshot() == []
    assert cms.simulator.calls == {}


async def test_admin_may_delete_someone_elses_room_and_see_status(chat, cms):
    await create_room(chat)
    question = last_card(await chat.say(ADMIN, "/distansmöte ta bort HC Torsås 1"))
    await chat.click(ADMIN, question, texts.DELETE_YES)
    assert cms.simulator.snapshot() == []
    [told] = [sent for sent in chat.pushed if sent.to == NURSE.id]  # the creator learns of it, once
    assert told.reply.text == texts.DELETED_BY_ADMIN_TITLE.format(room="HC Torsås 1")
    await chat.click(ADMIN, question, texts.DELETE_YES)  # clicked twice: already gone, not said again
    assert len([sent for sent in chat.pushed if sent.to == NURSE.id]) == 1
    status = last_card(await chat.say(ADMIN, "/distansmöte status"))
    assert status["body"][0]["text"] == texts.STATUS_TITLE
    refused = await chat.say(NURSE, "/distansmöte status")
    assert refused[0].text == texts.ADMIN_ONLY


async def test_unknown_command_gets_the_help_card(chat):
    card = last_card(await chat.say(NURSE, "/distansmöte boka lunch"))
    assert card["body"][0]["text"] == texts.HELP_TITLE
    assert card["body"][1]["text"] == texts.UNKNOWN_COMMAND


async def test_help_tells_how_to_join_by_video_browser_and_phone(chat):
    card = last_card(await chat.say(NURSE, "/distansmöte hjälp"))
    shown = " ".join(e.get("text", "") for e in card["body"])
    for part in (texts.HELP_VIDEO_TITLE, texts.HELP_BROWSER_TITLE, texts.HELP_PHONE_TITLE, "0480 44 55 11"):
        assert part in shown
