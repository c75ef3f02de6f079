"""Creating a room when the CMS answers late, not at all, or the process dies: the intent is
recorded first, and the room is adopted or the person told the truth (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import POLL_SECONDS
from bot.services.cms import CmsCrowded
from bot.services.cms_guard import CmsGuard
from bot.services.meetings import DOUBT_BOUND, MeetingError, MeetingService
from bot.services.validation import MeetingTimes
from bot.store.schema import Meeting, RoomCreation
from tests.services.test_meetings import NURSE, TIMES, _open
from tests.store.rows import audit_trail
from tests.waiting import eventually

POLL = timedelta(seconds=POLL_SECONDS)  # the pass's cadence


async def _create(services, request_id: str = "card-1", times=TIMES):
    return await services.meetings.create(platform="memory", creator=NURSE, unit="HC Torsås", times=times,
                                          request_id=request_id)


def _later(times: MeetingTimes, *, hours: int) -> MeetingTimes:
    """Another meeting's times: a second create for the same start is answered with the pending one."""
    return MeetingTimes(times.starts_at + timedelta(hours=hours), times.ends_at + timedelta(hours=hours))


async def _books(services) -> tuple[set[str], dict[str, str]]:
    """(space ids of recorded meetings, creation states by meeting id)."""
    async with services.sessions() as session:
        spaces = set(await session.scalars(select(Meeting.space_id)))
        states = dict((await session.execute(select(RoomCreation.meeting_id, RoomCreation.state))).all())
    return spaces, states


async def test_a_create_answered_after_the_timeout_is_adopted_and_the_person_gets_the_room(cms, database_url, clock):
    services = await _open(cms, database_url, clock, timeout=0.3)
    try:
        cms.simulator.answer_late(0.6, on="POST coSpaces")  # carried out, answered after the client gave up
        meeting = await _create(services)
        [space] = cms.simulator.snapshot()
        assert (meeting.space_id, meeting.room_name) == (space["id"], "HC Torsås 1")
        assert space["cdrTag"] == f"distansmote:{meeting.id}"
        assert await _books(services) == ({space["id"]}, {meeting.id: "created"})
        assert [a.action for a in await audit_trail(services, meeting.id)] == ["created"]
        clock.advance(POLL)
        assert await services.meetings.finish_interrupted() == []  # answered already: nothing to tell
    finally:
        await services.close()


async def test_a_room_the_cms_cannot_look_up_yet_stays_pending_and_a_later_pass_adopts_it(
        cms, database_url, clock):
    services = await _open(cms, database_url, clock, timeout=0.2, retry_for=0.1)
    try:
        cms.simulator.answer_late(1.0, on="POST coSpaces")
        cms.simulator.hang(on="GET coSpaces")  # and no look-up is answered in time
        with pytest.raises(MeetingError, match="room_pending"):
            await _create(services)
        clock.advance(POLL)
        assert await services.meetings.finish_interrupted() == []  # neither done nor given up
        assert len(cms.simulator.spaces) == 1  # it was made all the same
        cms.simulator.release()

        clock.advance(POLL)
        [finished] = await services.meetings.finish_interrupted()
        assert finished.meeting is not None and finished.refusal is None
        assert (finished.creator_id, finished.room_name) == (NURSE.key, "HC Torsås 1")
        assert await _books(services) == (set(cms.simulator.spaces), {finished.meeting.id: "created"})
        clock.advance(POLL)
        assert await services.meetings.finish_interrupted() == []  # once
        with pytest.raises(MeetingError, match="already_created"):
            await _create(services)  # the same card again: no second room
        assert len(cms.simulator.spaces) == 1
    finally:
        await services.close()


async def test_the_same_card_while_pending_finds_the_room_a_late_answer_made(cms, database_url, clock):
    services = await _open(cms, database_url, clock, timeout=0.2)
    try:
        cms.simulator.answer_late(0.4, on="POST coSpaces")
        cms.simulator.fail_next(503, count=1000, on="GET coSpaces")  # and the look-up cannot tell
        with pytest.raises(MeetingError, match="room_pending"):
            await _create(services)
        cms.simulator.clear_faults()
        await cms.simulator.settled()
        clock.advance(timedelta(seconds=1))
        meeting = await _create(services)  # clicked again: the late room is found, not a second one made
        assert set(cms.simulator.spaces) == {meeting.space_id}
        clock.advance(POLL)
        assert await services.meetings.finish_interrupted() == []  # answered on the click: nothing to tell
    finally:
        await services.close()


async def test_a_create_that_hangs_past_the_timeout_and_completes_ends_with_one_room(cms, database_url, clock):
    services = await _open(cms, database_url, clock, timeout=0.2, retry_for=0.1)
    try:
        cms.simulator.hang(on="POST coSpaces")
        with pytest.raises(MeetingError, match="room_pending"):
            await _create(services)
        with pytest.raises(MeetingError, match="room_pending"):
            await _create(services, "card-2")  # another card, the same unit and time: the pending one
        clock.advance(POLL)
        assert await services.meetings.finish_interrupted() == []  # not there yet: looked for again
        cms.simulator.release()
        await cms.simulator.settled()
        clock.advance(POLL)
        [finished] = await services.meetings.finish_interrupted()
        assert finished.meeting is not None
        assert await _books(services) == (set(cms.simulator.spaces), {finished.meeting.id: "created"})
        assert cms.simulator.requests.count("POST /api/v1/coSpaces") == 1
    finally:
        await services.close()


