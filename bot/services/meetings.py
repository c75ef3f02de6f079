"""The meeting's life: a unique room on the CMS, recipients, confirmations, deletion.

Every change is one transaction with its audit record. The CMS is never called inside a
transaction, and a room that exists on the CMS but could not be recorded is deleted again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.problems import Refused
from bot.db import (
    LIVE_STATES,
    Channel,
    Meeting,
    MeetingState,
    PatientJoins,
    Preference,
    Recipient,
    Reminder,
    RoomCreation,
    RoomDeletion,
    UnitCounter,
    UsedCallId,
    insert_on_conflict,
)
from bot.services import leases
from bot.services.changes import made, record
from bot.services.cms import (
    CmsClient,
    CmsCrowded,
    CmsError,
    CmsErrorStatus,
    CmsGuard,
    CmsNotAsked,
    CmsProtocolError,
    CmsUnanswered,
    CmsUnavailable,
    DuplicateCallId,
    DuplicateUri,
)
from bot.services.naming import new_call_id, room_name, room_uri, uri_slug
from bot.services.validation import MeetingTimes

log = logging.getLogger(__name__)

CDR_TAG_PREFIX = "distansmote:"
MAX_CREATE_ATTEMPTS = 10
# A room creation's lease: renewed while it runs; one that ran out is finished by the next pass.
CREATION_LEASE = timedelta(seconds=30)
# After a crash the event that asked for the room runs again when its job's lease runs out, and
# finishes the creation as if nothing had happened; the pass waits this long beyond the lease so
# that the person is answered once. A creation whose creator was told to wait (``promised_at``:
# queued, or its create unanswered) is the pass's as soon as nobody holds its lease.
CREATION_GRACE = timedelta(minutes=1)
# A create that went out unanswered may still be carried out: the pass looks its room up (every
# 15 s) this long before it asks again with the same URI, which a late first create then clashes with.
DOUBT_BOUND = timedelta(minutes=2)
CREATING, CREATED, ABANDONED = "creating", "created", "abandoned"
# A deletion is recorded as intended (``RoomDeletion``) before the CMS is asked; one still open
# after this long had its process die, and the deletions pass finishes it.
DELETION_GRACE = timedelta(minutes=2)
# The audit actions of a deletion's steps; the intent row's states are DELETING, WITHDRAWN, DELETED.
DELETING, DELETE_WITHDRAWN = "deleting", "delete_withdrawn"
WITHDRAWN, DELETED = "withdrawn", "deleted"
# FOR NO KEY UPDATE on PostgreSQL: enough to serialise edits of one meeting, and it does not
# block the reminder claim, which takes a key-share lock on the meeting.
_ROW_LOCK = {"key_share": True}


class MeetingError(Refused):
    """A step of the routine refused, with a code (``bot.core.problems.Problem``)."""


class _Queued(Exception):
    """The CMS is crowded: the creation goes on beside the webhook workers, in its turn.

    ``resumed``: an earlier try may have made its room, so it is looked up first.
    """

    def __init__(self, *, resumed: bool) -> None:
        super().__init__()
        self.resumed = resumed


@dataclass(frozen=True)
class Person:
    """Who acts: ``key`` is ``"<platform>:<platform id>"``, stable and never a name."""

    key: str
    name: str
    is_admin: bool = False


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
    refusal: str | None = None


@dataclass(frozen=True)
class DeletionFinished:
    """A deletion finished after its process had died: whom to tell, the person who asked
    (``None``: a rule deleted it, and that rule's own job tells the creator)."""

    platform: str
    person_key: str | None
    room_name: str


class ReminderPlanner(Protocol):
    def reminders_for(self, meeting: Meeting) -> Sequence[Reminder]:
        """The reminder rows to store with a new meeting."""


class NoReminders:
    def reminders_for(self, meeting: Meeting) -> Sequence[Reminder]:
        return ()


def cdr_tag(meeting_id: str) -> str:
    return CDR_TAG_PREFIX + meeting_id


def meeting_id_from_cdr_tag(tag: str | None) -> str | None:
    if tag and tag.startswith(CDR_TAG_PREFIX):
        return tag[len(CDR_TAG_PREFIX):]
    return None


class MeetingService:
    def __init__(self, sessions: async_sessionmaker, cms: CmsClient, clock: Clock, settings: Settings,
                 planner: ReminderPlanner | None = None) -> None:
        self._sessions = sessions
        self._cms = cms
        self._clock = clock
        self._settings = settings
        self.planner: ReminderPlanner = planner or NoReminders()
        # Tells a creator how a creation they were promised a message about ended (the app sets it).
        self.announce: Callable[[Finished], Awaitable[None]] = _unannounced
        self._queue: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Stop the queued creations; each is left leased, for the pass of the next process."""
        for task in list(self._queue):
            task.cancel()
        await asyncio.gather(*self._queue, return_exceptions=True)

    # -- creating ---------------------------------------------------------------------------

    async def create(self, *, platform: str, creator: Person, unit: str, times: MeetingTimes,
                     request_id: str, patient_joins: PatientJoins | None = None,
                     operation: str | None = None) -> Meeting:
        """Create a unique room on the CMS and record the meeting; all or nothing.

        ``request_id`` is the new-meeting card's id: the same card submitted again makes no
        second room. The intended room is recorded (``RoomCreation``) before the CMS is asked,
        so that a crash or a CMS that answers too late can be finished later
        (:meth:`finish_interrupted`). The same ``operation`` run again gets the meeting it made.
        Refusals: ``already_created``, ``creation_in_progress``,
        ``no_unique_room``, ``room_service_down`` (nothing was sent), ``room_service_unavailable``
        (no room was made), ``room_pending``: the room is being created and its creator gets a
        message (:attr:`announce`) when it is known how it ended. That is the answer when the CMS
        is crowded (the creation is queued and carried out beside the webhook workers), when a
        create got no answer (the pass looks the room up), and to another card for the same unit
        and start while such a creation is pending.
        """
        request_key = f"{creator.key}:{request_id}"
        if (meeting := await self._by_request(request_key)) is not None:
            async with self._sessions() as session:
                asked_by = await session.scalar(
                    select(RoomCreation.operation).where(RoomCreation.request_key == request_key))
            if operation is not None and asked_by == operation:
                return meeting  # its own run, which died before it could answer
            raise MeetingError("already_created")
        creation, resumed = await self._intend(request_key, platform, creator, unit, times, patient_joins, operation)
        try:
            return await self._carry_out(creation, resumed=resumed)
        except _Queued as queued:
            task = asyncio.create_task(self._finish_queued(creation, resumed=queued.resumed))
            self._queue.add(task)
            task.add_done_callback(self._queue.discard)
            raise MeetingError("room_pending") from None

    async def _finish_queued(self, creation: RoomCreation, *, resumed: bool) -> None:
        try:
            with CmsGuard.queued():
                finished = await self._finish(creation, resumed=resumed)
            if finished is not None:
                await self.announce(finished)
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
            if not await self._take_over(creation):
                continue  # another instance took it
            with CmsGuard.queued():
                if (done := await self._finish(creation, resumed=True)) is not None:
                    finished.append(done)
        return finished

    async def _finish(self, creation: RoomCreation, *, resumed: bool) -> Finished | None:
        """Carry out a creation nobody is answering for; how it ended, or None while it is pending."""
        try:
            meeting: Meeting | None = await self._carry_out(creation, resumed=resumed)
            code = None
        except MeetingError as refused:
            if refused.code in ("room_pending", "already_created"):
                return None  # the CMS cannot tell yet; or its request finished it after all
            meeting, code = None, refused.code
        log.info("pending room creation %s finished (%s)", creation.meeting_id, code or "recorded")
        return Finished(creation.platform, creation.creator_id, room_name(creation.unit, creation.number),
                        creation.starts_at, creation.ends_at, meeting, code)

    async def _intend(self, request_key: str, platform: str, creator: Person, unit: str, times: MeetingTimes,
                      patient_joins: PatientJoins | None, operation: str | None) -> tuple[RoomCreation, bool]:
        """The creation to carry out: recorded now, or (``True``) an earlier one for the same card."""
        async with self._sessions() as session:
            earlier = await session.scalar(select(RoomCreation).where(RoomCreation.request_key == request_key))
            # Another card for the same room while its creator waits to hear how one ended (the CMS did
            # not answer, or it is queued): answered with that one. Two meetings of a unit at one time
            # are allowed, so a creation merely under way does not count.
            twin = None if earlier else await session.scalar(
                select(RoomCreation.meeting_id).where(
                    RoomCreation.state == CREATING, RoomCreation.promised_at.is_not(None),
                    RoomCreation.creator_id == creator.key, RoomCreation.unit == unit,
                    RoomCreation.starts_at == times.starts_at).limit(1))
        if twin is not None:
            raise MeetingError("room_pending")
        if earlier is not None:
            if earlier.state == CREATED:
                raise MeetingError("already_created")
            if not await self._take_over(earlier):
                raise MeetingError("creation_in_progress")
            return earlier, True  # given up before, or its process died: look for its room first
        now = self._clock.now()
        creation = RoomCreation(
            meeting_id=str(uuid.uuid4()), request_key=request_key, platform=platform, creator_id=creator.key,
            creator_name=creator.name, unit=unit, number=await self._next_number(uri_slug(unit)),
            call_id=await self._reserve_call_id(), starts_at=times.starts_at, ends_at=times.ends_at,
            patient_joins=patient_joins, state=CREATING, created_at=now, lease_until=now + CREATION_LEASE,
            operation=operation,
        )
        async with self._sessions() as session:
            session.add(creation)
            try:
                await session.commit()
            except IntegrityError:
                raise MeetingError("creation_in_progress") from None  # the same card, at the same moment
        return creation, False

    async def _take_over(self, creation: RoomCreation) -> bool:
        """Lease a creation that nobody works on (given up, or its lease ran out)."""
        now = self._clock.now()
        taken = await leases.take(
            self._sessions, RoomCreation, RoomCreation.meeting_id == creation.meeting_id,
            free=or_(RoomCreation.state == ABANDONED,
                     and_(RoomCreation.state == CREATING, RoomCreation.lease_until < now)),
            until=now + CREATION_LEASE, state=CREATING, finished_at=None)
        creation.state = CREATING
        return taken

    async def _carry_out(self, creation: RoomCreation, *, resumed: bool) -> Meeting:
        try:
            return await self._leased_carry_out(creation, resumed=resumed)
        except _Queued:
            await self._promise(creation, release=False)  # the queued run goes on under this lease
            raise
        except MeetingError as refused:
            if refused.code == "room_pending":
                await self._promise(creation, release=True)  # the next pass looks again
            raise

    async def _leased_carry_out(self, creation: RoomCreation, *, resumed: bool) -> Meeting:
        async with self._leased(creation):
            try:
                space_id = await self._room_for(creation, resumed=resumed)
            except MeetingError as refused:
                if refused.code != "room_pending":
                    await self._close(creation, ABANDONED)
                raise
            try:
                with CmsGuard.queued():  # made: read back in its turn, not handed on
                    space = await self._cms.get_space(space_id)
                return await self._record(creation, space_id, space.secret)
            except Exception as exc:
                # The room exists on the CMS but not in our books: take it away again.
                gone = await self._remove_orphan(space_id)
                if isinstance(exc, IntegrityError) and await self._by_request(creation.request_key) is not None:
                    raise MeetingError("already_created") from exc
                if gone:
                    await self._close(creation, ABANDONED)
                if isinstance(exc, CmsError):
                    raise MeetingError("room_service_unavailable" if gone else "room_pending") from exc
                raise

    async def _room_for(self, creation: RoomCreation, *, resumed: bool) -> str:
        """The id of the creation's room: found (an earlier try made it) or made now."""
        tag = cdr_tag(creation.meeting_id)
        if resumed:
            try:
                found = await self._find(creation, tag)
            except CmsCrowded:
                raise _Queued(resumed=True) from None
            except CmsError as exc:  # the earlier try may have made it: ask again later, never give up here
                raise MeetingError("room_pending") from exc
            if found:
                return found
            if creation.doubt_since is not None and self._clock.now() - creation.doubt_since < DOUBT_BOUND:
                raise MeetingError("room_pending")  # its unanswered create may still be carried out
        try:
            for _attempt in range(MAX_CREATE_ATTEMPTS):
                try:
                    return await self._cms.create_space(
                        name=room_name(creation.unit, creation.number), uri=room_uri(creation.unit, creation.number),
                        call_id=creation.call_id, cdr_tag=tag)
                except DuplicateUri:
                    if found := await self._find(creation, tag):
                        return found  # ours, from a try that answered too late
                    await self._attempt(creation, number=await self._next_number(uri_slug(creation.unit)))
                except DuplicateCallId:
                    await self._attempt(creation, call_id=await self._reserve_call_id())
            raise MeetingError("no_unique_room")
        except CmsCrowded:
            raise _Queued(resumed=resumed) from None  # this try sent nothing that was carried out
        except CmsNotAsked as exc:
            # Not sent; but an earlier create of this room may still be carried out.
            raise MeetingError("room_pending" if creation.doubt_since else "room_service_down") from exc
        except CmsError as exc:
            if isinstance(exc, CmsUnanswered) or (isinstance(exc, CmsProtocolError)
                                                  and not isinstance(exc, CmsErrorStatus)):
                # No answer in time, or one we cannot read: the room may exist, now or later.
                log.warning("room creation in doubt: %s; looking it up", type(exc).__name__)
                await self._doubt(creation)
                with contextlib.suppress(CmsError):
                    if found := await self._find(creation, tag):
                        return found  # carried out, answered too late
                raise MeetingError("room_pending") from exc  # not yet, or not at all: the pass looks again
            log.warning("room not created: %s", type(exc).__name__)  # refused, or never reached
            raise MeetingError("room_service_unavailable") from exc

    async def _find(self, creation: RoomCreation, tag: str) -> str | None:
        """The room of this creation on the CMS, by its name and uri, proven by its cdrTag."""
        name, uri = room_name(creation.unit, creation.number), room_uri(creation.unit, creation.number)
        for summary in await self._cms.list_spaces(filter=name):
            if summary.uri == uri and (await self._cms.get_space(summary.id)).cdr_tag == tag:
                return summary.id
        return None

    async def _attempt(self, creation: RoomCreation, *, number: int | None = None, call_id: str | None = None) -> None:
        """Record the next try's number or call ID before the CMS is asked with it."""
        creation.number = number or creation.number
        creation.call_id = call_id or creation.call_id
        async with self._sessions() as session, session.begin():
            await session.execute(update(RoomCreation).where(RoomCreation.meeting_id == creation.meeting_id)
                                  .values(number=creation.number, call_id=creation.call_id))

    def _leased(self, creation: RoomCreation) -> contextlib.AbstractAsyncContextManager[None]:
        """Renew the creation's lease while the work runs, so that no other pass takes it."""
        return leases.renewed(self._sessions, RoomCreation, RoomCreation.meeting_id == creation.meeting_id,
                              held=RoomCreation.state == CREATING, now=self._clock.now, lease=CREATION_LEASE)

    async def _promise(self, creation: RoomCreation, *, release: bool) -> None:
        """Its creator is told it is being created, and gets a message when it is known how it ended.

        ``release``: nobody works on it now, so the next pass takes it at once.
        """
        now = self._clock.now()
        values: dict[str, object] = {"promised_at": creation.promised_at or now}
        if release:
            values["lease_until"] = now
        async with self._sessions() as session, session.begin():
            await session.execute(update(RoomCreation).where(RoomCreation.meeting_id == creation.meeting_id,
                                                             RoomCreation.state == CREATING).values(**values))
        creation.promised_at = creation.promised_at or now

    async def _doubt(self, creation: RoomCreation) -> None:
        creation.doubt_since = self._clock.now()
        async with self._sessions() as session, session.begin():
            await session.execute(update(RoomCreation).where(RoomCreation.meeting_id == creation.meeting_id)
                                  .values(doubt_since=creation.doubt_since))

    async def _close(self, creation: RoomCreation, state: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(update(RoomCreation).where(RoomCreation.meeting_id == creation.meeting_id)
                                  .values(state=state, lease_until=None, finished_at=self._clock.now()))
        creation.state = state

    async def _record(self, creation: RoomCreation, space_id: str, secret: str | None) -> Meeting:
        """The meeting, its reminders and audit record, and the creation closed: one transaction."""
        now = self._clock.now()
        meeting = Meeting(
            id=creation.meeting_id, request_key=creation.request_key, platform=creation.platform,
            creator_id=creation.creator_id, creator_name=creation.creator_name, unit=creation.unit,
            room_name=room_name(creation.unit, creation.number), uri=room_uri(creation.unit, creation.number),
            call_id=creation.call_id, space_id=space_id, secret=secret, starts_at=creation.starts_at,
            ends_at=creation.ends_at, state=MeetingState.CREATED, created_at=now, recipients=[],
            patient_joins=creation.patient_joins,
        )
        async with self._sessions() as session, session.begin():
            session.add(meeting)
            session.add_all(self.planner.reminders_for(meeting))
            await record(session, now, creation.creator_id, "created", meeting)
            await self._remember_unit(session, creation.creator_id, creation.unit)
            await session.execute(update(RoomCreation).where(RoomCreation.meeting_id == creation.meeting_id)
                                  .values(state=CREATED, lease_until=None, finished_at=now))
        creation.state = CREATED
        return meeting

    async def _remove_orphan(self, space_id: str) -> bool:
        """Delete a room that could not be recorded; False if the CMS did not let us."""
        try:
            await self._cms.delete_space(space_id)
        except CmsError:
            log.error("could not remove an unrecorded room from the CMS; a later pass or the sweep will")
            return False
        async with self._sessions() as session, session.begin():
            await record(session, self._clock.now(), "system", "deleted", space_id=space_id,
                         detail="not_recorded")
        return True

    async def _by_request(self, request_key: str) -> Meeting | None:
        async with self._sessions() as session:
            return await session.scalar(select(Meeting).where(Meeting.request_key == request_key))

    async def _next_number(self, slug: str) -> int:
        """The unit's next room number; monotonic, committed at once, so never handed out twice."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert_on_conflict(session, UnitCounter).values(unit_key=slug, last_number=0).on_conflict_do_nothing()
            )
            return await session.scalar(
                update(UnitCounter).where(UnitCounter.unit_key == slug)
                .values(last_number=UnitCounter.last_number + 1)
                .returning(UnitCounter.last_number)
            )

    async def _reserve_call_id(self) -> str:
        while True:
            call_id = new_call_id()
            async with self._sessions() as session:
                session.add(UsedCallId(call_id=call_id, reserved_at=self._clock.now()))
                try:
                    await session.commit()
                except IntegrityError:
                    continue
            return call_id

    async def _remember_unit(self, session: AsyncSession, actor_key: str, unit: str) -> None:
        await session.execute(
            insert_on_conflict(session, Preference).values(actor_key=actor_key, last_unit=unit)
            .on_conflict_do_update(index_elements=[Preference.actor_key], set_={"last_unit": unit})
        )

    async def last_unit(self, actor_key: str) -> str | None:
        async with self._sessions() as session:
            preference = await session.get(Preference, actor_key)
            return preference.last_unit if preference else None

    # -- reading ----------------------------------------------------------------------------

    async def get(self, meeting_id: str, person: Person) -> Meeting:
        """The meeting, if it exists and ``person`` may act on it (its creator or an admin)."""
        async with self._sessions() as session:
            meeting = await session.get(Meeting, meeting_id) if _looks_like_id(meeting_id) else None
        if meeting is None:
            raise MeetingError("not_found")
        if meeting.creator_id != person.key and not person.is_admin:
            raise MeetingError("not_allowed")
        return meeting

    async def find_live_by_name(self, room: str, person: Person) -> Meeting:
        async with self._sessions() as session:
            meeting = await session.scalar(
                select(Meeting).where(func.lower(Meeting.room_name) == " ".join(room.split()).lower())
                .where(Meeting.state.in_(LIVE_STATES))
            )
        if meeting is None:
            raise MeetingError("not_found")
        return await self.get(meeting.id, person)

    async def live_for(self, person: Person) -> list[Meeting]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Meeting).where(Meeting.creator_id == person.key)
                .where(Meeting.state.in_(LIVE_STATES)).order_by(Meeting.starts_at)
            )
            return list(rows)

    async def all_live(self) -> list[Meeting]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Meeting).where(Meeting.state.in_(LIVE_STATES)).order_by(Meeting.starts_at)
            )
            return list(rows)

    # -- forwarding and confirmations ---------------------------------------------------------

    async def add_recipient(self, meeting_id: str, person: Person, label: str, channel: Channel, *,
                            operation: str | None = None) -> Meeting:
        async with self._sessions() as session, session.begin():
            meeting = await self._editable(session, meeting_id, person)
            if "recipient_added" in await made(session, operation):
                return meeting
            if any(r.label.casefold() == label.casefold() for r in meeting.recipients):
                raise MeetingError("recipient_exists")
            if len(meeting.recipients) >= 20:
                raise MeetingError("too_many_recipients")
            meeting.recipients.append(Recipient(
                id=str(uuid.uuid4()), position=len(meeting.recipients), label=label, channel=channel,
            ))
            await record(session, self._clock.now(), person.key, "recipient_added", meeting, detail=channel,
                         operation=operation)
        return meeting

    async def mark_sent(self, meeting_id: str, person: Person, recipient_id: str, *,
                        operation: str | None = None) -> Meeting:
        """Told through Link or Messenger; a telephone recipient is told and done in this one step."""
        async with self._sessions() as session, session.begin():
            meeting = await self._editable(session, meeting_id, person)
            recipient = _recipient(meeting, recipient_id)
            if "recipient_sent" in await made(session, operation):
                return meeting
            if recipient.sent_at is not None:
                raise MeetingError("already_phoned" if recipient.channel == Channel.PHONE else "already_sent")
            await self._told(session, meeting, recipient, person, operation)
        return meeting

    async def _told(self, session: AsyncSession, meeting: Meeting, recipient: Recipient, person: Person,
                    operation: str | None) -> None:
        now = self._clock.now()
        recipient.sent_at = now
        if recipient.channel == Channel.PHONE:
            # The routine asks only Link and Messenger recipients to confirm: a phone call is the confirmation.
            recipient.confirmed_at = now
        if meeting.state == MeetingState.CREATED:
            meeting.state = MeetingState.INVITED
        await record(session, now, person.key, "recipient_sent", meeting, detail=recipient.channel, operation=operation)

    async def mark_confirmed(self, meeting_id: str, person: Person, recipient_id: str, *,
                             operation: str | None = None) -> Meeting:
        async with self._sessions() as session, session.begin():
            meeting = await self._editable(session, meeting_id, person)
            recipient = _recipient(meeting, recipient_id)
            if await made(session, operation) & {"recipient_confirmed", "recipient_sent"}:
                return meeting
            if recipient.channel == Channel.PHONE and recipient.sent_at is None:
                # One step for a phone call, either button.
                await self._told(session, meeting, recipient, person, operation)
                return meeting
            if recipient.sent_at is None:
                raise MeetingError("not_sent_yet")
            if recipient.confirmed_at is not None:
                raise MeetingError("already_phoned" if recipient.channel == Channel.PHONE else "already_confirmed")
            recipient.confirmed_at = self._clock.now()
            await record(session, self._clock.now(), person.key, "recipient_confirmed", meeting, operation=operation)
        return meeting

    async def _editable(self, session: AsyncSession, meeting_id: str, person: Person) -> Meeting:
        meeting = (await session.get(Meeting, meeting_id, with_for_update=_ROW_LOCK)
                   if _looks_like_id(meeting_id) else None)
        if meeting is None:
            raise MeetingError("not_found")
        if meeting.creator_id != person.key and not person.is_admin:
            raise MeetingError("not_allowed")
        if meeting.state == MeetingState.DELETED:
            raise MeetingError("already_deleted")
        return meeting

    # -- ending -----------------------------------------------------------------------------

    async def active_calls(self, meeting: Meeting) -> int:
        try:
            return await self._cms.active_calls(meeting.space_id)
        except CmsError as exc:
            raise MeetingError("room_service_unavailable") from exc

    async def delete(self, meeting_id: str, person: Person, *, end_calls: bool = False,
                     rule: str | None = None, operation: str | None = None) -> Meeting:
        """Delete the room on the CMS, then mark the meeting deleted and cancel its reminders.

        Refuses while a call is active unless ``end_calls``. ``rule`` names the policy when
        the bot deletes on its own (the audit shows it instead of a person). The deletion is
        recorded as intended before the CMS is asked, so that a process that dies meanwhile
        leaves it to :meth:`finish_interrupted_deletions`. The same ``operation`` run again
        finishes the deletion it began, or gets the meeting it deleted.
        """
        meeting = await self.get(meeting_id, person)
        async with self._sessions() as session:
            done = await made(session, operation)
        if meeting.state == MeetingState.DELETED:
            if "deleted" in done:
                return meeting
            raise MeetingError("already_deleted")
        began = DELETING in done and DELETE_WITHDRAWN not in done
        detail = rule or ("calls_ended" if end_calls else None)
        try:
            if not began:  # run again, the calls were seen to before the CMS was asked to delete
                if await self._cms.active_calls(meeting.space_id):
                    if not end_calls:
                        raise MeetingError("call_active")
                    await self._cms.end_calls(meeting.space_id)
                await self._deletion_step(meeting, person.key, DELETING, detail, operation)
            try:
                await self._cms.delete_space(meeting.space_id)
            except CmsNotAsked:
                await self._deletion_step(meeting, person.key, DELETE_WITHDRAWN, detail, operation)  # never sent
                raise
            except (CmsUnavailable, CmsProtocolError):
                raise  # busy, or no answer: the room may be gone; the intent stays and the pass finishes it
            except CmsError:
                await self._deletion_step(meeting, person.key, DELETE_WITHDRAWN, detail, operation)  # refused
                raise
        except CmsError as exc:
            raise MeetingError("room_service_unavailable") from exc
        return await self._record_deleted(meeting_id, person.key, rule, detail, operation)

    async def _deletion_step(self, meeting: Meeting, actor: str, action: str, detail: str | None,
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
                await self._close_deletion(session, meeting.id, WITHDRAWN, now)

    @staticmethod
    async def _close_deletion(session: AsyncSession, meeting_id: str, state: str, now: datetime) -> None:
        await session.execute(update(RoomDeletion).where(RoomDeletion.meeting_id == meeting_id)
                              .values(state=state, lease_until=None, finished_at=now))

    async def _record_deleted(self, meeting_id: str, actor: str, rule: str | None, detail: str | None,
                              operation: str | None) -> Meeting:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            meeting = await session.get(Meeting, meeting_id, with_for_update=_ROW_LOCK)
            assert meeting is not None
            if meeting.state == MeetingState.DELETED:
                if "deleted" in await made(session, operation):
                    return meeting  # the deletions pass finished what this operation began
                raise MeetingError("already_deleted")
            meeting.state = MeetingState.DELETED
            meeting.deleted_at = now
            meeting.deleted_by = rule or actor
            await session.execute(
                update(Reminder).where(Reminder.meeting_id == meeting_id, Reminder.state == "pending")
                .values(state="cancelled")
            )
            await record(session, now, actor, "deleted", meeting, detail=detail, operation=operation)
            await self._close_deletion(session, meeting_id, DELETED, now)
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

    async def mark_ended(self, meeting_id: str) -> None:
        async with self._sessions() as session, session.begin():
            meeting = await session.get(Meeting, meeting_id, with_for_update=_ROW_LOCK)
            if meeting is not None and meeting.state in (MeetingState.CREATED, MeetingState.INVITED):
                meeting.state = MeetingState.ENDED
                await record(session, self._clock.now(), "system", "ended", meeting)


async def _unannounced(finished: Finished) -> None:
    log.warning("a room creation finished with nobody to tell its creator")


def _recipient(meeting: Meeting, recipient_id: str) -> Recipient:
    for recipient in meeting.recipients:
        if recipient.id == recipient_id:
            return recipient
    raise MeetingError("recipient_not_found")


def _looks_like_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
