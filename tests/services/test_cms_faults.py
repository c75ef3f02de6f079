"""CMS faults at each step of creating and deleting a room: 401, 503, no answer in time, an
answer after the timeout, malformed XML. Whatever the fault, the person is told the truth and,
after the next pass and the sweep, the books and the CMS agree (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Services
from bot.services.meetings import (
    CDR_TAG_PREFIX,
    CREATION_GRACE,
    CREATION_LEASE,
    DELETION_GRACE,
    DOUBT_BOUND,
    LIVE_STATES,
    DeletionFinished,
    MeetingError,
    Person,
)
from bot.services.reconciler import GRACE, reconcile
from bot.store.schema import Meeting, RoomCreation
from tests.services.test_meetings import NURSE, TIMES, _open

TIMEOUT = 0.2
CREATE_STEPS = ("POST coSpaces", "GET coSpaces/.+")  # make the room, read its secret back
DELETE_STEPS = ("GET calls", "DELETE calls/.+", "DELETE coSpaces/.+")  # is a call on, end it, delete
FAULTS = ("401", "503", "no_answer", "late_answer", "malformed_xml")
ADMIN = Person(key="memory:admin-1", name="Ada", is_admin=True)


def _inject(simulator: Any, fault: str, step: str) -> None:
    match fault:
        case "401" | "503":
            simulator.fail_next(int(fault), count=1000, on=step)
        case "no_answer":  # held: carried out only when the CMS recovers, long after the timeout
            simulator.hang(on=step)
        case "late_answer":  # carried out, answered after the client gave up
            simulator.answer_late(TIMEOUT * 3, count=1000, on=step)
        case "malformed_xml":
            simulator.raw_next(b'<?xml version="1.0"?><coSpace><name>HC', on=step)


async def _agree(services: Any, cms: Any) -> None:
    """The bot's rooms on the CMS are exactly its live meetings' rooms; no creation is half done."""
    async with services.sessions() as session:
        live = set(await session.scalars(select(Meeting.space_id).where(Meeting.state.in_(LIVE_STATES))))
        creations = set(await session.scalars(select(RoomCreation.state)))
    ours = {s["id"] for s in cms.simulator.snapshot() if (s["cdrTag"] or "").startswith(CDR_TAG_PREFIX)}
    assert ours == live
    assert creations <= {"created", "abandoned"}


async def _settle_everything(services: Any, cms: Any, clock: Any) -> None:
    """The CMS is well again; the next pass (after the leases) and the sweep (after an hour) run."""
    cms.simulator.clear_faults()
    await cms.simulator.settled()  # what it held is carried out now
    # Past the leases, and past the bound within which a create left unanswered may still appear.
    clock.advance(max(CREATION_LEASE + CREATION_GRACE, DOUBT_BOUND) + timedelta(seconds=1))
    await services.meetings.finish_interrupted()
    clock.advance(GRACE + timedelta(minutes=1))
    await reconcile(services.cms, services.sessions, clock)


@pytest.fixture
async def services(cms, database_url, clock) -> AsyncIterator[Services]:
    """Services whose CMS client gives up after TIMEOUT; whatever the CMS still holds is let go at the end."""
    opened = await _open(cms, database_url, clock, timeout=TIMEOUT, retry_for=0.3)
    try:
        yield opened
    finally:
        cms.simulator.release()
        await opened.close()


async def _create_meeting(services: Services) -> Meeting:
    return await services.meetings.create(platform="memory", creator=NURSE, unit="HC Torsås", times=TIMES,
                                          request_id="card")


@pytest.mark.parametrize("step", CREATE_STEPS)
@pytest.mark.parametrize("fault", FAULTS)
async def test_a_fault_while_creating_gets_a_true_answer_and_leaves_nothing_behind(
        services, cms, clock, fault, step):
    _inject(cms.simulator, fault, step)
    try:
        meeting = await _create_meeting(services)
    except MeetingError as refused:
        code = refused.code
        ours = [s for s in cms.simulator.snapshot() if s["cdrTag"]]
        if code in ("room_service_unavailable", "room_service_down"):
            assert ours == []  # "no room was made" is true
        else:
            assert code == "room_pending"  # the CMS could not tell: the bot does not claim to know
    else:  # "the room is made" is true
        assert meeting.space_id in cms.simulator.spaces
    await _settle_everything(services, cms, clock)
    await _agree(services, cms)


@pytest.mark.parametrize("step", DELETE_STEPS)
@pytest.mark.parametrize("fault", FAULTS)
async def test_a_fault_while_deleting_gets_a_true_answer_and_a_retry_finishes_it(services, cms, clock, fault, step):
    meeting = await _create_meeting(services)
    cms.simulator.add_call(meeting.space_id)  # so that every step is taken: a call to end
    _inject(cms.simulator, fault, step)
    try:
        await services.meetings.delete(meeting.id, ADMIN, end_calls=True)
    except MeetingError as refused:
        assert refused.code in ("room_service_unavailable", "room_service_down")
        async with services.sessions() as session:
            assert (await session.get(Meeting, meeting.id)).state in LIVE_STATES  # not recorded deleted
        cms.simulator.clear_faults()
        await services.meetings.delete(meeting.id, ADMIN, end_calls=True)  # asked again: done
    assert meeting.space_id not in cms.simulator.spaces and cms.simulator.calls == {}
    await _settle_everything(services, cms, clock)
    await _agree(services, cms)


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_delete_the_cms_may_have_carried_out_is_finished_by_the_pass_and_a_refused_one_is_not(
        services, cms, clock, fault):
    meeting = await _create_meeting(services)
    _inject(cms.simulator, fault, "DELETE coSpaces/.+")
    with pytest.raises(MeetingError):
        await services.meetings.delete(meeting.id, ADMIN)
    cms.simulator.clear_faults()
    await cms.simulator.settled()
    clock.advance(DELETION_GRACE + timedelta(seconds=1))
    finished = await services.meetings.finish_interrupted_deletions()
    async with services.sessions() as session:
        state = (await session.get(Meeting, meeting.id)).state
    if fault == "401":  # refused: the room is still there, and so is the meeting
        assert (finished, state) == ([], meeting.state) and meeting.space_id in cms.simulator.spaces
    else:  # busy, unanswered or unreadable: it may have happened, so the pass finishes it
        assert finished == [DeletionFinished("memory", ADMIN.key, meeting.room_name)]
        assert state == "deleted" and meeting.space_id not in cms.simulator.spaces
    await _agree(services, cms)
