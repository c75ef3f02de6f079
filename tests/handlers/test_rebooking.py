"""Fler val on the room card, clicked in the in-memory chat: move, cancel and hand over a meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.store.schema import Reminder
from cards import texts
from tests.handlers.test_routine import ADMIN, COLLEAGUE, NURSE, create_room
from tests.harness import Chat, last_card, submission
from tests.store.rows import audit_trail

# create_room books 2026-11-26 13:30–14:30 in Stockholm (12:30–13:30 UTC); the clock is at 2026-11-25 09:00.
WAS = "torsdag 2026-11-26 kl. 13.30–14.30"


async def _with_recipients(chat: Chat) -> dict:
    """A room told through Cosmic Messenger (confirmed) and by telephone, with one Link recipient not yet told."""
    card = last_card(await create_room(chat))
    card = last_card(await chat.click(NURSE, card, texts.ADD_RECIPIENT, label="Kommunen – hemtjänsten",
                                      channel="messenger"))
    card = last_card(await chat.click(NURSE, card, texts.MARK_SENT))
    card = last_card(await chat.click(NURSE, card, texts.MARK_CONFIRMED))
    card = last_card(await chat.click(NURSE, card, texts.ADD_RECIPIENT, label="Biståndshandläggare", channel="phone"))
    phone = next(c["value"] for c in _choices(card, "recipient_id") if c["title"] == "Biståndshandläggare")
    card = last_card(await chat.click(NURSE, card, texts.MARK_SENT, recipient_id=phone))
    return last_card(await chat.click(NURSE, card, texts.ADD_RECIPIENT, label="Vårdcentralen", channel="link"))


def _choices(card: dict, input_id: str) -> list[dict]:
    return next(e for e in card["body"] if e.get("id") == input_id)["choices"]


def _statuses(card: dict) -> dict[str, str]:
    return {f["title"]: f["value"] for e in card["body"] if e["type"] == "FactSet" for f in e["facts"]}


async def _reminders(services) -> dict[str, list[tuple[str, datetime]]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(Reminder).order_by(Reminder.due_at))
        found: dict[str, list[tuple[str, datetime]]] = {}
        for row in rows:
            found.setdefault(row.state, []).append((row.kind, row.due_at))
        return found


async def test_moving_a_meeting_plans_it_again_and_asks_for_a_new_word_to_everyone_told(chat, services, clock, cms):
    card = await _with_recipients(chat)
    more = last_card(await chat.click(NURSE, card, texts.MORE))
    assert more["body"][0]["text"] == texts.MORE_TITLE.format(room="HC Torsås 1")
    moved, invitation = await chat.click(NURSE, more, texts.MOVE, date="2026-11-27", start="10:00", length="45")

    assert moved.replaces_card and texts.MOVED_NOTE.format(was=WAS) in str(moved.card)
    assert invitation.text.startswith(texts.MOVED_INVITATION_LEAD.format(was=WAS))
    assert "fredag 2026-11-27 kl. 10.00–10.45" in invitation.text
    statuses = _statuses(moved.card)
    assert statuses["Kommunen – hemtjänsten"] == f"Cosmic Messenger – {texts.NEEDS_NEW_WORD}"
    assert statuses["Biståndshandläggare"] == f"Telefon – {texts.NEEDS_NEW_WORD}"
    assert statuses["Vårdcentralen"] == f"Cosmic Link – {texts.NOT_SENT}"  # never told: nothing to take back
    assert [s["name"] for s in cms.simulator.snapshot()] == ["HC Torsås 1"]  # the same room

    new_end = datetime(2026, 11, 27, 9, 45, tzinfo=UTC)
    planned = dict((await _reminders(services))["pending"])
    assert planned["auto_delete"] == new_end + timedelta(hours=services.settings.auto_delete_after_hours)
    assert planned["start"] < datetime(2026, 11, 27, 9, 0, tzinfo=UTC) < planned["cleanup"]
    assert {kind for kind, _ in (await _reminders(services))["cancelled"]} >= {"start", "cleanup", "auto_delete"}

    told_again = last_card(await chat.click(NURSE, moved.card, texts.MARK_SENT))
    assert _statuses(told_again)["Kommunen – hemtjänsten"].startswith("Cosmic Messenger – skickat")
    meeting_id = submission(card, texts.MORE)["meeting_id"]
    assert [r.action for r in await audit_trail(services, meeting_id)][-2:] == ["moved", "recipient_sent"]

    chat.pushed.clear()
    clock.set(datetime(2026, 11, 26, 13, 40, tzinfo=UTC))  # after the old time: nothing is said
    await services.reminders.run_due()
    assert chat.pushed == []
    clock.set(new_end + timedelta(minutes=10))  # after the new end: the cleanup prompt
    await services.reminders.run_due()
    assert [sent.to for sent in chat.pushed] == [NURSE.id]



async def test_a_move_to_the_same_time_the_past_or_by_someone_else_is_refused(chat, services):
    card = last_card(await create_room(chat))
    more = last_card(await chat.click(NURSE, card, texts.MORE))
    [same] = await chat.click(NURSE, more, texts.MOVE)  # the card holds the meeting's own time
    assert same.text == texts.ERRORS["same_time"]
    [past] = await chat.click(NURSE, more, texts.MOVE, date="2026-11-24")
    assert past.text == texts.ERRORS["in_the_past"]
    [other] = await chat.click(COLLEAGUE, more, texts.MOVE, date="2026-11-27")
    assert other.text == texts.ERRORS["not_allowed"]
    meeting_id = submission(card, texts.MORE)["meeting_id"]
    assert "moved" not in [r.action for r in await audit_trail(services, meeting_id)]


async def test_cancelling_deletes_the_room_and_lists_whom_to_tell_with_a_text_for_each_channel(chat, services, cms):
    card = await _with_recipients(chat)
    more = last_card(await chat.click(NURSE, card, texts.MORE))
    question = last_card(await chat.click(NURSE, more, texts.CANCEL_MEETING))
    assert question["body"][0]["text"] == texts.CANCEL_CONFIRM_TITLE.format(room="HC Torsås 1")
    [kept] = await chat.click(NURSE, question, texts.CANCEL_NO)
    assert kept.text == texts.CANCEL_KEPT.format(room="HC Torsås 1")
    assert cms.simulator.snapshot() != []

    done, message = await chat.click(NURSE, question, texts.CANCEL_YES)
    assert done.text == texts.CANCELLED_TITLE and done.replaces_card
    tell = _statuses(done.card)
    assert tell == {"Kommunen – hemtjänsten": "Cosmic Messenger", "Biståndshandläggare": "Telefon"}
    assert "torsdag 26 november 2026 klockan 13.30 är inställt" in str(done.card)  # read aloud
    assert message.text.startswith("INSTÄLLT: Distansmötet torsdag 2026-11-26 kl. 13.30–14.30 är inställt.")
    assert cms.simulator.snapshot() == []
    assert "pending" not in await _reminders(services)

    meeting_id = submission(card, texts.MORE)["meeting_id"]
    [deleted] = [r for r in await audit_trail(services, meeting_id) if r.action == "deleted"]
    assert deleted.detail == "cancelled"
    [row] = await services.reports.rooms()
    assert (row.cancelled, row.state) == (True, "creator")


async def test_a_meeting_nobody_was_told_of_is_cancelled_with_nobody_to_tell(chat):
    card = last_card(await create_room(chat))
    question = last_card(await chat.click(NURSE, last_card(await chat.click(NURSE, card, texts.MORE)),
                                          texts.CANCEL_MEETING))
    [done] = await chat.click(NURSE, question, texts.CANCEL_YES)
    assert texts.CANCELLED_NOBODY in str(done.card)


async def test_handing_over_gives_the_colleague_the_card_the_reminders_and_the_deletion(chat, services, clock):
    await chat.say(COLLEAGUE, "/distansmöte hjälp")  # the bot can reach him: he has written to it
    card = last_card(await create_room(chat))
    more = last_card(await chat.click(NURSE, card, texts.MORE))
    [unknown] = await chat.click(NURSE, more, texts.FIND_COLLEAGUE, colleague="Okänd Person")
    assert unknown.text == texts.ERRORS["no_colleague_found"]
    [empty] = await chat.click(NURSE, more, texts.FIND_COLLEAGUE)
    assert empty.text == texts.ERRORS["colleague_missing"]
    [by_address] = await chat.click(NURSE, more, texts.FIND_COLLEAGUE, colleague="KALLE@region.example")
    assert [c["title"] for c in _choices(by_address.card, "to")] == ["Kalle Kollega"]
    question = last_card(await chat.click(NURSE, more, texts.FIND_COLLEAGUE, colleague="kalle"))
    assert [c["title"] for c in _choices(question, "to")] == ["Kalle Kollega"]  # not the creator herself

    chat.pushed.clear()
    [done] = await chat.click(NURSE, question, texts.HAND_OVER)
    assert done.text == texts.HANDED_OVER_TEXT.format(name="Kalle Kollega", room="HC Torsås 1")
    [given] = chat.pushed
    assert given.to == COLLEAGUE.id
    assert "Nina Sjuksköterska har lämnat över mötesrummet till dig" in str(given.reply.card)

    [refused] = await chat.click(NURSE, card, texts.MORE)
    assert refused.text == texts.ERRORS["not_allowed"]
    chat.pushed.clear()
    clock.set(datetime(2026, 11, 26, 13, 40, tzinfo=UTC))  # the cleanup prompt goes to the new holder
    await services.reminders.run_due()
    assert {sent.to for sent in chat.pushed} == {COLLEAGUE.id}
    question = last_card(await chat.click(COLLEAGUE, given.reply.card, texts.DELETE_ROOM))
    [deleted] = await chat.click(COLLEAGUE, question, texts.DELETE_YES)
    assert deleted.text == texts.DELETED_TEXT.format(room="HC Torsås 1")
    [row] = await services.reports.rooms()
    assert row.state == "creator"  # deleted by the one who holds the room now
    meeting_id = submission(card, texts.MORE)["meeting_id"]
    assert "handed_over" in [r.action for r in await audit_trail(services, meeting_id)]


async def test_an_admin_hands_over_a_room_whose_creator_is_away_and_the_creator_is_told(chat):
    await chat.say(COLLEAGUE, "/distansmöte hjälp")
    card = last_card(await create_room(chat))
    more = last_card(await chat.click(ADMIN, card, texts.MORE))
    question = last_card(await chat.click(ADMIN, more, texts.FIND_COLLEAGUE, colleague="Kalle"))
    chat.pushed.clear()
    [done] = await chat.click(ADMIN, question, texts.HAND_OVER)
    assert done.text == texts.HANDED_OVER_TEXT.format(name="Kalle Kollega", room="HC Torsås 1")
    told = {sent.to: sent.reply for sent in chat.pushed}
    assert set(told) == {COLLEAGUE.id, NURSE.id}
    assert told[NURSE.id].text == texts.HANDED_AWAY_TEXT.format(name="Kalle Kollega")
    [again] = await chat.click(ADMIN, last_card(await chat.click(ADMIN, card, texts.MORE)), texts.FIND_COLLEAGUE,
                               colleague="Kalle")
    assert again.text == texts.ERRORS["no_colleague_found"]  # he holds it already: nobody else is called Kalle


async def test_a_room_card_from_before_a_move_cannot_mark_anyone_told(chat):
    card = await _with_recipients(chat)
    more = last_card(await chat.click(NURSE, card, texts.MORE))
    moved, _ = await chat.click(NURSE, more, texts.MOVE, date="2026-11-27")
    [stale] = await chat.click(NURSE, card, texts.MARK_SENT)  # the old card still shows Thursday
    assert stale.text == texts.ERRORS["card_out_of_date"]
    assert _statuses(last_card(await chat.click(NURSE, moved.card, texts.MARK_SENT)))[
        "Kommunen – hemtjänsten"].startswith("Cosmic Messenger – skickat")
