"""Reminders that are never lost and never doubled, and rooms that are always deleted.

The ``reminder`` table is the schedule; APScheduler (``bot.scheduler``) only wakes us up.

Delivery, one reminder per transaction:

1. claim: ``SELECT … WHERE state IN ('pending','running') AND due_at <= now ORDER BY due_at
   LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED`` (plus a share lock on its meeting, see ``_locking``). On PostgreSQL another instance skips the locked row; if this
   process dies, PostgreSQL aborts the transaction and the row is due again at once.
2. log the attempt (``reminder_attempt``) on a separate autocommit connection, then send, with a
   short timeout (``SEND_TIMEOUT``; ``idle_in_transaction_session_timeout`` above it).
3. mark it sent (or schedule a retry with backoff, or fail it) and commit.

Residual window: a crash after the platform accepted the message but before the commit sends that
reminder once more after the restart. No scheduler can remove this for an external side effect;
it is kept to the few milliseconds between the send returning and the commit, and the attempt log
makes it visible (a warning when a reminder is claimed with an unfinished earlier attempt).

SQLite: a single instance only (no row locks). The attempt is committed in the same session
before sending, so the same at-least-once guarantee holds for one process.

Automatic deletion calls the CMS and ``MeetingService.delete``, which updates reminder rows of its
own: holding a row lock across that would deadlock. It therefore takes a lease instead: the row
becomes ``running`` with ``due_at`` a few minutes ahead, is committed, and is claimable again only
if the lease runs out (this process died). ``MeetingService.delete`` cancels only ``pending`` rows,
so the lease survives the deletion and the creator is still told.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import Select, case, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot import notices
from bot.core import Reply
from bot.logs import bind_request
from bot.metrics import REMINDER_LATENESS, REMINDERS_FAILED, REMINDERS_LATE, REMINDERS_SENT
from bot.db import AuditRecord, Channel, Meeting, MeetingState, Reminder, ReminderAttempt
from bot.services.cms import CmsClient, SpaceNotFound
from bot.services.pacing import PlatformGate
from bot.services.meetings import LIVE_STATES, MeetingError, MeetingService, Person, meeting_id_from_cdr_tag
from bot.services.report import record_sweep

log = logging.getLogger(__name__)

# Kinds
UNCONFIRMED = "unconfirmed"
START = "start"
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

AUTO_DELETE_RULE = "auto_delete_deadline"
SYSTEM = Person(key="system", name="Distansmöte", is_admin=True)

MAX_ATTEMPTS = 6
SEND_TIMEOUT = 10.0  # seconds, a platform's slow-down included; the row stays locked meanwhile
# Claim loops per process (PostgreSQL), each claiming up to BATCH due messages at a time; what is in
# flight at once is further bounded per platform by DISTANSMOTE_REMINDER_SENDS_PER_PLATFORM.
CLAIM_LOOPS = 4
BATCH = 16
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
LEASE = timedelta(minutes=5)
CALL_ACTIVE_RETRY = timedelta(minutes=30)
# An "unconfirmed" reminder this soon after creating the meeting would only nag.
UNCONFIRMED_MIN_LEAD = timedelta(minutes=15)
# Above SEND_TIMEOUT: a process that hangs mid-send loses its lock, not the reminder.
IDLE_IN_TRANSACTION_TIMEOUT = "30s"
MAX_PER_RUN = 10_000
_RANK = {START: 0, UNCONFIRMED: 1, CLEANUP: 2}  # kinds not named go after these

CALL_ACTIVE = "call_active"
# Settings with the routine's documents shown with the start reminder.
TIP_LINKS = ("link_meeting_tips", "link_film_picture_sound")
_CODE = re.compile(r"[^a-z0-9_.:-]")

Notify = Callable[[str, str, Reply], Awaitable[None]]
"""``(platform, person id or e-mail, reply)``: sends 1:1, raises a :class:`DeliveryError`."""
Waker = Callable[[datetime], None]


class DeliveryError(Exception):
    """A platform adapter could not deliver. ``code`` is short and safe to store (no message text)."""

    def __init__(self, code: str, *, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = _CODE.sub("_", code.lower())[:64] or "unknown"
        self.retry_after = retry_after


class DeliveryFailed(DeliveryError):
    """Temporary (HTTP 429, 5xx, timeout): retried with backoff, honouring ``retry_after`` seconds."""


class DeliveryGone(DeliveryError):
    """Permanent: the person or the bot is gone (unknown person, bot removed or blocked)."""


async def _no_notify(platform: str, person_id: str, reply: Reply) -> None:
    raise DeliveryFailed("no_adapter")


# -- when -----------------------------------------------------------------------------------------


class WorkingHours:
    """Mon–Fri between two wall-clock times, not on Swedish public (or de facto) holidays.

    Day stepping and the opening/closing times are wall time in ``zone``; every comparison is in
    UTC, so the nights when clocks change neither lose nor shift a moment.
    """

    def __init__(self, zone: ZoneInfo, opens: time, closes: time) -> None:
        self.zone = zone
        self.opens = opens
        self.closes = closes
        # De facto: midsommarafton, julafton and nyårsafton are days off for office hours too.
        self._holidays = holidays.country_holidays("SE", categories=("public", "de_facto"))

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingHours:
        return cls(settings.zone, settings.working_hours_start, settings.working_hours_end)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def next_moment(self, at: datetime) -> datetime:
        """``at`` if it is within working hours, else the next opening; UTC."""
        day = at.astimezone(self.zone).date()
        for _ in range(60):  # the longest Swedish run of days off is far shorter
            if self.is_working_day(day):
                opens, closes = self._wall(day, self.opens), self._wall(day, self.closes)
                if at < opens:
                    return opens
                if at < closes:
                    return at
            day += timedelta(days=1)
        raise RuntimeError("no working day within 60 days")

    def _wall(self, day: date, moment: time) -> datetime:
        # A wall time inside the spring gap maps past it (fold=0), one in the autumn fold to its
        # first occurrence: either is a real instant, never a skipped or doubled one.
        return datetime.combine(day, moment, tzinfo=self.zone).astimezone(UTC)


class ReminderPlanner:
    """The reminder rows of a new meeting, and when follow-ups fall (``meetings.ReminderPlanner``).

    Offsets in minutes are elapsed time: "5 minutes before the start" is five real minutes,
    also across a clock change.
    """

    def __init__(self, settings: Settings, *, on_planned: Waker | None = None) -> None:
        self.settings = settings
        self.working_hours = WorkingHours.from_settings(settings)
        self.on_planned = on_planned

    def reminders_for(self, meeting: Meeting) -> Sequence[Reminder]:
        s = self.settings
        plan = [
            (UNCONFIRMED, meeting.starts_at - timedelta(minutes=s.reminder_unconfirmed_minutes),
             meeting.created_at + UNCONFIRMED_MIN_LEAD),
            (START, meeting.starts_at - timedelta(minutes=s.reminder_start_minutes), meeting.created_at),
            (CLEANUP, meeting.ends_at + timedelta(minutes=s.reminder_end_grace_minutes), None),
            (AUTO_DELETE, self.deadline(meeting.ends_at), None),
        ]
        rows = [new_reminder(meeting.id, kind, due) for kind, due, not_before in plan
                if not_before is None or due > not_before]
        if self.on_planned is not None and rows:
            self.on_planned(min(row.due_at for row in rows))
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


# -- the service ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snoozed:
    due_at: datetime
    already: bool


class ReminderService:
    """Domain verbs for reminders: ``schedule``, ``cancel``, ``snooze``, ``run_due``."""

    def __init__(self, sessions: async_sessionmaker, clock: Clock, settings: Settings,
                 meetings: MeetingService, notify: Notify | None = None, *, render: notices.Render,
                 planner: ReminderPlanner | None = None, workers: int | None = None) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._clock = clock
        self._settings = settings
        self._meetings = meetings
        self._notify = notify or _no_notify
        self._render = render
        shared = meetings.planner
        self.planner = planner or (shared if isinstance(shared, ReminderPlanner) else ReminderPlanner(settings))
        self._waker: Waker | None = None
        # Cleared at shutdown: the claim loops finish the reminder in hand and stop.
        self.claiming = True
        # SKIP LOCKED lets several claim loops share the queue; SQLite has one writer anyway.
        self._workers = workers or (CLAIM_LOOPS if self.many_instances_safe else 1)
        self._batch = BATCH
        self._gates: dict[str, PlatformGate] = {}

    @property
    def many_instances_safe(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def deliver_through(self, notify: Notify) -> None:
        """Bind the platforms (the app does this once its adapters exist)."""
        self._notify = notify

    def wake_with(self, waker: Waker | None) -> None:
        """Called with the due time of every reminder planned from now on (the timer re-arms)."""
        self._waker = waker
        self.planner.on_planned = waker

    def _wake(self, due: datetime) -> None:
        if self._waker is not None:
            self._waker(due)

    # -- planning ---------------------------------------------------------------------------------

    async def schedule(self, meeting_id: str, kind: str, due_at: datetime) -> str:
        reminder = new_reminder(meeting_id, kind, due_at)
        async with self._sessions() as session, session.begin():
            session.add(reminder)
        self._wake(due_at)
        return reminder.id

    async def cancel(self, meeting_id: str) -> int:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(Reminder).where(Reminder.meeting_id == meeting_id, Reminder.state == PENDING)
                .values(state=CANCELLED)
            )
        return result.rowcount

    async def snooze(self, meeting_id: str, person: Person, minutes: int) -> Snoozed:
        """Bring the cleanup prompt back in ``minutes``; a second click keeps the first choice."""
        meeting = await self._meetings.get(meeting_id, person)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # The meeting's row lock serialises two clicks arriving at two instances at once.
            meeting = await session.get(Meeting, meeting.id, with_for_update=True)
            assert meeting is not None
            if meeting.state == MeetingState.DELETED:
                raise MeetingError("already_deleted")
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
            _audit(session, now, person.key, "reminder_snoozed", meeting, detail=str(minutes))
        self._wake(due)
        return Snoozed(due, already=False)

    async def next_due(self) -> datetime | None:
        async with self._sessions() as session:
            return await session.scalar(select(func.min(Reminder.due_at)).where(Reminder.state.in_(CLAIMABLE)))

    # -- delivering -------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Handle every reminder that is due now; returns how many were handled."""
        async with asyncio.TaskGroup() as group:
            workers = [group.create_task(self._drain()) for _ in range(self._workers)]
        return sum(worker.result() for worker in workers)

    async def _drain(self) -> int:
        handled = 0
        while handled < MAX_PER_RUN and self.claiming:
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
        await self._auto_delete(session, reminder, meeting, now)

    async def _claim(self, session: AsyncSession, now: datetime, *, messages: bool) -> Sequence[Reminder]:
        """Due messages (``BATCH``, start reminders first), or one automatic deletion."""
        query = select(Reminder).where(Reminder.state.in_(CLAIMABLE), Reminder.due_at <= now)
        if messages:
            query = (query.where(Reminder.kind != AUTO_DELETE)
                     .order_by(_FIRST_KINDS_FIRST, Reminder.due_at).limit(self._batch))
        else:
            query = query.where(Reminder.kind == AUTO_DELETE).order_by(Reminder.due_at).limit(1)
        if self.many_instances_safe:
            await session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'"))
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
            final = _final_without_sending(reminder, meeting, now)
            if final is not None:
                reminder.state = final
            else:
                outgoing.append((reminder, meeting, await self._message(session, reminder, meeting, now)))
        if outgoing:
            await self._log_attempts(session, [reminder for reminder, _, _ in outgoing])
        problems = await asyncio.gather(*(
            self._send(meeting.platform, _platform_id(meeting.creator_id), reply, request=f"reminder:{reminder.id}",
                       priority=(_RANK.get(reminder.kind, len(_RANK)), reminder.due_at.timestamp()))
            for reminder, meeting, reply in outgoing))
        afterwards = []
        for (reminder, meeting, _), problem in zip(outgoing, problems, strict=True):
            bind_request(f"reminder:{reminder.id}")
            afterwards.append(await self._outcome(session, reminder, meeting, problem))
        await session.commit()
        for reminder, _, _ in outgoing:
            self._count(reminder)
        for (reminder, meeting, _), (followup, alert) in zip(outgoing, afterwards, strict=True):
            bind_request(f"reminder:{reminder.id}")
            if followup is not None:
                self._wake(followup)
            if reminder.state == SENT and reminder.kind == CLEANUP:
                await self._meetings.mark_ended(meeting.id)
            if alert is not None:
                await self.alert_admins(alert, meeting.platform)

    async def _message(self, session: AsyncSession, reminder: Reminder, meeting: Meeting, now: datetime) -> Reply:
        late = self._late(reminder, now)
        room = self._room(meeting)
        if reminder.kind == UNCONFIRMED:
            # Telephone recipients are never named: the routine asks them for no confirmation.
            confirming = [r for r in meeting.recipients if r.channel != Channel.PHONE]
            return self._render(notices.Unconfirmed(
                room, late=late,
                unconfirmed=tuple(r.label for r in confirming if r.sent_at and not r.confirmed_at),
                not_sent=tuple(r.label for r in confirming if not r.sent_at),
            ))
        if reminder.kind == START:
            return self._render(notices.StartCheck(room, links=self._tip_links(), late=late,
                                                   patient_joins=meeting.patient_joins))
        deadline = await self._deadline(session, meeting.id)
        return self._render(notices.CleanupPrompt(room, deadline=self._local(deadline),
                                                  followup=reminder.kind == FOLLOWUP, late=late,
                                                  film_link=self._settings.link_film_delete_room))

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
        return None, self._retry_or_fail(reminder, meeting, problem, now)

    async def _log_attempts(self, session: AsyncSession, reminders: Sequence[Reminder]) -> None:
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

    async def _send(self, platform: str, person_id: str, reply: Reply, *, request: str | None = None,
                    priority: tuple[float, ...] = (len(_RANK),)) -> DeliveryError | None:
        """One message through the platform's gate, within ``SEND_TIMEOUT`` in all.

        A 429 slows the whole platform down (``PlatformGate``); the refused message waits its turn
        and goes again while time is left, since it was not delivered.
        """
        if request is not None:
            bind_request(request)
        gate = self._gates.setdefault(platform, PlatformGate(self._settings.reminder_sends_per_platform))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SEND_TIMEOUT
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    async with gate.slot(priority) as started:
                        problem = await self._send_once(platform, person_id, reply)
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

    async def _send_once(self, platform: str, person_id: str, reply: Reply) -> DeliveryError | None:
        try:
            await self._notify(platform, person_id, reply)
        except DeliveryError as exc:
            return exc
        except TimeoutError:
            return DeliveryFailed("timeout")
        except Exception as exc:  # noqa: BLE001 - an adapter bug is a failed delivery, retried
            log.warning("delivery raised %s", type(exc).__name__)
            return DeliveryFailed(type(exc).__name__)
        return None

    def _retry_or_fail(self, reminder: Reminder, meeting: Meeting, problem: DeliveryError,
                       now: datetime) -> notices.Notice | None:
        reminder.last_error = problem.code
        if reminder.attempts >= MAX_ATTEMPTS:
            reminder.state = FAILED
            log.error("reminder %s failed after %d attempts (%s)", reminder.id, reminder.attempts, problem.code)
            return notices.ReminderFailed(self._room(meeting), attempts=reminder.attempts)
        reminder.due_at = now + backoff(reminder.attempts, problem.retry_after)
        log.info("reminder %s not delivered (%s); retry %d", reminder.id, problem.code, reminder.attempts)
        return None

    async def _stop_reminders(self, session: AsyncSession, reminder: Reminder, meeting: Meeting,
                              problem: DeliveryError, now: datetime) -> notices.Notice:
        """Nobody to remind: stop the messages, keep the automatic deletion, tell an admin."""
        reminder.state, reminder.last_error = FAILED, problem.code
        await session.execute(
            update(Reminder).where(Reminder.meeting_id == meeting.id, Reminder.state == PENDING,
                                   Reminder.kind != AUTO_DELETE, Reminder.id != reminder.id)
            .values(state=CANCELLED, last_error=problem.code)
        )
        _audit(session, now, SYSTEM.key, "reminders_stopped", meeting, detail=problem.code)
        log.warning("reminders for meeting %s stopped: recipient gone (%s)", meeting.id, problem.code)
        deadline = await self._deadline(session, meeting.id)
        return notices.RecipientGone(self._room(meeting), deadline=self._local(deadline))

    async def _plan_followup(self, session: AsyncSession, meeting_id: str, prompted_at: datetime) -> datetime | None:
        due = self.planner.followup_after(prompted_at)
        deadline = await self._deadline(session, meeting_id)
        if deadline is not None and due >= deadline:
            return None  # the automatic deletion comes first
        # Deleted meanwhile by another worker: its deletion has already cancelled what was pending.
        state = await session.scalar(select(Meeting.state).where(Meeting.id == meeting_id))
        if state == MeetingState.DELETED:
            return None
        session.add(new_reminder(meeting_id, FOLLOWUP, due))
        return due

    async def _deadline(self, session: AsyncSession, meeting_id: str) -> datetime | None:
        return await session.scalar(
            # A running deletion still counts: it has not cancelled the meeting's reminders yet.
            select(func.min(Reminder.due_at)).where(Reminder.meeting_id == meeting_id,
                                                   Reminder.kind == AUTO_DELETE, Reminder.state.in_(CLAIMABLE))
        )

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

    # -- automatic deletion -------------------------------------------------------------------------

    async def _auto_delete(self, session: AsyncSession, reminder: Reminder, meeting: Meeting, now: datetime) -> None:
        reminder.state, reminder.due_at = RUNNING, now + LEASE
        await session.commit()
        if meeting.state != MeetingState.DELETED:
            try:
                await self._meetings.delete(meeting.id, SYSTEM, rule=AUTO_DELETE_RULE)
            except MeetingError as exc:
                if exc.code == CALL_ACTIVE:
                    await self._postpone(session, reminder, meeting)
                    return
                if exc.code != "already_deleted":
                    await self._retry_deletion(session, reminder, meeting, exc.code)
                    return
            await session.refresh(meeting)
        if meeting.deleted_by != AUTO_DELETE_RULE:
            reminder.state = CANCELLED  # someone deleted it by hand meanwhile
            await session.commit()
            return
        await self._announce_deletion(session, reminder, meeting)

    async def _retry_deletion(self, session: AsyncSession, reminder: Reminder, meeting: Meeting, code: str) -> None:
        """The CMS did not answer: try again, never give up (the room must go); tell an admin once."""
        reminder.attempts += 1
        reminder.state, reminder.last_error = PENDING, code
        reminder.due_at = self._clock.now() + backoff(reminder.attempts)
        await session.commit()
        log.warning("automatic deletion of meeting %s failed (%s); retrying", meeting.id, code)
        if reminder.attempts == MAX_ATTEMPTS:
            await self.alert_admins(notices.DeletionFailing(self._room(meeting)), meeting.platform)

    async def _postpone(self, session: AsyncSession, reminder: Reminder, meeting: Meeting) -> None:
        """A call is active at the deadline: wait, and tell an admin the first time."""
        now = self._clock.now()
        first = reminder.last_error != CALL_ACTIVE
        reminder.state, reminder.due_at, reminder.last_error = PENDING, now + CALL_ACTIVE_RETRY, CALL_ACTIVE
        _audit(session, now, SYSTEM.key, "auto_delete_postponed", meeting, detail=CALL_ACTIVE)
        await session.commit()
        log.info("automatic deletion of meeting %s waits: a call is active", meeting.id)
        if first:
            zone = self._settings.zone
            await self.alert_admins(notices.CallActiveAtDeadline(
                self._room(meeting), deadline=reminder.planned_at.astimezone(zone),
                retry_at=reminder.due_at.astimezone(zone)), meeting.platform)

    async def _announce_deletion(self, session: AsyncSession, reminder: Reminder, meeting: Meeting) -> None:
        """Tell the creator; a temporary failure keeps the lease and retries."""
        assert meeting.deleted_at is not None
        reply = self._render(notices.AutoDeleted(
            self._room(meeting), deleted_at=meeting.deleted_at.astimezone(self._settings.zone)))
        await self._log_attempts(session, [reminder])
        problem = await self._send(meeting.platform, _platform_id(meeting.creator_id), reply)
        reminder.attempts += 1
        alert = None
        if problem is None:
            reminder.state, reminder.sent_at, reminder.last_error = SENT, self._clock.now(), None
        elif isinstance(problem, DeliveryGone):
            reminder.state, reminder.last_error = FAILED, problem.code
        else:
            alert = self._retry_or_fail(reminder, meeting, problem, self._clock.now())
        await session.commit()
        self._count(reminder)
        if alert is not None:
            await self.alert_admins(alert, meeting.platform)

    # -- helpers ------------------------------------------------------------------------------------

    def _count(self, reminder: Reminder) -> None:
        """This instance's metrics for a reminder whose outcome was just committed."""
        if reminder.state == SENT and reminder.sent_at is not None:
            lateness = max((reminder.sent_at - reminder.planned_at).total_seconds(), 0.0)
            REMINDERS_SENT.labels(reminder.kind).inc()
            REMINDER_LATENESS.observe(lateness)
            if lateness > self._settings.late_reminder_minutes * 60:
                REMINDERS_LATE.labels(reminder.kind).inc()
        elif reminder.state == FAILED:
            REMINDERS_FAILED.labels(reminder.kind).inc()

    async def tell(self, platform: str, person_key: str, notice: notices.Notice) -> bool:
        """Say ``notice`` 1:1 to a person once; False (logged by code) if it did not get through."""
        problem = await self._send(platform, _platform_id(person_key), self._render(notice))
        if problem is not None:
            log.warning("message to a person not delivered (%s)", problem.code)
        return problem is None

    async def alert_admins(self, notice: notices.Notice, *platforms: str) -> None:
        """Tell each admin through the first platform that reaches them.

        Best effort: an alert is not stored, so a failure is logged (by code) and dropped.
        """
        reply = self._render(notice)
        if not self._settings.admins:
            log.warning("no admins configured (DISTANSMOTE_ADMINS); an admin alert was dropped")
        for admin in self._settings.admins:
            problems = []
            for platform in platforms:
                problem = await self._send(platform, admin, reply)
                if problem is None:
                    break
                problems.append(problem.code)
            else:
                log.warning("admin alert not delivered (%s)", ",".join(problems))

    def _room(self, meeting: Meeting) -> notices.Room:
        zone = self._settings.zone
        return notices.Room(meeting.id, meeting.room_name, meeting.starts_at.astimezone(zone),
                              meeting.ends_at.astimezone(zone))

    def _tip_links(self) -> tuple[tuple[str, str], ...]:
        return tuple((key, value) for key in TIP_LINKS if (value := getattr(self._settings, key)))

    def _local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self._settings.zone) if moment else None

    def _late(self, reminder: Reminder, now: datetime) -> bool:
        return now - reminder.planned_at > timedelta(minutes=self._settings.late_reminder_minutes)


