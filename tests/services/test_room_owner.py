"""The room in the staff member's own Cisco Meeting: created with the creator's CMS user as its
owner (found by their address), or without one and the creator told once; a room its owner deleted
there is noticed by the daily sweep, recorded so, its reminders stopped and its creator told once."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.schema import CISCO_MEETING_RULE, Meeting, Reminder
from cards import texts
from tests.conftest import make_settings, open_with_chat, run_pass
from tests.handlers.test_routine import ADMIN, COLLEAGUE, NURSE, create_room
from tests.harness import last_card
from tests.store.rows import audit_trail


async def test_a_room_deleted_in_cisco_meeting_is_noticed_by_the_sweep_and_its_reminders_stop(chat, services,
                                                                                               cms):
    await create_room(chat)
    await create_room(chat, unit="Avd 12")
    torsas, avd = cms.simulator.snapshot()
    cms.simulator.delete_as_owner(torsas["id"])

    for _ in range(2):  # the pass run again says nothing twice
        await run_pass(services, "sweep")
    async with services.sessions() as session:
        meetings = {m.room_name: m for m in await session.scalars(select(Meeting))}
        pending = set(await session.scalars(select(Reminder.kind).where(
            Reminder.meeting_id == meetings["HC Torsås 1"].id, Reminder.state == "pending")))
    gone, kept = meetings["HC Torsås 1"], meetings["Avd 12 1"]
    assert (gone.state, gone.deleted_by) == ("deleted", CISCO_MEETING_RULE)
    assert kept.state != "deleted" and avd["id"] in cms.simulator.spaces
    assert pending == set()  # reminders and the automatic deletion stopped
    assert [sent.reply.text for sent in chat.pushed if sent.to == NURSE.id] == [
        texts.DELETED_IN_CISCO_MEETING_TITLE.format(room="HC Torsås 1")]
    assert ("system", "deleted") in [(a.actor, a.action) for a in await audit_trail(services, gone.id)]

    rooms = {room.room_name: room.state for room in await services.reports.rooms()}
    assert rooms == {"HC Torsås 1": "cisco_meeting", "Avd 12 1": "live"}
    [torsas_unit] = [u for u in (await services.reports.report()).units if u.unit == "HC Torsås"]
    assert torsas_unit.deleted_by_creator == 1


async def test_a_room_is_owned_by_the_creators_cms_user_and_one_without_a_user_is_told_once(cms, database_url,
                                                                                           clock):
    cms.simulator.add_user("nina.s@region.example", "nina@region.example", "Nina Sjuksköterska")
    services, chat = await open_with_chat(make_settings(cms, database_url, cms_room_owner="email"), clock)
    try:
        room_card = (await create_room(chat))[0].card
        assert texts.ROOM_IN_CISCO_MEETING in str(room_card)
        [space] = cms.simulator.snapshot()
        assert cms.simulator.spaces[space["id"]]["ownerJid"] == "nina.s@region.example"
        async with services.sessions() as session:
            assert await session.scalar(select(Meeting.owner_jid)) == "nina.s@region.example"
        assert [sent for sent in chat.pushed if sent.to == NURSE.id] == []  # nothing to say

        for unit in ("HC Torsås", "Avd 12"):  # Kalle has no Cisco Meeting user: rooms as before, told once
            assert texts.ROOM_IN_CISCO_MEETING not in str((await create_room(chat, COLLEAGUE, unit=unit))[0].card)
        kalles = [s for s in cms.simulator.spaces.values() if s["name"] != "HC Torsås 1"]
        assert len(kalles) == 2 and all("ownerJid" not in space for space in kalles)
        assert [sent.reply.text for sent in chat.pushed if sent.to == COLLEAGUE.id] == [texts.NO_CMS_USER_TITLE]
    finally:
        await services.close()


async def test_a_cms_that_cannot_say_who_the_owner_is_makes_the_room_without_one_and_says_nothing(
        cms, database_url, clock):
    services, chat = await open_with_chat(make_settings(cms, database_url, cms_room_owner="email"), clock)
    try:
        cms.simulator.fail_next(503, count=20, on="GET users")
        assert (await create_room(chat))[0].card is not None  # the room all the same
        [space] = cms.simulator.snapshot()
        assert "ownerJid" not in cms.simulator.spaces[space["id"]]
        assert [sent for sent in chat.pushed if sent.to == NURSE.id] == []  # not told "no user": unknown
    finally:
        await services.close()


async def test_a_room_handed_over_moves_to_the_colleagues_cisco_meeting_or_to_nobody(cms, database_url, clock):
    cms.simulator.add_user("nina.s@region.example", "nina@region.example", "Nina Sjuksköterska")
    cms.simulator.add_user("kalle.k@region.example", "kalle@region.example", "Kalle Kollega")
    services, chat = await open_with_chat(make_settings(cms, database_url, cms_room_owner="email"), clock)
    try:
        await chat.say(COLLEAGUE, "/distansmöte hjälp")
        room_card = last_card(await create_room(chat))
        [space] = cms.simulator.snapshot()

        cms.simulator.fail_next(503, count=5, on="GET users")  # the CMS cannot say who he is: nothing changes
        more = last_card(await chat.click(NURSE, room_card, texts.MORE))
        question = last_card(await chat.click(NURSE, more, texts.FIND_COLLEAGUE, colleague="Kalle"))
        [refused] = await chat.click(NURSE, question, texts.HAND_OVER)
        assert refused.text == texts.ERRORS["room_service_unavailable"]
        assert cms.simulator.spaces[space["id"]]["ownerJid"] == "nina.s@region.example"
        cms.simulator.fail_next(503, count=5, on="PUT coSpaces/.*")  # nor can it give him the room
        [refused] = await chat.click(NURSE, question, texts.HAND_OVER)
        assert refused.text == texts.ERRORS["room_service_unavailable"]
        assert [sent for sent in chat.pushed if sent.to == COLLEAGUE.id] == []  # still Nina's

        await chat.click(NURSE, question, texts.HAND_OVER)
        assert cms.simulator.spaces[space["id"]]["ownerJid"] == "kalle.k@region.example"
        [given] = [sent.reply.card for sent in chat.pushed if sent.to == COLLEAGUE.id]
        assert texts.ROOM_IN_CISCO_MEETING in str(given)  # his now

        await chat.say(ADMIN, "/distansmöte hjälp")  # Ada has no Cisco Meeting user: the room goes to nobody
        more = last_card(await chat.click(COLLEAGUE, given, texts.MORE))
        found = last_card(await chat.click(COLLEAGUE, more, texts.FIND_COLLEAGUE, colleague="Ada"))
        await chat.click(COLLEAGUE, found, texts.HAND_OVER)
        assert "ownerJid" not in cms.simulator.spaces[space["id"]]
    finally:
        await services.close()
