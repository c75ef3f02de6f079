"""The in-process timer: wakes ``ReminderService.run_due`` and runs the passes it is handed.

APScheduler 3.11 (``AsyncIOScheduler``, in-memory job store) is only an alarm clock here. It
never holds a reminder (the ``reminder`` table does) and is handed bound methods of objects in
memory, never anything to pickle. Its own jobs are ``poll``, every ``POLL_SECONDS`` and at start
(the safety net, which also sends what fell due while the bot was down), and ``wake``, one shot at
the next due time, re-armed after each run and whenever a reminder is planned (the services ring
the alarm). ``misfire_grace_time=None``: a late run is run, never dropped. The other jobs are the
passes ``bot/runtime.py`` hands it (``bot/services/passes.py``), each under its own name.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from aiohttp import web
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import iscoroutinefunction_partial

from bot.clock import Alarm, Clock

log = logging.getLogger(__name__)

POLL_SECONDS = 15.0
RECHECK = timedelta(seconds=1)
_JOB = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True)
class Pass:
    """Work the timer runs: every ``every`` (and at start), or daily at ``every`` o'clock, local time."""

    name: str
    every: timedelta | time
    run: Callable[[], Awaitable[object]]

    def __post_init__(self) -> None:
        # APScheduler runs anything but a coroutine function in a thread, away from the event loop.
        if not iscoroutinefunction_partial(self.run):
            raise TypeError(f"pass {self.name}: run must be a coroutine function")


class DueReminders(Protocol):
    """What the timer wakes (``bot.services.reminders.ReminderService``)."""

    @property
    def many_instances_safe(self) -> bool: ...

    async def run_due(self, stop: asyncio.Event | None = None) -> int: ...

    async def next_due(self) -> datetime | None: ...


class ReminderScheduler:
    def __init__(self, reminders: DueReminders, clock: Clock, alarm: Alarm, passes: Sequence[Pass], *,
                 zone: ZoneInfo, poll_seconds: float = POLL_SECONDS) -> None:
        self._reminders = reminders
        self._clock = clock
        self._alarm = alarm
        self._passes = tuple(passes)
        self._zone = zone
        self._poll_seconds = poll_seconds
        self._timer = AsyncIOScheduler(timezone=UTC, jobstores={"default": MemoryJobStore()})
        self._running = asyncio.Lock()
        self._stopping = asyncio.Event()  # the claim loops finish the reminder in hand and end
        self._listener: asyncio.Task[None] | None = None

    def start(self) -> None:
        # APScheduler logs every run and every re-armed job at INFO: every 15 s is noise.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        if not self._reminders.many_instances_safe:
            log.info("reminders: SQLite store, so run a single instance only (PostgreSQL for several)")
        self._timer.add_job(self.run_due_now, "interval", seconds=self._poll_seconds, id="poll",
                            next_run_time=datetime.now(UTC), **_JOB)
        for work in self._passes:
            if isinstance(work.every, timedelta):
                self._timer.add_job(work.run, "interval", seconds=work.every.total_seconds(), id=work.name,
                                    next_run_time=datetime.now(UTC), **_JOB)
            else:
                self._timer.add_job(work.run, CronTrigger(hour=work.every.hour, minute=work.every.minute,
                                                          timezone=self._zone), id=work.name, **_JOB)
        self._stopping.clear()
        self._timer.start()
        self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        if not self._timer.running:
            return
        self._timer.pause()
        self._stopping.set()
        # Shutting down cancels running jobs: let a run in progress finish its transactions first.
        async with self._running:
            self._timer.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a callback on the loop

    async def _listen(self) -> None:
        while True:
            self.wake_at(await self._alarm.wait())

    def wake_at(self, due: datetime) -> None:
        """Run at ``due`` (service clock) unless an earlier wake-up is already armed."""
        if not self._timer.running:
            return
        # The services' clock may run ahead of real time (the demo's clock control).
        real = due - (self._clock.now() - datetime.now(UTC))
        armed = self._timer.get_job("wake")
        if armed is not None and armed.next_run_time is not None and armed.next_run_time <= real:
            return
        self._timer.add_job(self.run_due_now, "date", run_date=max(real, datetime.now(UTC)), id="wake",
                            replace_existing=True, **_JOB)

    async def run_due_now(self) -> int:
        """Send what is due, then re-arm the wake-up. Overlapping ticks leave it to the one running."""
        if self._running.locked():
            return 0
        async with self._running:
            try:
                handled = await self._reminders.run_due(self._stopping)
                next_due = await self._reminders.next_due()
            except Exception:
                log.exception("reminder run failed; the next poll tries again")
                return 0
        if next_due is not None:
            # Due but nothing handled: locked by another instance or a meeting being changed.
            # Look again in a second rather than spinning.
            self.wake_at(next_due if handled else max(next_due, self._clock.now() + RECHECK))
        return handled


SCHEDULER = web.AppKey("scheduler", ReminderScheduler)


def install_scheduler(app: web.Application, build: Callable[[], ReminderScheduler]) -> None:
    """Start the timer with the app and stop it before the services close."""

    async def start(app: web.Application) -> None:
        app[SCHEDULER] = build()
        app[SCHEDULER].start()

    async def stop(app: web.Application) -> None:
        await app[SCHEDULER].stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
