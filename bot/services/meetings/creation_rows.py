"""A room creation's record (``room_creation``): its lease, its tries, its end, and the meeting it makes."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.core.problems import Problem
from bot.services import leases
from bot.services.changes import record
from bot.services.meetings.common import MeetingError, Person, PlansReminders
from bot.services.naming import new_call_id, room_name, room_uri, uri_slug
from bot.services.validation import MeetingTimes
from bot.store.engine import insert_on_conflict
from bot.store.schema import Meeting, MeetingState, PatientJoins, Preference, RoomCreation, UnitCounter, UsedCallId

# A room creation's lease: renewed while it runs; one that ran out is finished by the next pass.
CREATION_LEASE = timedelta(seconds=30)
CREATING, CREATED, ABANDONED = "creating", "created", "abandoned"


class CreationRows:
    def __init__(self, sessions: async_sessionmaker, clock: Clock, planner: PlansReminders) -> None:
        self._sessions = sessions
        self._clock = clock
        self.planner = planner

    async def intend(self, request_key: str, platform: str, creator: Person, unit: str, times: MeetingTimes,
                     patient_joins: PatientJoins | None, operation: str | None,
                     owner_jid: str | None = None) -> tuple[RoomCreation, bool]:
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
            raise MeetingError(Problem.ROOM_PENDING)
        if earlier is not None:
            if earlier.state == CREATED:
                raise MeetingError(Problem.ALREADY_CREATED)
            if not await self.take_over(earlier):
                raise MeetingError(Problem.CREATION_IN_PROGRESS)
            return earlier, True  # given up before, or its process died: look for its room first
        now = self._clock.now()
        creation = RoomCreation(
            meeting_id=str(uuid.uuid4()), request_key=request_key, platform=platform, creator_id=creator.key,
            creator_name=creator.name, unit=unit, number=await self.next_number(uri_slug(unit)),
            call_id=await self.reserve_call_id(), starts_at=times.starts_at, ends_at=times.ends_at,
            patient_joins=patient_joins, state=CREATING, created_at=now, lease_until=now + CREATION_LEASE,
            operation=operation, owner_jid=owner_jid,
        )
        async with self._sessions() as session:
            session.add(creation)
            try:
                await session.commit()
            except IntegrityError:
                # The same card, at the same moment.
                raise MeetingError(Problem.CREATION_IN_PROGRESS) from None
        return creation, False

    async def asked_by(self, request_key: str) -> str | None:
        """The event (its key) that asked for the card's room."""
        async with self._sessions() as session:
            return await session.scalar(select(RoomCreation.operation).where(RoomCreation.request_key == request_key))

    async def take_over(self, creation: RoomCreation) -> bool:
        """Lease a creation that nobody works on (given up, or its lease ran out)."""
        now = self._clock.now()
        taken = await leases.take(
            self._sessions, RoomCreation, RoomCreation.meeting_id == creation.meeting_id,
            free=or_(RoomCreation.state == ABANDONED,
                     and_(RoomCreation.state == CREATING, RoomCreation.lease_until < now)),
            until=now + CREATION_LEASE, state=CREATING, finished_at=None)
        creation.state = CREATING
        return taken

    def leased(self, creation: RoomCreation) -> contextlib.AbstractAsyncContextManager[None]:
        """Renew the creation's lease while the work runs, so that no other pass takes it."""
        return leases.renewed(self._sessions, RoomCreation, RoomCreation.meeting_id == creation.meeting_id,
                              held=RoomCreation.state == CREATING, now=self._clock.now, lease=CREATION_LEASE)

    async def attempt(self, creation: RoomCreation, *, number: int | None = None, call_id: str | None = None) -> None:
        """Record the next try's number or call ID before the CMS is asked with it."""
        creation.number = number or creation.number
        creation.call_id = call_id or creation.call_id
        await self._set(creation, number=creation.number, call_id=creation.call_id)

    async def promise(self, creation: RoomCreation, *, release: bool) -> None:
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

    async def doubt(self, creation: RoomCreation) -> None:
        creation.doubt_since = self._clock.now()
        await self._set(creation, doubt_since=creation.doubt_since)

    async def close(self, creation: RoomCreation, state: str) -> None:
        await self._set(creation, state=state, lease_until=None, finished_at=self._clock.now())
        creation.state = state

    async def _set(self, creation: RoomCreation, **values: object) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(update(RoomCreation).where(RoomCreation.meeting_id == creation.meeting_id)
                                  .values(**values))

    async def record(self, creation: RoomCreation, space_id: str, secret: str | None) -> Meeting:
        """The meeting, its reminders and audit record, and the creation closed: one transaction."""
        now = self._clock.now()
        meeting = Meeting(
            id=creation.meeting_id, request_key=creation.request_key, platform=creation.platform,
            creator_id=creation.creator_id, creator_name=creation.creator_name, unit=creation.unit,
            room_name=room_name(creation.unit, creation.number), uri=room_uri(creation.unit, creation.number),
            call_id=creation.call_id, space_id=space_id, secret=secret, starts_at=creation.starts_at,
            ends_at=creation.ends_at, state=MeetingState.CREATED, created_at=now, recipients=[],
            patient_joins=creation.patient_joins, owner_jid=creation.owner_jid,
        )
        async with self._sessions() as session, session.begin():
            session.add(meeting)
            session.add_all(self.planner.reminders_for(meeting))
            await record(session, now, creation.creator_id, "created", meeting)
            await _remember_unit(session, creation.creator_id, creation.unit)
            await session.execute(update(RoomCreation).where(RoomCreation.meeting_id == creation.meeting_id)
                                  .values(state=CREATED, lease_until=None, finished_at=now))
        creation.state = CREATED
        return meeting

    async def next_number(self, slug: str) -> int:
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

    async def reserve_call_id(self) -> str:
        while True:
            call_id = new_call_id()
            async with self._sessions() as session:
                session.add(UsedCallId(call_id=call_id, reserved_at=self._clock.now()))
                try:
                    await session.commit()
                except IntegrityError:
                    continue
            return call_id


async def _remember_unit(session: AsyncSession, actor_key: str, unit: str) -> None:
    await session.execute(
        insert_on_conflict(session, Preference).values(actor_key=actor_key, last_unit=unit)
        .on_conflict_do_update(index_elements=[Preference.actor_key], set_={"last_unit": unit})
    )
