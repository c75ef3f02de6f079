"""Automatic deletion: a room still there at its deadline is deleted, and its creator told.

The row is leased, not locked, while ``MeetingService.delete`` runs (it updates reminder rows itself: a lock would
deadlock); it cancels only ``pending`` rows, so the lease survives and the creator is still told. A CMS that does not
answer is tried again without end, and an admin told once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import notices
from bot.clock import Clock
from bot.config import Settings
from bot.core import PersonKey, Problem
from bot.core.delivery import DeliveryGone
from bot.services.admin_alerts import AdminAlerts
from bot.services.meetings import MeetingError, MeetingService
from bot.services.notice_outbox import NoticeOutbox
from bot.services.reminder_plan import (
    CANCELLED,
    FAILED,
    MAX_ATTEMPTS,
    PENDING,
    RUNNING,
    SENT,
    SYSTEM,
    ProactiveSends,
    audit,
    backoff,
    room,
)
from bot.store.schema import AUTO_DELETE_RULE, Meeting, MeetingState, Reminder

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
CALL_ACTIVE_RETRY = timedelta(minutes=30)
CALL_ACTIVE = Problem.CALL_ACTIVE.value


class AutoDeletion:
    def __init__(self, meetings: MeetingService, clock: Clock, settings: Settings, sends: ProactiveSends,
                 alerts: AdminAlerts, render: notices.Render, outbox: NoticeOutbox) -> None:
        self._meetings = meetings
        self._outbox = outbox
        self._clock = clock
        self._settings = settings
        self._sends = sends
        self._alerts = alerts
        self._render = render

    async def run(self, session: AsyncSession, reminder: Reminder, meeting: Meeting, now: datetime) -> None:
        """Handle a claimed ``auto_delete`` row of ``meeting`` (committing as it goes)."""
        reminder.state, reminder.due_at = RUNNING, now + LEASE
        await session.commit()
        if meeting.state != MeetingState.DELETED:
            try:
                await self._meetings.delete(meeting.id, SYSTEM, rule=AUTO_DELETE_RULE)
            except MeetingError as exc:
                if exc.problem == Problem.CALL_ACTIVE:
                    await self._postpone(session, reminder, meeting)
                    return
                if exc.problem != Problem.ALREADY_DELETED:
                    await self._retry(session, reminder, meeting, exc.code)
                    return
            await session.refresh(meeting)
        if meeting.deleted_by != AUTO_DELETE_RULE:
            reminder.state = CANCELLED  # someone deleted it by hand meanwhile
            await session.commit()
            return
        await self._announce(session, reminder, meeting)

    async def _retry(self, session: AsyncSession, reminder: Reminder, meeting: Meeting, code: str) -> None:
        """The CMS did not answer: try again, never give up (the room must go); tell an admin once."""
        reminder.attempts += 1
        reminder.state, reminder.last_error = PENDING, code
        reminder.due_at = self._clock.now() + backoff(reminder.attempts)
        await session.commit()
        log.warning("automatic deletion of meeting %s failed (%s); retrying", meeting.id, code)
        if reminder.attempts == MAX_ATTEMPTS:
            await self._alerts.send(notices.DeletionFailing(room(meeting, self._settings)), meeting.platform)

    async def _postpone(self, session: AsyncSession, reminder: Reminder, meeting: Meeting) -> None:
        """A call is active at the deadline: wait, and tell the creator and an admin the first time."""
        now = self._clock.now()
        first = reminder.last_error != CALL_ACTIVE
        reminder.state, reminder.due_at, reminder.last_error = PENDING, now + CALL_ACTIVE_RETRY, CALL_ACTIVE
        audit(session, now, SYSTEM.key, "auto_delete_postponed", meeting, detail=CALL_ACTIVE)
        await session.commit()
        log.info("automatic deletion of meeting %s waits: a call is active", meeting.id)
        if first:
            zone = self._settings.zone
            place, deadline, retry_at = (room(meeting, self._settings), reminder.planned_at.astimezone(zone),
                                         reminder.due_at.astimezone(zone))
            await self._outbox.tell(PersonKey.parse(meeting.creator_id),
                                    notices.DeletionWaitsOnCall(place, deadline=deadline, retry_at=retry_at))
            await self._alerts.send(notices.CallActiveAtDeadline(place, deadline=deadline, retry_at=retry_at),
                                    meeting.platform)

    async def _announce(self, session: AsyncSession, reminder: Reminder, meeting: Meeting) -> None:
        """Tell the creator; a temporary failure keeps the lease and retries."""
        assert meeting.deleted_at is not None
        reply = self._render(notices.AutoDeleted(
            room(meeting, self._settings), deleted_at=meeting.deleted_at.astimezone(self._settings.zone)))
        await self._sends.log_attempts(session, [reminder])
        problem = await self._sends.to_person(PersonKey.parse(meeting.creator_id), reply)
        reminder.attempts += 1
        alert = None
        if problem is None:
            reminder.state, reminder.sent_at, reminder.last_error = SENT, self._clock.now(), None
        elif isinstance(problem, DeliveryGone):
            reminder.state, reminder.last_error = FAILED, problem.code
        else:
            alert = self._sends.retry_or_fail(reminder, meeting, problem, self._clock.now())
        await session.commit()
        self._sends.count(reminder)
        if alert is not None:
            await self._alerts.send(alert, meeting.platform)
