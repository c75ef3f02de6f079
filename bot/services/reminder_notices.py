"""What a due reminder says: its notice worded for the meeting as it is now, or none when it can no longer help."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import notices
from bot.config import Settings
from bot.core import Reply
from bot.services.joins import Joins
from bot.services.reminder_plan import (
    CANCELLED,
    FOLLOWUP,
    JOIN_CHECK,
    SKIPPED,
    START,
    UNCONFIRMED,
    deadline,
    late,
    room,
)
from bot.store.schema import Channel, Meeting, MeetingState, Reminder

# Settings with the routine's documents shown with the start reminder.
TIP_LINKS = ("link_meeting_tips", "link_film_picture_sound")


class ReminderNotices:
    """The notices of the reminder service, rendered for the platforms (``notices.Render``)."""

    def __init__(self, settings: Settings, joins: Joins, render: notices.Render) -> None:
        self._settings = settings
        self._joins = joins
        self._render = render

    async def message(self, session: AsyncSession, reminder: Reminder, meeting: Meeting, now: datetime) -> Reply:
        is_late = late(reminder, now, self._settings)
        place = room(meeting, self._settings)
        if reminder.kind == UNCONFIRMED:
            # A telephone recipient confirms nothing (the routine): named only while not yet phoned.
            confirming = [r for r in meeting.recipients if r.channel != Channel.PHONE]
            return self._render(notices.Unconfirmed(
                place, late=is_late,
                unconfirmed=tuple(r.label for r in confirming if r.sent_at and not r.confirmed_at),
                not_sent=tuple(r.label for r in confirming if not r.sent_at),
                not_phoned=tuple(r.label for r in meeting.recipients if r.channel == Channel.PHONE and not r.sent_at),
            ))
        if reminder.kind == JOIN_CHECK:
            return self._render(await self._joins.look(meeting))
        if reminder.kind == START:
            return self._render(notices.StartCheck(place, links=self._tip_links(), late=is_late,
                                                   patient_joins=meeting.patient_joins))
        return self._render(notices.CleanupPrompt(place, deadline=await self.local_deadline(session, meeting.id),
                                                  followup=reminder.kind == FOLLOWUP, late=is_late,
                                                  film_link=self._settings.link_film_delete_room))

    async def local_deadline(self, session: AsyncSession, meeting_id: str) -> datetime | None:
        moment = await deadline(session, meeting_id)
        return moment.astimezone(self._settings.zone) if moment else None

    def _tip_links(self) -> tuple[tuple[str, str], ...]:
        return tuple((key, value) for key in TIP_LINKS if (value := getattr(self._settings, key)))


def final_without_sending(reminder: Reminder, meeting: Meeting, now: datetime) -> str | None:
    """A reminder that can no longer help is closed without a message."""
    if meeting.state == MeetingState.DELETED:
        return CANCELLED
    if reminder.kind in (UNCONFIRMED, START, JOIN_CHECK) and now >= meeting.ends_at:
        return SKIPPED
    recipients = meeting.recipients
    if reminder.kind == UNCONFIRMED and recipients and all(
            r.sent_at if r.channel == Channel.PHONE else r.confirmed_at for r in recipients):
        return SKIPPED  # everyone has confirmed, or been phoned (telephone recipients confirm nothing)
    return None