def _final_without_sending(reminder: Reminder, meeting: Meeting, now: datetime) -> str | None:
    """A reminder that can no longer help is closed without a message."""
    if meeting.state == MeetingState.DELETED:
        return CANCELLED
    if reminder.kind in (UNCONFIRMED, START) and now >= meeting.ends_at:
        return SKIPPED
    recipients = meeting.recipients
    confirming = [r for r in recipients if r.channel != Channel.PHONE]
    if reminder.kind == UNCONFIRMED and recipients and all(r.confirmed_at for r in confirming):
        return SKIPPED  # everyone who confirms has (telephone recipients confirm nothing)
    return None


# Start-of-meeting reminders go first when many are due at once (claimed first, and first through the
# platform's gate): they are the ones that cannot wait.
_FIRST_KINDS_FIRST = case(_RANK, value=Reminder.kind, else_=len(_RANK))


def _locking(query: Select[tuple[Reminder]]) -> Select[tuple[Reminder]]:
    """Lock the reminder and share-lock its meeting, skipping either if taken.

    NO KEY UPDATE on the reminder: the attempt log's foreign key takes KEY SHARE on it from another
    connection, which FOR UPDATE would block until this transaction ends. KEY SHARE on the meeting,
    taken now: a follow-up inserted later needs it for its foreign key, and waiting for it then,
    while ``MeetingService.delete`` holds the meeting and waits for this reminder, would deadlock.
    A meeting locked for an update (being deleted) is skipped this round.
    """
    return (query.join(Meeting, Meeting.id == Reminder.meeting_id)
            .with_for_update(of=Reminder, skip_locked=True, key_share=True)
            .suffix_with("FOR KEY SHARE OF meeting SKIP LOCKED"))


