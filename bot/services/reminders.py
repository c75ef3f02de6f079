"""Reminders that are never lost and never doubled: the ``reminder`` table is the schedule, APScheduler only wakes us.

A batch of due rows per transaction: claim them (row locks, start reminders first), log the attempts, send them all
at once, mark each and commit. The residual window, and SQLite's single instance: docs/reminders.md, "How once is
kept". An ``auto_delete`` row is claimed alone and handed to ``bot.services.auto_delete``, which leases it instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import notices
from bot.clock import Alarm, Clock
from bot.config import Settings
from bot.core import PersonKey, Problem, Reply
from bot.core.delivery import DeliveryError, DeliveryGone
from bot.logs import bind_request
from bot.services.admin_alerts import AdminAlerts
from bot.services.auto_delete import AutoDeletion
from bot.services.joins import Joins
from bot.services.meetings import MeetingError, MeetingService, Person
from bot.services.reminder_notices import ReminderNotices, final_without_sending
from bot.services.reminder_plan import (
    AUTO_DELETE,
    CANCELLED,
    CLAIMABLE,
    CLEANUP,
    FAILED,
    FOLLOWUP,
    LAST,
    MAX_ATTEMPTS,
    PENDING,
    PROMPTS,
    RANK,
    SENT,
    SYSTEM,
    ProactiveSends,
    ReminderPlanner,
    audit,
    backoff,
    deadline,
    new_reminder,
    room,
)
from bot.store.schema import Meeting, MeetingState, Reminder, in_open_states

log = logging.getLogger(__name__)

# Claim loops per process (PostgreSQL), each claiming up to BATCH due messages at a time; what is in
# flight at once is further bounded per platform by DISTANSMOTE_REMINDER_SENDS_PER_PLATFORM.
CLAIM_LOOPS = 4
BATCH = 16
# Above SEND_TIMEOUT (bot.core.delivery): a process that hangs mid-send loses its lock, not the reminder.
IDLE_IN_TRANSACTION_TIMEOUT = "30s"
MAX_PER_RUN = 10_000
_Claim = TypeVar("_Claim", bound=Select[Any])


@dataclass(frozen=True)
class Snoozed:
    due_at: datetime
    already: bool


class ReminderService:
    """Domain verbs for reminders: ``snooze``, ``next_due``, ``run_due``."""

    def __init__(self, sessions: async_sessionmaker, clock: Clock, settings: Settings, meetings: MeetingService,
                 planner: ReminderPlanner, alarm: Alarm, sends: ProactiveSends, auto_delete: AutoDeletion,
                 alerts: AdminAlerts, joins: Joins, *, render: notices.Render, workers: int | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._settings = settings
        self._meetings = meetings
        self._planner = planner
        self._alarm = alarm
        self._sends = sends
        self._auto_delete = auto_delete
        self._alerts = alerts
        self._notices = ReminderNotices(settings, joins, render)
        # SKIP LOCKED lets several claim loops share the queue; SQLite has one writer anyway.
        self._workers = workers or (CLAIM_LOOPS if self.many_instances_safe else 1)
        self._batch = BATCH

    @property
    def many_instances_safe(self) -> bool:
        return self._sends.many_instances_safe

    async def snooze(self, meeting_id: str, person: Person, minutes: int) -> Snoozed:
        """Bring the cleanup prompt back in ``minutes``; a second click keeps the first choice."""
        meeting = await self._meetings.get(meeting_id, person)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # The meeting's row lock serialises two clicks arriving at two instances at once.
            meeting = await session.get(Meeting, meeting.id, with_for_update=True)
            assert meeting is not None
            if meeting.state == MeetingState.DELETED:
                raise MeetingError(Problem.ALREADY_DELETED)
            prompts = list(await session.scalars(
                select(Reminder).where(Reminder.meeting_id == meeting.id, Reminder.kind.in_(PROMPTS),
                                       Reminder.state == PENDING)
            ))
            waiting = [r.due_at for r in prompts if r.kind == CLEANUP and r.due_at > now]
            if waiting:
                return Snoozed(min(waiting), already=True)
            for prompt in prompts:
                prompt.state = CANCELLED
            due = now + timedelta(minutes=minutes)
            session.add(new_reminder(meeting.id, CLEANUP, due))
            audit(session, now, person.key, "reminder_snoozed", meeting, detail=str(minutes))
        self._alarm.ring(due)
        return Snoozed(due, already=False)

    async def next_due(self) -> datetime | None:
        async with self._sessions() as session:
            return await session.scalar(select(func.min(Reminder.due_at)).where(in_open_states(Reminder.state)))

    # -- delivering -------------------------------------------------------------------------------

    async def run_due(self, stop: asyncio.Event | None = None) -> int:
        """Handle every reminder that is due now; returns how many were handled.

        Once ``stop`` is set (shutdown), each claim loop finishes what it has in hand and ends.
        """
        stop = stop or asyncio.Event()
        async with asyncio.TaskGroup() as group:
            workers = [group.create_task(self._drain(stop)) for _ in range(self._workers)]
        return sum(worker.result() for worker in workers)

    async def _drain(self, stop: asyncio.Event) -> int:
        handled = 0
        while handled < MAX_PER_RUN and not stop.is_set():
            count = await self._run(messages=True) or await self._run(messages=False)
            if not count:
                break
            handled += count
        return handled

    async def _run(self, *, messages: bool) -> int:
        """Claim due messages (a batch, start reminders first) or one automatic deletion, and handle them."""
        now = self._clock.now()
        async with self._sessions() as session:
            claimed = await self._claim(session, now, messages=messages)
            ids = [reminder.id for reminder in claimed]
            try:
                if messages:
                    await self._send_batch(session, claimed, now)
                elif claimed:
                    await self._delete_when_due(session, claimed[0], now)
            except Exception:
                # A bug must not pin the queue to these rows: retry them later like failed sends.
                log.exception("reminder(s) %s could not be handled", ", ".join(ids))
                await session.rollback()
                for reminder_id in ids:
                    await self._record_problem(reminder_id, "internal")
        return len(ids)

    async def _delete_when_due(self, session: AsyncSession, reminder: Reminder, now: datetime) -> None:
        bind_request(f"reminder:{reminder.id}")
        meeting = await session.get(Meeting, reminder.meeting_id)
        assert meeting is not None  # a foreign key
        await self._auto_delete.run(session, reminder, meeting, now)

    async def _claim(self, session: AsyncSession, now: datetime, *, messages: bool) -> Sequence[Reminder]:
        """Due messages (``BATCH``, start reminders first), or one automatic deletion."""
        query = select(Reminder).where(in_open_states(Reminder.state), Reminder.due_at <= now)
        if messages:
            query = (query.where(Reminder.kind != AUTO_DELETE)
                     .order_by(_FIRST_KINDS_FIRST, Reminder.due_at).limit(self._batch))
        else:
            query = query.where(Reminder.kind == AUTO_DELETE).order_by(Reminder.due_at).limit(1)
        if self.many_instances_safe:
            await session.execute(
                text(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'"))
            query = _locking(query)
        return list(await session.scalars(query))

    async def _send_batch(self, session: AsyncSession, batch: Sequence[Reminder], now: datetime) -> None:
        """Compose each message, log the attempts, send them all at once, record the outcomes, commit.

        The sends are the only concurrent part (one session is never used by two tasks); the rows
        stay locked until the commit, as with a single reminder.
        """
        if not batch:
            return
        outgoing: list[tuple[Reminder, Meeting, Reply]] = []
        for reminder in batch:
            meeting = await session.get(Meeting, reminder.meeting_id)
            assert meeting is not None  # a foreign key
            final = final_without_sending(reminder, meeting, now)
            if final is not None:
                reminder.state = final
            else:
                outgoing.append((reminder, meeting, await self._notices.message(session, reminder, meeting, now)))
        if outgoing:
            await self._sends.log_attempts(session, [reminder for reminder, _, _ in outgoing])
        problems = await asyncio.gather(*(
            self._sends.to_person(PersonKey.parse(meeting.creator_id), reply, request=f"reminder:{reminder.id}",
                                  priority=(RANK.get(reminder.kind, LAST), reminder.due_at.timestamp()))
            for reminder, meeting, reply in outgoing))
        afterwards = []
        for (reminder, meeting, _), problem in zip(outgoing, problems, strict=True):
            bind_request(f"reminder:{reminder.id}")
            afterwards.append(await self._outcome(session, reminder, meeting, problem))
        await session.commit()
        for reminder, _, _ in outgoing:
            self._sends.count(reminder)
        for (reminder, meeting, _), (followup, alert) in zip(outgoing, afterwards, strict=True):
            bind_request(f"reminder:{reminder.id}")
            if followup is not None:
                self._alarm.ring(followup)
            if reminder.state == SENT and reminder.kind == CLEANUP:
                await self._meetings.mark_ended(meeting.id)
            if alert is not None:
                await self._alerts.send(alert, meeting.platform)

    async def _outcome(self, session: AsyncSession, reminder: Reminder, meeting: Meeting,
                       problem: DeliveryError | None) -> tuple[datetime | None, notices.Notice | None]:
        """Record a send's outcome in the session: the follow-up to wake for, the alert to give."""
        now = self._clock.now()
        reminder.attempts += 1
        if problem is None:
            reminder.state, reminder.sent_at, reminder.last_error = SENT, now, None
            followup = await self._plan_followup(session, meeting.id, now) if reminder.kind in PROMPTS else None
            return followup, None
        if isinstance(problem, DeliveryGone):
            return None, await self._stop_reminders(session, reminder, meeting, problem, now)
        return None, self._sends.retry_or_fail(reminder, meeting, problem, now)

    async def _stop_reminders(self, session: AsyncSession, reminder: Reminder, meeting: Meeting,
                              problem: DeliveryError, now: datetime) -> notices.Notice:
        """Nobody to remind: stop the messages, keep the automatic deletion, tell an admin."""
        reminder.state, reminder.last_error = FAILED, problem.code
        await session.execute(
            update(Reminder).where(Reminder.meeting_id == meeting.id, Reminder.state == PENDING,
                                   Reminder.kind != AUTO_DELETE, Reminder.id != reminder.id)
            .values(state=CANCELLED, last_error=problem.code)
        )
        audit(session, now, SYSTEM.key, "reminders_stopped", meeting, detail=problem.code)
        log.warning("reminders for meeting %s stopped: recipient gone (%s)", meeting.id, problem.code)
        return notices.RecipientGone(room(meeting, self._settings),
                                     deadline=await self._notices.local_deadline(session, meeting.id))

    async def _plan_followup(self, session: AsyncSession, meeting_id: str, prompted_at: datetime) -> datetime | None:
        due = self._planner.followup_after(prompted_at)
        ends = await deadline(session, meeting_id)
        if ends is not None and due >= ends:
            return None  # the automatic deletion comes first
        # Deleted meanwhile by another worker: its deletion has already cancelled what was pending.
        state = await session.scalar(select(Meeting.state).where(Meeting.id == meeting_id))
        if state == MeetingState.DELETED:
            return None
        session.add(new_reminder(meeting_id, FOLLOWUP, due))
        return due

    async def _record_problem(self, reminder_id: str, code: str) -> None:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            reminder = await session.get(Reminder, reminder_id)
            if reminder is None or reminder.state not in CLAIMABLE:
                return
            reminder.attempts += 1
            reminder.last_error = code
            if reminder.attempts >= MAX_ATTEMPTS:
                reminder.state = FAILED
            reminder.due_at = now + backoff(reminder.attempts)

# Start-of-meeting reminders go first when many are due at once.
_FIRST_KINDS_FIRST = case(RANK, value=Reminder.kind, else_=len(RANK))


def _locking(query: _Claim) -> _Claim:
    """Lock the reminders and share-lock their meetings, skipping any that are taken.

    NO KEY UPDATE on a reminder: the attempt log's foreign key takes KEY SHARE on it from another
    connection, which FOR UPDATE would block until this transaction ends. KEY SHARE on the meeting,
    taken now: a follow-up inserted later needs it for its foreign key, and waiting for it then,
    while ``MeetingService.delete`` holds the meeting and waits for this reminder, would deadlock.
    A meeting locked for an update (being deleted) is skipped this round.
    """
    return (query.join(Meeting, Meeting.id == Reminder.meeting_id)
            .with_for_update(of=Reminder, skip_locked=True, key_share=True)
            .suffix_with("FOR KEY SHARE OF meeting SKIP LOCKED"))
