"""Deleting a meeting's room: intended (``room_deletion``) before the CMS is asked, then recorded;
the deletions pass finishes an intent whose process died."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.core.problems import Problem
from bot.services import leases
from bot.services.changes import made, record
from bot.services.cms import CmsClient, CmsError, CmsNotAsked, CmsProtocolError, CmsUnavailable
from bot.services.meetings.common import ROW_LOCK, MeetingError, Person
from bot.services.meetings.reads import MeetingReads
from bot.store.engine import insert_on_conflict
from bot.store.schema import LIVE_STATES, Meeting, MeetingState, Reminder, RoomDeletion

log = logging.getLogger(__name__)

# A deletion is recorded as intended (``RoomDeletion``) before the CMS is asked; one still open
# after this long had its process die, and the deletions pass finishes it.
DELETION_GRACE = timedelta(minutes=2)
# The audit actions of a deletion's steps; the intent row's states are DELETING, WITHDRAWN, DELETED.
DELETING, DELETE_WITHDRAWN = "deleting", "delete_withdrawn"
WITHDRAWN, DELETED = "withdrawn", "deleted"
CANCELLED = "cancelled"  # the audit detail of "Ställ in mötet": the meeting will not take place


@dataclass(frozen=True)
class DeletionFinished:
    """A deletion finished after its process had died: whom to tell, the person who asked
    (``None``: a rule deleted it, and that rule's own job tells the creator)."""

    platform: str
    person_key: str | None
    room_name: str


class RoomDeletions:
    def __init__(self, sessions: async_sessionmaker, cms: CmsClient, clock: Clock, reads: MeetingReads) -> None:
        self._sessions = sessions
        self._cms = cms
        self._clock = clock
        self._reads = reads

    async def active_calls(self, meeting: Meeting) -> int:
        try:
            return await self._cms.active_calls(meeting.space_id)
        except CmsError as exc:
            raise MeetingError(Problem.ROOM_SERVICE_UNAVAILABLE) from exc

    async def delete(self, meeting_id: str, person: Person, *, end_calls: bool = False, cancel: bool = False,
                     rule: str | None = None, operation: str | None = None) -> Meeting:
        """Delete the room on the CMS, then mark the meeting deleted and cancel its reminders.

        Refuses while a call is active unless ``end_calls``. ``rule`` names the policy when
        the bot deletes on its own (the audit shows it instead of a person); ``cancel`` says the
        meeting will not take place ("Ställ in mötet"). The deletion is
        recorded as intended before the CMS is asked, so that a process that dies meanwhile
        leaves it to :meth:`finish_interrupted_deletions`. The same ``operation`` run again
        finishes the deletion it began, or gets the meeting it deleted.
        """
        meeting = await self._reads.get(meeting_id, person)
        async with self._sessions() as session:
            done = await made(session, operation)
        if meeting.state == MeetingState.DELETED:
            if "deleted" in done:
                return meeting
            raise MeetingError(Problem.ALREADY_DELETED)
        began = DELETING in done and DELETE_WITHDRAWN not in done
        detail = rule or ",".join(part for part, on in ((CANCELLED, cancel), ("calls_ended", end_calls)) if on) or None
        try:
            if not began:  # run again, the calls were seen to before the CMS was asked to delete
                if await self._cms.active_calls(meeting.space_id):
                    if not end_calls:
                        raise MeetingError(Problem.CALL_ACTIVE)
                    await self._cms.end_calls(meeting.space_id)
                await self._step(meeting, person.key, DELETING, detail, operation)
            try:
                await self._cms.delete_space(meeting.space_id)
            except CmsNotAsked:
                await self._step(meeting, person.key, DELETE_WITHDRAWN, detail, operation)  # never sent
                raise
            except (CmsUnavailable, CmsProtocolError):
                raise  # busy, or no answer: the room may be gone; the intent stays and the pass finishes it
            except CmsError:
                await self._step(meeting, person.key, DELETE_WITHDRAWN, detail, operation)  # refused
                raise
        except CmsError as exc:
            raise MeetingError(Problem.ROOM_SERVICE_UNAVAILABLE) from exc
        return await self._record_deleted(meeting_id, person.key, rule, detail, operation)

    async def _step(self, meeting: Meeting, actor: str, action: str, detail: str | None,
                    operation: str | None) -> None:
        """The deletion intended (its lease taken) or withdrawn, with its audit record: one transaction."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await record(session, now, actor, action, meeting, detail=detail, operation=operation)
            if action == DELETING:
                intent = {"actor": actor, "detail": detail, "operation": operation, "state": DELETING,
                          "requested_at": now, "lease_until": now + DELETION_GRACE, "finished_at": None}
                await session.execute(
                    insert_on_conflict(session, RoomDeletion).values(meeting_id=meeting.id, **intent)
                    .on_conflict_do_update(index_elements=[RoomDeletion.meeting_id], set_=intent))
            else:
                await _close(session, meeting.id, WITHDRAWN, now)

    async def _record_deleted(self, meeting_id: str, actor: str, rule: str | None, detail: str | None,
                              operation: str | None) -> Meeting:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            meeting = await session.get(Meeting, meeting_id, with_for_update=ROW_LOCK)
            assert meeting is not None
            if meeting.state == MeetingState.DELETED:
                if "deleted" in await made(session, operation):
                    return meeting  # the deletions pass finished what this operation began
                raise MeetingError(Problem.ALREADY_DELETED)
            meeting.state = MeetingState.DELETED
            meeting.deleted_at = now
            meeting.deleted_by = rule or actor
            if detail and CANCELLED in detail.split(","):
                meeting.cancelled_at = now
            await session.execute(
                update(Reminder).where(Reminder.meeting_id == meeting_id, Reminder.state == "pending")
                .values(state="cancelled")
            )
            await record(session, now, actor, "deleted", meeting, detail=detail, operation=operation)
            await _close(session, meeting_id, DELETED, now)
        return meeting

    async def finish_interrupted_deletions(self, limit: int = 20) -> list[DeletionFinished]:
        """Finish deletions recorded as intended whose process died before recording them done.

        An intent whose lease ran out (``DELETION_GRACE`` after it was recorded) is leased by this
        pass, the room deleted on the CMS (already gone is fine) and the meeting recorded deleted
        with its audit record, in the name of whoever asked. One the CMS cannot answer for is given
        back, for the next pass.
        """
        now = self._clock.now()
        async with self._sessions() as session:
            rows = (await session.execute(
                select(RoomDeletion, Meeting).join(Meeting, Meeting.id == RoomDeletion.meeting_id)
                .where(RoomDeletion.state == DELETING, RoomDeletion.lease_until < now,
                       Meeting.state.in_(LIVE_STATES))
                .order_by(RoomDeletion.requested_at).limit(limit))).all()
        finished = []
        for intent, meeting in rows:
            this = RoomDeletion.meeting_id == meeting.id
            until = now + DELETION_GRACE
            if not await leases.take(self._sessions, RoomDeletion, this, until=until,
                                     free=and_(RoomDeletion.state == DELETING, RoomDeletion.lease_until < now)):
                continue  # another instance took it, or its person asked again
            try:
                await self._cms.delete_space(meeting.space_id)
                rule = intent.detail if intent.actor == "system" else None
                await self._record_deleted(meeting.id, intent.actor, rule, intent.detail, intent.operation)
            except CmsError as exc:
                log.warning("interrupted deletion of meeting %s not finished: %s", meeting.id, type(exc).__name__)
                await leases.give_back(self._sessions, RoomDeletion, this, until=intent.lease_until,
                                       held=and_(RoomDeletion.state == DELETING, RoomDeletion.lease_until == until))
                continue
            except MeetingError:
                continue  # another instance finished it
            log.info("interrupted deletion of meeting %s finished", meeting.id)
            finished.append(DeletionFinished(meeting.platform, None if rule else intent.actor, meeting.room_name))
        return finished


async def _close(session: AsyncSession, meeting_id: str, state: str, now: datetime) -> None:
    await session.execute(update(RoomDeletion).where(RoomDeletion.meeting_id == meeting_id)
                          .values(state=state, lease_until=None, finished_at=now))
