"""A change made under an event's key (its operation) is made once, however often the event
runs: an event whose earlier run died before it was marked handled runs again (``bot.dispatcher``),
and each step of the routine finds what that run made. The same card clicked again (a new event)
is still refused."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from bot.services.meetings import MeetingError
from bot.store.schema import AuditRecord, Channel, MeetingState
from tests.services.test_meetings import NURSE, TIMES, _open


async def test_each_step_run_again_under_its_operation_is_made_once(cms, database_url, clock) -> None:
    services = await _open(cms, database_url, clock)
    meetings = services.meetings

    async def refused(code: str, step) -> None:
        with pytest.raises(MeetingError) as refusal:
            await step
        assert refusal.value.code == code

    def create(operation: str):
        return meetings.create(platform="memory", creator=NURSE, unit="HC Torsås", times=TIMES, request_id="card-1",
                               operation=operation)

    try:
        meeting = await create("memory:create")
        assert (await create("memory:create")).id == meeting.id
        await refused("already_created", create("memory:click-again"))

        def add(operation: str):
            return meetings.add_recipient(meeting.id, NURSE, "Kommunen", Channel.MESSENGER, operation=operation)

        await add("memory:add")
        [recipient] = (await add("memory:add")).recipients
        await refused("recipient_exists", add("memory:add-again"))

        for step, operation, code in ((meetings.mark_sent, "memory:sent", "already_sent"),
                                      (meetings.mark_confirmed, "memory:confirmed", "already_confirmed")):
            await step(meeting.id, NURSE, recipient.id, operation=operation)
            await step(meeting.id, NURSE, recipient.id, operation=operation)
            await refused(code, step(meeting.id, NURSE, recipient.id, operation=operation + "-again"))

        await meetings.delete(meeting.id, NURSE, operation="memory:delete")
        assert (await meetings.delete(meeting.id, NURSE, operation="memory:delete")).state == MeetingState.DELETED
        await refused("already_deleted", meetings.delete(meeting.id, NURSE, operation="memory:delete-again"))

        async with services.sessions() as session:
            actions = Counter(await session.scalars(select(AuditRecord.action)))
    finally:
        await services.close()
    assert actions == {"created": 1, "recipient_added": 1, "recipient_sent": 1, "recipient_confirmed": 1,
                       "deleting": 1, "deleted": 1}
    assert cms.simulator.requests.count("POST /api/v1/coSpaces") == 1
    assert cms.simulator.snapshot() == []


async def test_a_deletion_whose_process_died_at_the_cms_is_finished_by_its_event_run_again(
        cms, database_url, clock) -> None:
    services = await _open(cms, database_url, clock, timeout=0.3, max_attempts=1)
    meetings = services.meetings
    try:
        meeting = await meetings.create(platform="memory", creator=NURSE, unit="HC Torsås", times=TIMES,
                                        request_id="card-1", operation="memory:create")
        cms.simulator.hang(on="DELETE coSpaces/.+")  # the CMS deletes the room and never answers
        with pytest.raises(MeetingError):  # the process would die here; its event runs again
            await meetings.delete(meeting.id, NURSE, operation="memory:delete")
        cms.simulator.release()
        await cms.simulator.settled()
        gone = await meetings.delete(meeting.id, NURSE, operation="memory:delete")
        async with services.sessions() as session:
            actions = list(await session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
    finally:
        await services.close()
    assert gone.state == MeetingState.DELETED and cms.simulator.snapshot() == []
    assert actions == ["created", "deleting", "deleted"]  # the calls were not asked about again
