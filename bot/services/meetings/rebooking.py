"""A meeting's plan changed after its room was made: moved to a new time, or handed over to a colleague."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.core.problems import Problem
from bot.services.changes import made, record
from bot.services.cms import CmsClient, CmsError
from bot.services.colleagues import Colleague
from bot.services.meetings.common import MeetingError, Person, PlansReminders
from bot.services.meetings.recipients import editable
from bot.services.validation import MeetingTimes
from bot.store.schema import Meeting, MeetingState, Reminder

MOVED, HANDED_OVER = "moved", "handed_over"  # their audit actions


@dataclass(frozen=True)
class Moved:
    """The meeting at its new time, and when it was before (``None`` when the same event runs again:
    the move was made, and its time before it is not kept)."""

    meeting: Meeting
    was: MeetingTimes | None


@dataclass(frozen=True)
class HandedOver:
    meeting: Meeting
    previous_key: str | None  # the creator before; None when the same event runs again


class Rebooking:
    def __init__(self, sessions: async_sessionmaker, cms: CmsClient, clock: Clock, planner: PlansReminders) -> None:
        self._sessions = sessions
        self._cms = cms
        self._clock = clock
        self.planner = planner

    async def move(self, meeting_id: str, person: Person, times: MeetingTimes, *,
                   operation: str | None = None) -> Moved:
        """The meeting at a new time: its reminders and automatic deletion planned again from now, and
        every recipient told of the old time back to needing a new word. The room stays the same."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            meeting = await editable(session, meeting_id, person)
            was = MeetingTimes(meeting.starts_at, meeting.ends_at)
            if MOVED in await made(session, operation):
                return Moved(meeting, None)
            if (times.starts_at, times.ends_at) == (was.starts_at, was.ends_at):
                raise MeetingError(Problem.SAME_TIME)
            if await session.scalar(select(Reminder.id).where(  # the automatic deletion is under way
                    Reminder.meeting_id == meeting.id, Reminder.state == "running").limit(1)):
                raise MeetingError(Problem.DELETION_UNDER_WAY)
            await session.execute(update(Reminder).where(Reminder.meeting_id == meeting.id,
                                                         Reminder.state == "pending").values(state="cancelled"))
            meeting.starts_at, meeting.ends_at = times.starts_at, times.ends_at
            meeting.state = MeetingState.CREATED
            for recipient in meeting.recipients:
                if recipient.sent_at is not None:
                    recipient.retell = True
                    recipient.sent_at = recipient.confirmed_at = None
            session.add_all(self.planner.reminders_for(meeting, since=now))
            await record(session, now, person.key, MOVED, meeting, operation=operation)
        return Moved(meeting, was)

    async def hand_over(self, meeting_id: str, person: Person, to: Colleague, *, owner_jid: str | None = None,
                        operation: str | None = None) -> HandedOver:
        """The colleague becomes the meeting's creator: its card, reminders and deletion are theirs.

        ``owner_jid``, the colleague's Cisco Meeting user (``None``: none), becomes the room's owner on
        the CMS first; a CMS that cannot be asked leaves everything as it was. Run again after a crash
        between the two, the CMS is asked again (the same answer) and the meeting changed then.
        """
        async with self._sessions() as session:
            current = await editable(session, meeting_id, person)
            again = HANDED_OVER in await made(session, operation)
        if not again:
            _may_take_over(current, to)  # before the CMS is asked: a refusal changes nothing there
        if not again and current.owner_jid != owner_jid:
            try:
                await self._cms.set_owner(current.space_id, owner_jid)
            except CmsError as exc:
                raise MeetingError(Problem.ROOM_SERVICE_UNAVAILABLE) from exc
        async with self._sessions() as session, session.begin():
            meeting = await editable(session, meeting_id, person)
            previous = meeting.creator_id
            if HANDED_OVER in await made(session, operation):
                return HandedOver(meeting, None)
            _may_take_over(meeting, to)
            meeting.creator_id, meeting.creator_name, meeting.owner_jid = to.key, to.name, owner_jid
            await record(session, self._clock.now(), person.key, HANDED_OVER, meeting, operation=operation)
        return HandedOver(meeting, previous)


def _may_take_over(meeting: Meeting, to: Colleague) -> None:
    """A colleague on the meeting's own platform, and not the one who has it."""
    if to.key == meeting.creator_id:
        raise MeetingError(Problem.ALREADY_THEIRS)
    if to.key.partition(":")[0] != meeting.platform:
        raise MeetingError(Problem.NOT_FOUND)
