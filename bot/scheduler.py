"""The in-process timer: wakes ``ReminderService.run_due`` and runs the daily sweep.

APScheduler 3.11 (``AsyncIOScheduler``, in-memory job store) is only an alarm clock here. It
never holds a reminder (the ``reminder`` table does) and is handed bound methods of objects in
memory, never anything to pickle. Its jobs:

- ``poll``: every ``POLL_SECONDS``, the safety net; it also runs at start, which sends what fell
  due while the bot was down. ``misfire_grace_time=None``: a late run is run, never dropped.
- ``wake``: one shot at the next due time, re-armed after each run and whenever a reminder is
  planned (a meeting created, a prompt snoozed: the services ring ``Services.alarm``).
- ``creations``: every ``POLL_SECONDS`` and at start, finishes room creations whose process died,
  and looks up the rooms of creates the CMS did not answer (``MeetingService.finish_interrupted``),
  and tells each creator (``MeetingService.announce``).
- ``deletions``: likewise, finishes room deletions whose process died after recording them as
  intended (``MeetingService.finish_interrupted_deletions``) and tells the person who asked.
- ``sweep``: daily and once per cluster, deletes the bot's rooms that nothing has claimed for an
  hour (``bot.services.reconciler``) and reports them, and younger ones, to the admins.
- ``purge``: daily and once per cluster, forgets the people of meetings deleted more than
  ``DISTANSMOTE_RETENTION_DAYS`` ago (``bot.services.retention``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from aiohttp import web
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import notices
from bot.clock import Clock
from bot.core.events import split_person_key
from bot.runtime import Services
from bot.services.meetings import DeletionFinished
from bot.services.once import DailyOnce
from bot.services.reconciler import reconcile
from bot.services.reminders import ReminderService
from bot.services.retention import purge

log = logging.getLogger(__name__)
_T = TypeVar("_T")

POLL_SECONDS = 15.0
SWEEP_AT = time(6, 0)  # local; before the working day, far from the 02:00–03:00 clock changes
PURGE_AT = time(5, 30)  # local; likewise
RECHECK = timedelta(seconds=1)
_JOB = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class ReminderScheduler:
    def __init__(self, services: Services, *, poll_seconds: float = POLL_SECONDS) -> None:
        self._services = services
        self._reminders: ReminderService = services.reminders
        self._clock: Clock = services.clock
        self._poll_seconds = poll_seconds
        self._timer = AsyncIOScheduler(timezone=UTC, jobstores={"default": MemoryJobStore()})
        self._running = asyncio.Lock()
        self._stopping = asyncio.Event()  # the claim loops finish the reminder in hand and end
        self._listener: asyncio.Task[None] | None = None
        self._daily = DailyOnce(services.sessions, services.clock, services.settings.zone)

    def start(self) -> None:
        # APScheduler logs every run and every re-armed job at INFO: every 15 s is noise.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        if not self._reminders.many_instances_safe:
            log.info("reminders: SQLite store, so run a single instance only (PostgreSQL for several)")
        self._timer.add_job(self.tick, "interval", seconds=self._poll_seconds, id="poll",
                            next_run_time=datetime.now(UTC), **_JOB)
        self._timer.add_job(self.finish_creations, "interval", seconds=self._poll_seconds, id="creations",
                            next_run_time=datetime.now(UTC), **_JOB)
        self._timer.add_job(self.finish_deletions, "interval", seconds=self._poll_seconds, id="deletions",
                            next_run_time=datetime.now(UTC), **_JOB)
        self._timer.add_job(self.daily_sweep, CronTrigger(hour=SWEEP_AT.hour, minute=SWEEP_AT.minute,
                                                          timezone=self._services.settings.zone),
                            id="sweep", **_JOB)
        self._timer.add_job(self.daily_purge, CronTrigger(hour=PURGE_AT.hour, minute=PURGE_AT.minute,
                                                          timezone=self._services.settings.zone),
                            id="purge", **_JOB)
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
            self.wake_at(await self._services.alarm.wait())

    def wake_at(self, due: datetime) -> None:
        """Run at ``due`` (service clock) unless an earlier wake-up is already armed."""
        if not self._timer.running:
            return
        # The services' clock may run ahead of real time (the demo's clock control).
        real = due - (self._clock.now() - datetime.now(UTC))
        armed = self._timer.get_job("wake")
        if armed is not None and armed.next_run_time is not None and armed.next_run_time <= real:
            return
        self._timer.add_job(self.tick, "date", run_date=max(real, datetime.now(UTC)), id="wake",
                            replace_existing=True, **_JOB)

    async def tick(self) -> int:
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

    async def finish_creations(self) -> int:
        """Finish pending and interrupted room creations and tell their creators; returns how many."""
        meetings = self._services.meetings
        return await self._finish("creations", meetings.finish_interrupted, meetings.announce)

    async def finish_deletions(self) -> int:
        """Finish interrupted room deletions and tell whoever asked; returns how many."""

        async def tell(deletion: DeletionFinished) -> None:
            if deletion.person_key is not None:
                await self._reminders.tell(deletion.person_key, notices.DeletionFinished(deletion.room_name))

        return await self._finish("deletions", self._services.meetings.finish_interrupted_deletions, tell)

    async def _finish(self, what: str, work: Callable[[], Awaitable[Sequence[_T]]],
                      tell: Callable[[_T], Awaitable[None]]) -> int:
        try:
            finished = await work()
        except Exception:
            log.exception("interrupted room %s could not be finished; the next poll tries again", what)
            return 0
        for item in finished:
            await tell(item)
        return len(finished)

    async def daily_sweep(self) -> None:
        """The reconciler and its report to the admins, once per cluster a day (``bot.services.once``)."""
        await self._services.events.purge()
        try:
            async with self._daily.claim("sweep") as mine:
                if not mine:
                    log.info("daily sweep: done by another instance")
                    return
                orphans = await reconcile(self._services.cms, self._services.sessions, self._clock)
                if orphans:
                    await self._services.alerts.send(notices.Orphans(
                        tuple(o.name for o in orphans if not o.deleted),
                        deleted=tuple(o.name for o in orphans if o.deleted)))
        except Exception:
            log.exception("daily sweep failed")


    async def daily_purge(self) -> None:
        """What the retention period has run out for, once per cluster a day."""
        settings = self._services.settings
        try:
            async with self._daily.claim("purge") as mine:
                if mine:
                    purged = await purge(self._services.sessions, self._clock.now(), settings.retention_days,
                                         lambda key: settings.is_admin(key, split_person_key(key)[1]))
                    log.info("retention purge: %d meeting(s), %d room creation(s), %d conversation reference(s), "
                             "%d preference(s) older than %d days", purged.meetings, purged.room_creations,
                             purged.conversation_references, purged.preferences, settings.retention_days)
        except Exception:
            log.exception("retention purge failed")


SCHEDULER = web.AppKey("scheduler", ReminderScheduler)


def install_scheduler(app: web.Application, services: Services) -> None:
    """Start the timer with the app and stop it before the services close."""

    async def start(app: web.Application) -> None:
        app[SCHEDULER] = ReminderScheduler(services)
        app[SCHEDULER].start()

    async def stop(app: web.Application) -> None:
        await app[SCHEDULER].stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
