"""The whole routine through the in-memory platform, the real handlers and the CMS simulator."""

from __future__ import annotations

from bot.core import Actor
from cards import texts
from cards.meeting import grouped
from tests.harness import Chat, last_card, submission
from tests.store.rows import audit_trail

NURSE = Actor(id="nurse-1", name="Nina Sjuksköterska", email="nina@region.example")
COLLEAGUE = Actor(id="nurse-2", name="Kalle Kollega", email="kalle@region.example")
ADMIN = Actor(id="admin-1", name="Ada Admin", email="ada@region.example")


async def create_room(chat: Chat, actor: Actor = NURSE, unit: str = "HC Torsås", **fields: str):
    card = last_card(await chat.say(actor, "/distansmöte ny"))
    values = {"unit": unit, "date": "2026-11-26", "start": "13:30", "length": "60", **fields}
    return await chat.click(actor, card, texts.CREATE_ROOM, **values)


async def test_full_routine_from_new_to_deleted_room(chat, services, cms):
    replies = await create_room(chat)
    assert [r.direct for r in replies] == [True, True]
    room_card, invitation = replies[0].card, replies[1].text
    assert room_card is not None
    [space] = cms.simulator.snapshot()
    assert space["name"] == "HC Torsås 1"
    assert space["uri"] == "hc.torsas.1"
    assert "hc.torsas.1@video.region.example" in invitation
    assert f"Samtals-ID: {grouped(space['callId'])}" in invitation
    assert "0480 44 55 11" in invitation
    assert texts.MUNICIPALITY_NEEDS not in invitation  # staff guidance stays beside the pasted text
    assert texts.MUNICIPALITY_NEEDS in str(room_card)
    assert "https://join.region.example/meeting/" + space["callId"] + "?secret=" in invitation

    room_card = last_card(await chat.click(NURSE, room_card, texts.ADD_RECIPIENT,
                                           label="Kommunen – hemtjänsten", channel="messenger"))
    room_card = last_card(await chat.click(NURSE, room_card, texts.MARK_SENT))
    room_card = last_card(await chat.click(NURSE, room_card, texts.MARK_CONFIRMED))
    [recipient] = [f for f in _facts(room_card) if f["title"] == "Kommunen – hemtjänsten"]
    assert recipient["value"].startswith("Cosmic Messenger – bekräftat")

    question = last_card(await chat.click(NURSE, room_card, texts.DELETE_ROOM))
    done = await chat.click(NURSE, question, texts.DELETE_YES)
    assert done[0].text == texts.DELETED_TEXT.format(room="HC Torsås 1")
    assert cms.simulator.snapshot() == []

    meeting_id = submission(room_card, texts.DELETE_ROOM)["meeting_id"]
    trail = [r.action for r in await audit_trail(services, meeting_id)]
    assert trail == ["created", "recipient_added", "recipient_sent", "recipient_confirmed", "deleting",
                     "deleted"]


def _facts(card: dict) -> list[dict]:
    return [fact for element in card["body"] if element["type"] == "FactSet" for fact in element["facts"]]
