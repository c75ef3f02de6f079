"""Creating a meeting's unique room on the CMS: intended before the CMS is asked, adopted when an
earlier try made it, queued when the CMS is crowded; the pass finishes what nobody answers for.

The CMS is never called inside a transaction, and a room that exists on the CMS but could not be
recorded is deleted again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.core.problems import Problem
from bot.services.cms import CmsClient, CmsError
from bot.services.cms_guard import CmsGuard
from bot.services.meetings.common import MeetingError, Person
from bot.services.meetings.creation_rows import ABANDONED, CREATING, CreationRows
from bot.services.meetings.reads import MeetingReads
from bot.services.meetings.room_maker import Queued, RoomMaker
from bot.services.naming import room_name
from bot.services.validation import MeetingTimes
from bot.store.schema import Meeting, PatientJoins, RoomCreation

log = logging.getLogger(__name__)

# After a crash the event that asked for the room runs again when its job's lease runs out, and
# finishes the creation as if nothing had happened; the pass waits this long beyond the lease so
# that the person is answered once. A creation whose creator was told to wait (``promised_at``:
# queued, or its create unanswered) is the pass's as soon as nobody holds its lease.
CREATION_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class Finished:
    """A creation finished after its request had gone: what to tell its creator.

    ``meeting`` is the recorded meeting, or ``None`` with ``refusal`` when no room was made.
    """

    platform: str
    creator_id: str
    room_name: str
    starts_at: datetime
    ends_at: datetime
    meeting: Meeting | None
    refusal: Problem | None = None


class RoomCreations:
    def __init__(self, sessions: async_sessionmaker, cms: CmsClient, clock: Clock, rows: CreationRows,
                 reads: MeetingReads, announce: Callable[[Finished], Awaitable[None]] | None = None) -> None:
        self._sessions = sessions
        self._cms = cms
        self._clock = clock
        self._rows = rows
        self._reads = reads
        self._maker = RoomMaker(sessions, cms, clock, rows)
        # Tells a creator how a creation they were promised a message about ended.
        self._announce = announce or _unannounced
        self._queue: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Stop the queued creations; each is left leased, for the pass of the next process."""
        for task in list(self._queue):
            task.cancel()
        await asyncio.gather(*self._queue, return_exceptions=True)

    async def create(self, *, platform: str, creator: Person, unit: str, times: MeetingTimes,
                     request_id: str, patient_joins: PatientJoins | None = None,
                     operation: str | None = None, owner_jid: str | None = None) -> Meeting:
        """Create a unique room on the CMS and record the meeting; all or nothing.

        ``request_id`` is the new-meeting card's id: the same card submitted again makes no
        second room. The intended room is recorded (``RoomCreation``) before the CMS is asked,
        so that a crash or a CMS that answers too late can be finished later
        (:meth:`finish_interrupted`). The same ``operation`` run again gets the meeting it made.
        Refusals: ``ALREADY_CREATED``, ``CREATION_IN_PROGRESS``, ``NO_UNIQUE_ROOM``,
        ``ROOM_SERVICE_DOWN`` (nothing was sent), ``ROOM_SERVICE_UNAVAILABLE`` (no room was made),
        ``ROOM_PENDING``: the room is being created and its creator gets a message
        (``announce``) when it is known how it ended. That is the answer when the CMS is
        crowded (the creation is queued and carried out beside the webhook workers), when a create
        got no answer (the pass looks the room up), and to another card for the same unit and
        start while such a creation is pending.
        """
        request_key = f"{creator.key}:{request_id}"
        if (meeting := await self._reads.by_request(request_key)) is not None:
            if operation is not None and await self._rows.asked_by(request_key) == operation:
                return meeting  # its own run, which died before it could answer
            raise MeetingError(Problem.ALREADY_CREATED)
        creation, resumed = await self._rows.intend(request_key, platform, creator, unit, times, patient_joins,
                                                    operation, owner_jid)
        try:
            return await self._carry_out(creation, resumed=resumed)
        except Queued as queued:
            task = asyncio.create_task(self._finish_queued(creation, resumed=queued.resumed))
            self._queue.add(task)
            task.add_done_callback(self._queue.discard)
            raise MeetingError(Problem.ROOM_PENDING) from None

    async def _finish_queued(self, creation: RoomCreation, *, resumed: bool) -> None:
        try:
            with CmsGuard.queued():
                finished = await self._finish(creation, resumed=resumed)
            if finished is not None:
                await self._announce(finished)
        except Exception:
            log.exception("queued room creation %s failed; the pass finishes it", creation.meeting_id)

    async def finish_interrupted(self, limit: int = 20) -> list[Finished]:
        """Finish creations whose process died, and those whose creator was told to wait.

        The room is looked up by its cdrTag: found, it is adopted and the meeting recorded;
        absent, it is created now, unless a create of it went unanswered less than
        ``DOUBT_BOUND`` ago (it may still be carried out). Each finished creation is returned,
        to tell its creator; one the CMS still cannot answer for is left for the next pass.
        """
        now = self._clock.now()
        async with self._sessions() as session:
            stale = list(await session.scalars(
                select(RoomCreation).where(
                    RoomCreation.state == CREATING,
                    # A promised one has had its answer: looked at by every pass, not after a grace.
                    or_(RoomCreation.lease_until < now - CREATION_GRACE,
                        and_(RoomCreation.promised_at.is_not(None), RoomCreation.lease_until < now)))
                .order_by(RoomCreation.created_at).limit(limit)))
        finished = []
        for creation in stale:
            if not await self._rows.take_over(creation):
                continue  # another instance took it
            with CmsGuard.queued():
                if (done := await self._finish(creation, resumed=True)) is not None:
                    finished.append(done)
        return finished

    async def _finish(self, creation: RoomCreation, *, resumed: bool) -> Finished | None:
        """Carry out a creation nobody is answering for; how it ended, or None while it is pending."""
        try:
            meeting: Meeting | None = await self._carry_out(creation, resumed=resumed)
            problem = None
        except MeetingError as refused:
            if refused.problem in (Problem.ROOM_PENDING, Problem.ALREADY_CREATED):
                return None  # the CMS cannot tell yet; or its request finished it after all
            meeting, problem = None, refused.problem
        log.info("pending room creation %s finished (%s)", creation.meeting_id, problem or "recorded")
        return Finished(creation.platform, creation.creator_id, room_name(creation.unit, creation.number),
                        creation.starts_at, creation.ends_at, meeting, problem)

    async def _carry_out(self, creation: RoomCreation, *, resumed: bool) -> Meeting:
        try:
            return await self._leased_carry_out(creation, resumed=resumed)
        except Queued:
            await self._rows.promise(creation, release=False)  # the queued run goes on under this lease
            raise
        except MeetingError as refused:
            if refused.problem == Problem.ROOM_PENDING:
                await self._rows.promise(creation, release=True)  # the next pass looks again
            raise

    async def _leased_carry_out(self, creation: RoomCreation, *, resumed: bool) -> Meeting:
        async with self._rows.leased(creation):
            try:
                space_id = await self._maker.room_for(creation, resumed=resumed)
            except MeetingError as refused:
                if refused.problem != Problem.ROOM_PENDING:
                    await self._rows.close(creation, ABANDONED)
                raise
            try:
                with CmsGuard.queued():  # made: read back in its turn, not handed on
                    space = await self._cms.get_space(space_id)
                return await self._rows.record(creation, space_id, space.secret)
            except Exception as exc:
                # The room exists on the CMS but not in our books: take it away again.
                gone = await self._maker.remove_orphan(space_id)
                if isinstance(exc, IntegrityError) and await self._reads.by_request(creation.request_key):
                    raise MeetingError(Problem.ALREADY_CREATED) from exc
                if gone:
                    await self._rows.close(creation, ABANDONED)
                if isinstance(exc, CmsError):
                    raise MeetingError(Problem.ROOM_SERVICE_UNAVAILABLE if gone else Problem.ROOM_PENDING) from exc
                raise

async def _unannounced(finished: Finished) -> None:
    log.warning("a room creation finished with nobody to tell its creator")
