"""The meeting's life: a unique room on the CMS, recipients, confirmations, deletion.

Every change is one transaction with its audit record. The CMS is never called inside a
transaction, and a room that exists on the CMS but could not be recorded is deleted again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db import (
    AuditRecord,
    Channel,
    Meeting,
    MeetingState,
    PatientJoins,
    Preference,
    Recipient,
    Reminder,
    UnitCounter,
    UsedCallId,
)
from bot.services.cms import CmsClient, CmsError, CmsUnavailable, DuplicateCallId, DuplicateUri
from bot.services.naming import new_call_id, room_name, room_uri, uri_slug
from bot.services.validation import MeetingTimes

log = logging.getLogger(__name__)

CDR_TAG_PREFIX = "distansmote:"
MAX_CREATE_ATTEMPTS = 10
# FOR NO KEY UPDATE on PostgreSQL: enough to serialise edits of one meeting, and it does not
# block the reminder claim, which takes a key-share lock on the meeting.
_ROW_LOCK = {"key_share": True}
LIVE_STATES = (MeetingState.CREATED, MeetingState.INVITED, MeetingState.ENDED)


class MeetingError(Exception):
    """A refusal with a code; ``cards.texts`` words it for staff."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Person:
    """Who acts: ``key`` is ``"<platform>:<platform id>"``, stable and never a name."""

    key: str
    name: str
    is_admin: bool = False


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


def _audit(session: AsyncSession, at: datetime, actor: str, action: str, meeting: Meeting | None = None,
           *, space_id: str | None = None, detail: str | None = None) -> None:
    session.add(AuditRecord(
        at=at, actor=actor, action=action, detail=detail,
        meeting_id=meeting.id if meeting else None,
        space_id=meeting.space_id if meeting else space_id,
    ))


