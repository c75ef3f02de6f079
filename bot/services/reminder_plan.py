"""The ``reminder`` rows: their kinds and states, how they are planned, and how a send is recorded.

Shared by the reminder service (``bot.services.reminders``) and the automatic deletion
(``bot.services.auto_delete``), which both claim rows and send through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot import notices
from bot.clock import Alarm, Clock
from bot.config import Settings
from bot.core import PersonKey, Reply
from bot.core.delivery import SEND_TIMEOUT, DeliveryError, DeliveryFailed, DeliveryRefused, Outbox
from bot.logs import bind_request
from bot.metrics import REMINDER_LATENESS, REMINDERS_FAILED, REMINDERS_LATE, REMINDERS_SENT
from bot.services.meetings import Person
from bot.services.pacing import PlatformGate
from bot.services.working_hours import WorkingHours
from bot.store.schema import AuditRecord, Meeting, Reminder, ReminderAttempt, in_open_states

log = logging.getLogger(__name__)

# Kinds
UNCONFIRMED = "unconfirmed"
START = "start"
JOIN_CHECK = "join_check"  # "har alla anslutit?", a few minutes after the start
CLEANUP = "cleanup"
FOLLOWUP = "followup"
AUTO_DELETE = "auto_delete"
PROMPTS = (CLEANUP, FOLLOWUP)

# States
PENDING = "pending"
RUNNING = "running"  # a lease: an automatic deletion in progress
SENT = "sent"
SKIPPED = "skipped"  # nothing to say any more (everyone confirmed, or the meeting is over)
CANCELLED = "cancelled"
FAILED = "failed"
CLAIMABLE = (PENDING, RUNNING)

# Which kinds go first when many are due at once (claimed first, and first through the platform's
# gate): start-of-meeting reminders cannot wait. Kinds not named go after these.
RANK = {START: 0, JOIN_CHECK: 1, UNCONFIRMED: 2, CLEANUP: 3}
LAST = float(len(RANK))

SYSTEM = Person(key="system", name="Distansmöte", is_admin=True)

MAX_ATTEMPTS = 6
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
# An "unconfirmed" reminder this soon after creating the meeting would only nag.
UNCONFIRMED_MIN_LEAD = timedelta(minutes=15)


class ReminderPlanner:
    """The reminder rows of a new meeting, and when follow-ups fall (``meetings.PlansReminders``).

    Offsets in minutes are elapsed time: "5 minutes before the start" is five real minutes,
    also across a clock change. Every row planned rings ``alarm``, so the timer re-arms.
    """

    def __init__(self, settings: Settings, alarm: Alarm) -> None:
        self.settings = settings
        self.working_hours = WorkingHours.from_settings(settings)
        self._alarm = alarm

    def reminders_for(self, meeting: Meeting, since: datetime | None = None) -> Sequence[Reminder]:
        """Those still ahead of ``since``: when the meeting was created, or moved."""
        s = self.settings
        since = since or meeting.created_at
        plan = [
            (UNCONFIRMED, meeting.starts_at - timedelta(minutes=s.reminder_unconfirmed_minutes),
             since + UNCONFIRMED_MIN_LEAD),
            (START, meeting.starts_at - timedelta(minutes=s.reminder_start_minutes), since),
            *([(JOIN_CHECK, meeting.starts_at + timedelta(minutes=s.join_check_minutes), since)]
              if s.join_check_minutes else []),
            (CLEANUP, meeting.ends_at + timedelta(minutes=s.reminder_end_grace_minutes), None),
            (AUTO_DELETE, self.deadline(meeting.ends_at), None),
        ]
        rows = [new_reminder(meeting.id, kind, due) for kind, due, not_before in plan
                if not_before is None or due > not_before]
        if rows:
            self._alarm.ring(min(row.due_at for row in rows))
        return rows

    def deadline(self, ends_at: datetime) -> datetime:
        return ends_at + timedelta(hours=self.settings.auto_delete_after_hours)

    def followup_after(self, prompted_at: datetime) -> datetime:
        later = prompted_at + timedelta(minutes=self.settings.reminder_followup_minutes)
        return self.working_hours.next_moment(later)


def new_reminder(meeting_id: str, kind: str, due_at: datetime) -> Reminder:
    return Reminder(id=str(uuid.uuid4()), meeting_id=meeting_id, kind=kind, due_at=due_at,
                    planned_at=due_at, state=PENDING, attempts=0)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    wait = min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)
    return max(wait, timedelta(seconds=retry_after or 0))


async def _attempt(send: Callable[[], Awaitable[None]]) -> DeliveryError | None:
    try:
        await send()
    except DeliveryError as problem:
        return problem
    return None


def room(meeting: Meeting, settings: Settings) -> notices.Room:
    zone = settings.zone
    return notices.Room(meeting.id, meeting.room_name, meeting.starts_at.astimezone(zone),
                        meeting.ends_at.astimezone(zone))


def late(reminder: Reminder, now: datetime, settings: Settings) -> bool:
    return now - reminder.planned_at > timedelta(minutes=settings.late_reminder_minutes)


def audit(session: AsyncSession, at: datetime, actor: str, action: str, meeting: Meeting, *, detail: str) -> None:
    session.add(AuditRecord(at=at, actor=actor, action=action, detail=detail, meeting_id=meeting.id,
                            space_id=meeting.space_id))


async def deadline(session: AsyncSession, meeting_id: str) -> datetime | None:
    """When the meeting's room is deleted automatically (``None``: not any more)."""
    return await session.scalar(
        # A running deletion still counts: it has not cancelled the meeting's reminders yet.
        select(func.min(Reminder.due_at)).where(Reminder.meeting_id == meeting_id,
                                               Reminder.kind == AUTO_DELETE, in_open_states(Reminder.state))
    )