def _platform_id(person_key: str) -> str:
    """``Person.key`` is ``"<platform>:<id>"``; adapters want the platform's own id."""
    return person_key.split(":", 1)[1] if ":" in person_key else person_key


def _audit(session: AsyncSession, at: datetime, actor: str, action: str, meeting: Meeting, *, detail: str) -> None:
    session.add(AuditRecord(at=at, actor=actor, action=action, detail=detail, meeting_id=meeting.id,
                            space_id=meeting.space_id))


# -- the sweep ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Orphan:
    """A room on the CMS with this product's mark that no live meeting claims."""

    space_id: str
    name: str
    meeting_id: str
    deleted: bool = False


async def sweep(cms: CmsClient, sessions: async_sessionmaker, *, delete: bool,
                clock: Clock | None = None) -> list[Orphan]:
    """Find (and with ``delete`` remove, audited as actor "sweep") the orphaned rooms.

    Each run is recorded (``record_sweep``), so the county's report can show what the last one found.
    """
    clock = clock or SystemClock()
    orphans = []
    for summary in await cms.list_spaces():
        try:
            space = await cms.get_space(summary.id)
        except SpaceNotFound:
            continue  # deleted since the listing
        meeting_id = meeting_id_from_cdr_tag(space.cdr_tag)
        if meeting_id is None or await _claimed(sessions, meeting_id, space.id):
            continue
        orphan = Orphan(space.id, space.name, meeting_id[:36])
        if delete:
            orphan = await remove_orphan(cms, sessions, clock, orphan)
        orphans.append(orphan)
    await record_sweep(sessions, clock.now(), [(o.meeting_id, o.space_id) for o in orphans])
    log.info("sweep: %d orphaned room(s)%s", len(orphans), " removed" if delete else "")
    return orphans


async def _claimed(sessions: async_sessionmaker, meeting_id: str, space_id: str) -> bool:
    async with sessions() as session:
        return bool(await session.scalar(
            select(func.count()).select_from(Meeting).where(
                Meeting.id == meeting_id, Meeting.space_id == space_id, Meeting.state.in_(LIVE_STATES))
        ))


async def remove_orphan(cms: CmsClient, sessions: async_sessionmaker, clock: Clock, orphan: Orphan) -> Orphan:
    """Delete an orphaned room, audited as actor "sweep", unless a meeting claimed it meanwhile."""
    # Look again right before deleting: a meeting may have been recorded since the listing.
    if await _claimed(sessions, orphan.meeting_id, orphan.space_id):
        return orphan
    await cms.delete_space(orphan.space_id)
    async with sessions() as session, session.begin():
        session.add(AuditRecord(at=clock.now(), actor="sweep", action="deleted", meeting_id=orphan.meeting_id,
                                space_id=orphan.space_id, detail="orphan"))
    return Orphan(orphan.space_id, orphan.name, orphan.meeting_id, deleted=True)