class MeetingService:
    def __init__(self, sessions: async_sessionmaker, cms: CmsClient, clock: Clock, settings: Settings,
                 planner: ReminderPlanner | None = None) -> None:
        self._sessions = sessions
        self._cms = cms
        self._clock = clock
        self._settings = settings
        self.planner: ReminderPlanner = planner or NoReminders()

    # -- creating ---------------------------------------------------------------------------

    async def create(self, *, platform: str, creator: Person, unit: str, times: MeetingTimes,
                     request_id: str, patient_joins: PatientJoins | None = None) -> Meeting:
        """Create a unique room on the CMS and record the meeting; all or nothing.

        ``request_id`` is the new-meeting card's id: the same card submitted again returns the
        meeting it already made instead of a second room.
        """
        request_key = f"{creator.key}:{request_id}"
        existing = await self._by_request(request_key)
        if existing is not None:
            raise MeetingError("already_created")

        meeting_id = str(uuid.uuid4())
        slug = uri_slug(unit)
        number = await self._next_number(slug)
        call_id = await self._reserve_call_id()
        for _attempt in range(MAX_CREATE_ATTEMPTS):
            try:
                space_id = await self._cms.create_space(
                    name=room_name(unit, number), uri=room_uri(unit, number), call_id=call_id,
                    cdr_tag=cdr_tag(meeting_id),
                )
                break
            except DuplicateUri:
                number = await self._next_number(slug)
            except DuplicateCallId:
                call_id = await self._reserve_call_id()
            except CmsError as exc:
                log.warning("room not created: %s", type(exc).__name__)
                if isinstance(exc, CmsUnavailable):
                    # A create that timed out may still have happened: find it and take it away.
                    await self._remove_if_created(room_uri(unit, number))
                raise MeetingError("room_service_unavailable") from exc
        else:
            raise MeetingError("no_unique_room")

        try:
            space = await self._cms.get_space(space_id)
            return await self._record(
                meeting_id=meeting_id, request_key=request_key, platform=platform, creator=creator,
                unit=unit, number=number, call_id=call_id, space_id=space_id, secret=space.secret,
                times=times, patient_joins=patient_joins,
            )
        except Exception as exc:
            # The room exists on the CMS but not in our books: take it away again.
            await self._remove_orphan(space_id)
            if isinstance(exc, IntegrityError):
                if await self._by_request(request_key) is not None:
                    raise MeetingError("already_created") from exc
            if isinstance(exc, CmsError):
                raise MeetingError("room_service_unavailable") from exc
            raise

    async def _record(self, *, meeting_id: str, request_key: str, platform: str, creator: Person,
                      unit: str, number: int, call_id: str, space_id: str, secret: str | None,
                      times: MeetingTimes, patient_joins: PatientJoins | None) -> Meeting:
        now = self._clock.now()
        meeting = Meeting(
            id=meeting_id, request_key=request_key, platform=platform, creator_id=creator.key,
            creator_name=creator.name, unit=unit, room_name=room_name(unit, number),
            uri=room_uri(unit, number), call_id=call_id, space_id=space_id, secret=secret,
            starts_at=times.starts_at, ends_at=times.ends_at, state=MeetingState.CREATED,
            created_at=now, recipients=[], patient_joins=patient_joins,
        )
        async with self._sessions() as session, session.begin():
            session.add(meeting)
            session.add_all(self.planner.reminders_for(meeting))
            _audit(session, now, creator.key, "created", meeting)
            await self._remember_unit(session, creator.key, unit)
        return meeting

    async def _remove_orphan(self, space_id: str) -> None:
        try:
            await self._cms.delete_space(space_id)
        except CmsError:
            log.error("could not remove an unrecorded room from the CMS; the sweep will find it")
            return
        async with self._sessions() as session, session.begin():
            _audit(session, self._clock.now(), "system", "deleted", space_id=space_id,
                   detail="not_recorded")

    async def _remove_if_created(self, uri: str) -> None:
        try:
            spaces = await self._cms.list_spaces(filter=uri)
        except CmsError:
            return  # the sweep finds it later by its cdrTag
        for space in spaces:
            if space.uri == uri:
                await self._remove_orphan(space.id)

    async def _by_request(self, request_key: str) -> Meeting | None:
        async with self._sessions() as session:
            return await session.scalar(select(Meeting).where(Meeting.request_key == request_key))

    async def _next_number(self, slug: str) -> int:
        """The unit's next room number; monotonic, committed at once, so never handed out twice."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                _insert(session, UnitCounter).values(unit_key=slug, last_number=0).on_conflict_do_nothing()
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
            _insert(session, Preference).values(actor_key=actor_key, last_unit=unit)
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

    async def audit_trail(self, meeting_id: str) -> list[AuditRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditRecord).where(AuditRecord.meeting_id == meeting_id).order_by(AuditRecord.id)
            )
            return list(rows)

    # -- forwarding and confirmations ---------------------------------------------------------

    async def add_recipient(self, meeting_id: str, person: Person, label: str, channel: Channel) -> Meeting:
        async with self._sessions() as session, session.begin():
            meeting = await self._editable(session, meeting_id, person)
            if any(r.label.casefold() == label.casefold() for r in meeting.recipients):
                raise MeetingError("recipient_exists")
            if len(meeting.recipients) >= 20:
                raise MeetingError("too_many_recipients")
            meeting.recipients.append(Recipient(
                id=str(uuid.uuid4()), position=len(meeting.recipients), label=label, channel=channel,
            ))
            _audit(session, self._clock.now(), person.key, "recipient_added", meeting, detail=channel)
        return meeting

    async def mark_sent(self, meeting_id: str, person: Person, recipient_id: str) -> Meeting:
        """Told through Link or Messenger; a telephone recipient is told and done in this one step."""
        async with self._sessions() as session, session.begin():
            meeting = await self._editable(session, meeting_id, person)
            recipient = _recipient(meeting, recipient_id)
            if recipient.sent_at is not None:
                raise MeetingError("already_sent")
            self._told(session, meeting, recipient, person)
        return meeting

    def _told(self, session: AsyncSession, meeting: Meeting, recipient: Recipient, person: Person) -> None:
        now = self._clock.now()
        recipient.sent_at = now
        if recipient.channel == Channel.PHONE:
            # The routine asks only Link and Messenger recipients to confirm: a phone call is the confirmation.
            recipient.confirmed_at = now
        if meeting.state == MeetingState.CREATED:
            meeting.state = MeetingState.INVITED
        _audit(session, now, person.key, "recipient_sent", meeting, detail=recipient.channel)

    async def mark_confirmed(self, meeting_id: str, person: Person, recipient_id: str) -> Meeting:
        async with self._sessions() as session, session.begin():
            meeting = await self._editable(session, meeting_id, person)
            recipient = _recipient(meeting, recipient_id)
            if recipient.channel == Channel.PHONE and recipient.sent_at is None:
                self._told(session, meeting, recipient, person)  # one step for a phone call, either button
                return meeting
            if recipient.sent_at is None:
                raise MeetingError("not_sent_yet")
            if recipient.confirmed_at is not None:
                raise MeetingError("already_confirmed")
            recipient.confirmed_at = self._clock.now()
            _audit(session, self._clock.now(), person.key, "recipient_confirmed", meeting)
        return meeting

    async def _editable(self, session: AsyncSession, meeting_id: str, person: Person) -> Meeting:
        meeting = await session.get(Meeting, meeting_id, with_for_update=_ROW_LOCK) if _looks_like_id(meeting_id) else None
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
                     rule: str | None = None) -> Meeting:
        """Delete the room on the CMS, then mark the meeting deleted and cancel its reminders.

        Refuses while a call is active unless ``end_calls``. ``rule`` names the policy when
        the bot deletes on its own (the audit shows it instead of a person).
        """
        meeting = await self.get(meeting_id, person)
        if meeting.state == MeetingState.DELETED:
            raise MeetingError("already_deleted")
        try:
            if await self._cms.active_calls(meeting.space_id):
                if not end_calls:
                    raise MeetingError("call_active")
                await self._cms.end_calls(meeting.space_id)
            await self._cms.delete_space(meeting.space_id)
        except CmsError as exc:
            raise MeetingError("room_service_unavailable") from exc

        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            meeting = await session.get(Meeting, meeting_id, with_for_update=_ROW_LOCK)
            assert meeting is not None
            if meeting.state == MeetingState.DELETED:
                raise MeetingError("already_deleted")
            meeting.state = MeetingState.DELETED
            meeting.deleted_at = now
            meeting.deleted_by = rule or person.key
            await session.execute(
                update(Reminder).where(Reminder.meeting_id == meeting_id, Reminder.state == "pending")
                .values(state="cancelled")
            )
            _audit(session, now, person.key, "deleted", meeting, detail=rule or ("calls_ended" if end_calls else None))
        return meeting

    async def mark_ended(self, meeting_id: str) -> None:
        async with self._sessions() as session, session.begin():
            meeting = await session.get(Meeting, meeting_id, with_for_update=_ROW_LOCK)
            if meeting is not None and meeting.state in (MeetingState.CREATED, MeetingState.INVITED):
                meeting.state = MeetingState.ENDED
                _audit(session, self._clock.now(), "system", "ended", meeting)


def _insert(session: AsyncSession, table: type):  # type: ignore[no-untyped-def]
    """INSERT with ON CONFLICT, in the session's dialect."""
    return (pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(table)


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