class ProactiveSends:
    """What the bot sends on its own: the attempts logged first, then each message through its
    platform's gate (``bot.services.pacing``) to the outbox, within ``SEND_TIMEOUT`` in all."""

    def __init__(self, engine: AsyncEngine, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self._engine = engine
        self._clock = clock
        self._settings = settings
        self._outbox = outbox
        self._gates: dict[str, PlatformGate] = {}

    @property
    def many_instances_safe(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    @property
    def platforms(self) -> tuple[str, ...]:
        return self._outbox.platforms

    async def log_attempts(self, session: AsyncSession, reminders: Sequence[Reminder]) -> None:
        """Commit the attempts before sending, so a crash after a send is visible afterwards."""
        ids = [reminder.id for reminder in reminders]
        logged = dict((await session.execute(
            select(ReminderAttempt.reminder_id, func.count()).where(ReminderAttempt.reminder_id.in_(ids))
            .group_by(ReminderAttempt.reminder_id))).all())
        for reminder in reminders:
            if logged.get(reminder.id, 0) > reminder.attempts:
                log.warning("reminder %s: an earlier send attempt did not finish; it may arrive twice", reminder.id)
        started = self._clock.now()
        rows = [{"reminder_id": reminder_id, "started_at": started} for reminder_id in ids]
        if self.many_instances_safe:
            # Its own autocommit connection: the claim's transaction keeps the row locks.
            async with self._engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(insert(ReminderAttempt), rows)
        else:
            await session.execute(insert(ReminderAttempt), rows)
            await session.commit()

    async def to_person(self, person: PersonKey, reply: Reply | Sequence[Reply], *, request: str | None = None,
                        priority: tuple[float, ...] = (LAST,)) -> DeliveryError | None:
        """One message (or a few, in order) to a person, 1:1; the problem if it was not delivered."""
        if request is not None:
            bind_request(request)
        replies = [reply] if isinstance(reply, Reply) else list(reply)
        return await self._paced(person.platform, lambda: self._outbox.send(person, replies), priority)

    async def to_identity(self, platform: str, identity: str, reply: Reply) -> DeliveryError | None:
        """One message to an admin listed by id or e-mail address, on ``platform``."""
        return await self._paced(platform, lambda: self._outbox.send_to_identity(platform, identity, [reply]),
                                 (LAST,))

    async def _paced(self, platform: str, send: Callable[[], Awaitable[None]],
                     priority: tuple[float, ...]) -> DeliveryError | None:
        """Through the platform's gate, within ``SEND_TIMEOUT`` in all.

        A 429 slows the whole platform down (``PlatformGate``); the refused message waits its turn
        and goes again while time is left, since it was not delivered.
        """
        gate = self._gates.setdefault(platform, PlatformGate(self._settings.reminder_sends_per_platform))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SEND_TIMEOUT
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    async with gate.slot(priority) as started:
                        problem = await _attempt(send)
                    if problem is None:
                        gate.passed(started)
                        return None
                    if problem.retry_after is None:
                        return problem
                    gate.refused(started, problem.retry_after)
                    if loop.time() + problem.retry_after >= deadline:
                        return problem
        except TimeoutError:
            return DeliveryFailed("timeout")

    def retry_or_fail(self, reminder: Reminder, meeting: Meeting, problem: DeliveryError,
                      now: datetime) -> notices.Notice | None:
        """A temporary failure: again after a backoff, or failed for good (an alert to the admins).
        A message the platform refused as such fails at once: sent again, it would be refused again."""
        reminder.last_error = problem.code
        if isinstance(problem, DeliveryRefused) or reminder.attempts >= MAX_ATTEMPTS:
            reminder.state = FAILED
            log.error("reminder %s failed after %d attempts (%s)", reminder.id, reminder.attempts, problem.code)
            return notices.ReminderFailed(room(meeting, self._settings), attempts=reminder.attempts)
        reminder.due_at = now + backoff(reminder.attempts, problem.retry_after)
        log.info("reminder %s not delivered (%s); retry %d", reminder.id, problem.code, reminder.attempts)
        return None

    def count(self, reminder: Reminder) -> None:
        """This instance's metrics for a reminder whose outcome was just committed."""
        if reminder.state == SENT and reminder.sent_at is not None:
            lateness = max((reminder.sent_at - reminder.planned_at).total_seconds(), 0.0)
            REMINDERS_SENT.labels(reminder.kind).inc()
            REMINDER_LATENESS.observe(lateness)
            if lateness > self._settings.late_reminder_minutes * 60:
                REMINDERS_LATE.labels(reminder.kind).inc()
        elif reminder.state == FAILED:
            REMINDERS_FAILED.labels(reminder.kind).inc()
