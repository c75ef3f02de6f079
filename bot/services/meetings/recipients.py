"""A meeting's course after its room is made: recipients invited and confirmed, the meeting ended."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.core.problems import Problem
from bot.services.changes import made, record
from bot.services.meetings.common import ROW_LOCK, MeetingError, Person, allowed, looks_like_id
from bot.store.schema import Channel, Meeting, MeetingState, Recipient

MAX_RECIPIENTS = 20


class Recipients:
    def __init__(self, sessions: async_sessionmaker, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def add_recipient(self, meeting_id: str, person: Person, label: str, channel: Channel, *,
                            operation: str | None = None) -> Meeting:
        async with self._sessions() as session, session.begin():
            meeting = await editable(session, meeting_id, person)
            if "recipient_added" in await made(session, operation):
                return meeting
            if any(r.label.casefold() == label.casefold() for r in meeting.recipients):
                raise MeetingError(Problem.RECIPIENT_EXISTS)
            if len(meeting.recipients) >= MAX_RECIPIENTS:
                raise MeetingError(Problem.TOO_MANY_RECIPIENTS)
            meeting.recipients.append(Recipient(
                id=str(uuid.uuid4()), position=len(meeting.recipients), label=label, channel=channel,
            ))
            await record(session, self._clock.now(), person.key, "recipient_added", meeting, detail=channel,
                         operation=operation)
        return meeting

    async def mark_sent(self, meeting_id: str, person: Person, recipient_id: str, *,
                        shown_start: datetime | None = None, operation: str | None = None) -> Meeting:
        """Told through Link or Messenger; a telephone recipient is told and done in this one step.
        ``shown_start``: the start on the card clicked; a card from before a move is refused."""
        async with self._sessions() as session, session.begin():
            meeting = await editable(session, meeting_id, person, shown_start)
            recipient = _recipient(meeting, recipient_id)
            if "recipient_sent" in await made(session, operation):
                return meeting
            if recipient.sent_at is not None:
                raise MeetingError(Problem.ALREADY_PHONED if recipient.channel == Channel.PHONE
                                   else Problem.ALREADY_SENT)
            await self._mark_told(session, meeting, recipient, person, operation)
        return meeting

    async def _mark_told(self, session: AsyncSession, meeting: Meeting, recipient: Recipient, person: Person,
                    operation: str | None) -> None:
        now = self._clock.now()
        recipient.sent_at = now
        recipient.retell = False
        if recipient.channel == Channel.PHONE:
            # The routine asks only Link and Messenger recipients to confirm: a phone call is the confirmation.
            recipient.confirmed_at = now
        if meeting.state == MeetingState.CREATED:
            meeting.state = MeetingState.INVITED
        await record(session, now, person.key, "recipient_sent", meeting, detail=recipient.channel,
                     operation=operation)

    async def mark_confirmed(self, meeting_id: str, person: Person, recipient_id: str, *,
                             shown_start: datetime | None = None, operation: str | None = None) -> Meeting:
        async with self._sessions() as session, session.begin():
            meeting = await editable(session, meeting_id, person, shown_start)
            recipient = _recipient(meeting, recipient_id)
            if await made(session, operation) & {"recipient_confirmed", "recipient_sent"}:
                return meeting
            if recipient.channel == Channel.PHONE and recipient.sent_at is None:
                # One step for a phone call, either button.
                await self._mark_told(session, meeting, recipient, person, operation)
                return meeting
            if recipient.sent_at is None:
                raise MeetingError(Problem.NOT_SENT_YET)
            if recipient.confirmed_at is not None:
                raise MeetingError(Problem.ALREADY_PHONED if recipient.channel == Channel.PHONE
                                   else Problem.ALREADY_CONFIRMED)
            recipient.confirmed_at = self._clock.now()
            await record(session, self._clock.now(), person.key, "recipient_confirmed", meeting, operation=operation)
        return meeting

    async def mark_ended(self, meeting_id: str) -> None:
        async with self._sessions() as session, session.begin():
            meeting = await session.get(Meeting, meeting_id, with_for_update=ROW_LOCK)
            if meeting is not None and meeting.state in (MeetingState.CREATED, MeetingState.INVITED):
                meeting.state = MeetingState.ENDED
                await record(session, self._clock.now(), "system", "ended", meeting)


async def editable(session: AsyncSession, meeting_id: str, person: Person,
                   shown_start: datetime | None = None) -> Meeting:
    """The meeting, locked, if ``person`` may change it now (and, with ``shown_start``, if the card
    clicked still shows its time)."""
    meeting = allowed(await session.get(Meeting, meeting_id, with_for_update=ROW_LOCK)
                      if looks_like_id(meeting_id) else None, person)
    if meeting.state == MeetingState.DELETED:
        raise MeetingError(Problem.ALREADY_DELETED)
    if shown_start is not None and shown_start != meeting.starts_at:
        raise MeetingError(Problem.CARD_OUT_OF_DATE)
    return meeting


def _recipient(meeting: Meeting, recipient_id: str) -> Recipient:
    for recipient in meeting.recipients:
        if recipient.id == recipient_id:
            return recipient
    raise MeetingError(Problem.RECIPIENT_NOT_FOUND)