async def test_a_create_whose_room_never_appears_is_asked_again_after_the_bound_with_the_same_address(
        cms, database_url, clock):
    services = await _open(cms, database_url, clock, timeout=0.2)
    try:
        cms.simulator.fail_next(200, on="POST coSpaces")  # an answer without the room's id: not made
        with pytest.raises(MeetingError, match="room_pending"):
            await _create(services)
        clock.advance(POLL)
        assert await services.meetings.finish_interrupted() == []  # absent, but it may still appear
        clock.advance(DOUBT_BOUND)
        [finished] = await services.meetings.finish_interrupted()
        assert finished.meeting is not None and finished.meeting.room_name == "HC Torsås 1"
        assert cms.simulator.requests.count("POST /api/v1/coSpaces") == 2
        assert await _books(services) == ({finished.meeting.space_id}, {finished.meeting.id: "created"})
    finally:
        await services.close()


@pytest.mark.parametrize("status", [401, 400, 503])
async def test_a_refused_create_leaves_no_room_and_no_meeting(cms, database_url, clock, status):
    services = await _open(cms, database_url, clock)
    try:
        cms.simulator.fail_next(status, count=10, on="POST coSpaces")
        with pytest.raises(MeetingError, match="room_service_unavailable"):
            await _create(services)
        spaces, states = await _books(services)
        assert (cms.simulator.spaces, spaces, set(states.values())) == ({}, set(), {"abandoned"})
        cms.simulator.clear_faults()
        meeting = await _create(services)  # the same card, once the CMS is back
        assert await _books(services) == ({meeting.space_id}, {meeting.id: "created"})
    finally:
        await services.close()


async def test_an_open_circuit_refuses_at_once_and_a_later_try_goes_through(cms, database_url, clock):
    now = [0.0]
    guard = CmsGuard(failures=3, cool_down=30, now=lambda: now[0])
    services = await _open(cms, database_url, clock, guard=guard, timeout=0.2, retry_for=0.1)
    try:
        cms.simulator.hang()
        for request_id, hours in (("a", 3), ("b", 4)):  # two meetings, each left pending
            with pytest.raises(MeetingError, match="room_pending"):
                await _create(services, request_id, _later(TIMES, hours=hours))
        asked = len(cms.simulator.requests)
        with pytest.raises(MeetingError, match="room_service_down"):
            await _create(services, "c", _later(TIMES, hours=1))
        assert len(cms.simulator.requests) == asked  # not even asked
        cms.simulator.release()
        now[0] += 31  # half-open: one request tries, and closes the circuit
        meeting = await _create(services, "c", _later(TIMES, hours=1))
        closed = await _create(services, "d", _later(TIMES, hours=2))  # closed again: not refused
        assert {meeting.space_id, closed.space_id} <= set(cms.simulator.spaces)
    finally:
        cms.simulator.release()
        await services.close()


async def test_a_full_bulkhead_refuses_only_while_cms_is_slow_and_queued_work_waits_its_turn() -> None:
    guard = CmsGuard(concurrency=1, waiting=1, slow_after=0.05)
    release = asyncio.Event()

    async def request() -> None:
        async with guard.turn():
            await release.wait()

    async def queued() -> None:
        with CmsGuard.queued():
            async with guard.turn():
                pass

    first = asyncio.create_task(request())
    second = asyncio.create_task(request())  # waits its turn: CMS is not slow yet
    await asyncio.sleep(0.1)
    with pytest.raises(CmsCrowded):
        async with guard.turn():
            pass
    third = asyncio.create_task(queued())  # beside the workers: never refused as crowded
    await asyncio.sleep(0.1)
    assert not third.done()
    release.set()
    await asyncio.gather(first, second, third)
    async with guard.turn():
        pass


async def test_a_queued_create_that_finds_the_cms_down_is_told_no_room_was_made_once(cms, database_url, clock):
    now = [0.0]
    guard = CmsGuard(concurrency=1, waiting=0, slow_after=0.05, failures=1, cool_down=30, now=lambda: now[0])
    opened = await _open(cms, database_url, clock, guard=guard, timeout=0.3, retry_for=0.1)
    told = []

    async def announce(finished) -> None:
        told.append(finished)

    services = dataclasses.replace(opened, meetings=MeetingService(
        opened.sessions, opened.cms, clock, opened.settings, announce=announce))
    try:
        cms.simulator.hang(on="POST coSpaces")
        first = asyncio.create_task(_create(services, "a"))
        await eventually(lambda: cms.simulator.hanging == 1)
        now[0] += 1  # the request at the CMS has been out longer than slow_after: the CMS is slow
        with pytest.raises(MeetingError, match="room_pending"):
            await _create(services, "b", _later(TIMES, hours=1))  # queued, not refused
        with pytest.raises(MeetingError, match="room_pending"):
            await first  # no answer in time: the circuit opens, and its room may still appear
        await eventually(lambda: told)
        [refused] = told  # the queued one was never sent: told so, once
        assert (refused.meeting, refused.refusal) == (None, "room_service_down")

        cms.simulator.release()
        await cms.simulator.settled()
        now[0] += 31
        clock.advance(POLL)
        [made] = await services.meetings.finish_interrupted()
        assert made.meeting is not None and set(cms.simulator.spaces) == {made.meeting.space_id}
        assert len(told) == 1
    finally:
        await services.close()
