"""The room in the staff member's own Cisco Meeting: a room its owner deleted there is noticed by the
daily sweep, recorded so, its reminders stopped and its creator told once."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import CISCO_MEETING_RULE, Meeting, Reminder
from cards import texts
from tests.conftest import run_pass
from tests.handlers.test_routine import NURSE, create_room
from tests.store import audit_trail


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
