"""The workers of the inbound queue: jobs leased from ``InboundJobs``, run at most ``size`` at a time, retried
with backoff and recorded finished in group commits (docs/reliability.md, "The inbound queue")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.core.adapter import GiveUp, RetryLater
from bot.logs import bind_request
from bot.services.group_insert import Statements
from bot.services.inbound_jobs import DONE, FAILED, LEASE, InboundJobs, Job
from bot.store.transient import is_transient

log = logging.getLogger(__name__)

RETRY = "retry"  # how a worker's outcome says "handed back"; stored as pending
RENEW_SECONDS = LEASE.total_seconds() / 3  # two renewals may fail before the lease is lost
# Leased this often without finishing (a transient failure each time, or the job kills its
# process): given up. With the backoff below, a job is tried over about 13 minutes.
MAX_ATTEMPTS = 10
BACKOFF_SECONDS = 2.0  # before the second attempt; doubled for each further one
MAX_BACKOFF_SECONDS = 300.0
POLL_SECONDS = 2.0
RECORD_AFTER = 0.1  # seconds a finished job may wait for the next insert to take it
PURGE_EVERY = 3600.0


def backoff(attempts: int) -> float:
    """Seconds before the next attempt of a job that failed on attempt ``attempts``."""
    return min(BACKOFF_SECONDS * 2 ** (max(attempts, 1) - 1), MAX_BACKOFF_SECONDS)


Process = Callable[[Job], Awaitable[None]]


class JobWorkers:
    """Runs at most ``size`` jobs at a time with ``process``, taking them from :class:`InboundJobs`.

    One loop claims (as many jobs as there are free places, in one transaction) and starts a task
    per job; the route may also hand a job over directly (:meth:`reserve`, :meth:`run`). A task
    that ends wakes the loop, which records it with the next claim or within ``record_after``.
    ``process`` raises :class:`RetryLater` for a transient failure, and a database error that
    :func:`bot.store.transient.is_transient` calls transient counts as one: the job is handed back with a
    backoff. :class:`GiveUp` ends the job as failed; any other error is logged with its traceback
    and does the same.
    """

    def __init__(self, jobs: InboundJobs, process: Process, *, size: int, poll_seconds: float = POLL_SECONDS,
                 record_after: float = RECORD_AFTER, purge_every: float = PURGE_EVERY,
                 renew_every: float = RENEW_SECONDS) -> None:
        if size < 1:
            raise ValueError("at least one worker")
        self._jobs = jobs
        self._process = process
        self._size = size
        self._poll_seconds = poll_seconds
        self._record_after = record_after
        self._purge_every = purge_every
        self._renew_every = renew_every
        self._active: dict[str, asyncio.Task[None]] = {}
        self._reserved = 0
        self._finished: list[tuple[str, str, float]] = []  # key, DONE/FAILED/RETRY, retry in seconds
        self._record_by: float | None = None  # loop time by which ``_finished`` is written
        self._folded = 0  # finished jobs taken into an insert's transaction not ended yet
        self._hungry = True  # the store may hold jobs for us: look at the next chance
        self._notified = 0  # counts notify(): one during a claim may not be in its result
        self._draining = 0  # drain() waiting: record finished jobs at once
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._claiming = False
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._claiming = True
        self._loop = asyncio.create_task(self._run())

    def notify(self) -> None:
        """A job was written as pending: claim it as soon as a place is free."""
        self._hungry = True
        self._notified += 1
        self._idle.clear()
        self._wake.set()

    def reserve(self) -> bool:
        """Hold a free place for a job about to be written leased; False if all are taken."""
        if not self._claiming or len(self._active) + self._reserved >= self._size:
            return False
        self._reserved += 1
        self._idle.clear()
        return True

    def run(self, job: Job | None) -> None:
        """Start ``job`` in the place :meth:`reserve` held (``None``: it was not written after all)."""
        self._reserved -= 1
        if job is not None:
            self._active[job.key] = asyncio.create_task(self._work(job))
        elif self._hungry:
            self._wake.set()  # the place may go to a waiting job

    async def drain(self) -> None:
        """Wait until no job is pending in the store or running here, and all are recorded (tests)."""
        if self._loop is None or self._loop.done():
            return
        self._draining += 1
        self.notify()  # one more look at the store, also for jobs written by other instances
        idle = asyncio.ensure_future(self._idle.wait())
        try:
            await asyncio.wait({idle, self._loop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()
            self._draining -= 1

    async def stop(self, grace: float) -> None:
        """Stop claiming; give running jobs ``grace`` seconds, then cancel them and hand them back."""
        if self._loop is None:
            return
        self._claiming = False
        self._loop.cancel()  # first: a claim in progress either rolls back or has started its jobs
        await asyncio.gather(self._loop, return_exceptions=True)
        self._loop = None
        running = [task for task in self._active.values() if not task.done()]
        if running:
            _, unfinished = await asyncio.wait(running, timeout=grace)
            if unfinished:
                log.warning("%d inbound jobs still running at shutdown were handed back", len(unfinished))
                for task in unfinished:
                    task.cancel()
                await asyncio.gather(*unfinished, return_exceptions=True)
        try:
            cancelled = [key for key, task in self._active.items() if task.cancelled()]
            await self._record(0, self._take_finished())
            await self._jobs.hand_back(cancelled)
        except Exception:
            log.exception("inbound jobs could not be recorded at shutdown")
        await self._jobs.close()

    # -- as ``Pending``: finished jobs recorded with the next job inserted -----------------------

    def take(self) -> list[dict[str, Any]]:
        done = [{"key": key, "state": state} for key, state, _ in self._finished if state != RETRY]
        if done:
            self._finished = [entry for entry in self._finished if entry[1] == RETRY]
            if not self._finished:
                self._record_by = None
            self._folded += 1
        return done

    def statements(self, rows: Sequence[dict[str, Any]]) -> Statements:
        return self._jobs.finish_statements([(row["key"], row["state"]) for row in rows])

    def settle(self, rows: Sequence[dict[str, Any]], committed: bool) -> None:
        if not rows:
            return
        self._folded -= 1
        if not committed:
            self._finished = [(row["key"], row["state"], 0.0) for row in rows] + self._finished
            if self._record_by is None:
                self._record_by = asyncio.get_running_loop().time() + self._record_after
        self._wake.set()  # record them, or see that all is idle

    def _take_finished(self) -> list[tuple[str, str, float]]:
        finished, self._finished, self._record_by = self._finished, [], None
        return finished

    async def _record(self, limit: int, finished: list[tuple[str, str, float]]) -> list[Job]:
        return await self._jobs.claim(limit, [(key, state) for key, state, _ in finished if state != RETRY],
                                      [(key, seconds) for key, state, seconds in finished if state == RETRY])

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_poll = loop.time() + self._poll_seconds
        next_purge = loop.time() + self._purge_every
        next_renew = loop.time() + self._renew_every
        while True:
            self._wake.clear()
            now = loop.time()
            if now >= next_poll:
                self._hungry, next_poll = True, now + self._poll_seconds
            if now >= next_renew:  # first: a loop busy claiming must not let a lease run out
                next_renew = now + self._renew_every
                await self._renew()
            free = self._size - len(self._active) - self._reserved if self._claiming else 0
            limit = max(free, 0) if self._hungry else 0
            due = self._draining or (self._record_by is not None and now >= self._record_by)
            record = bool(self._finished) and (limit > 0 or due)
            if limit or record:
                finished = self._take_finished() if record else []
                self._reserved += limit  # the places being claimed are not the route's to take
                notified = self._notified
                try:
                    jobs = await self._record(limit, finished)
                except asyncio.CancelledError:
                    self._finished = finished + self._finished  # stop() records them
                    raise
                except Exception:
                    log.exception("inbound jobs could not be claimed")
                    self._finished = finished + self._finished
                    self._record_by = loop.time() + self._poll_seconds
                    await asyncio.sleep(self._poll_seconds)
                    continue
                finally:
                    self._reserved -= limit
                for job in jobs:
                    self._start(job)
                if limit:  # a full claim, or a job written meanwhile: more may be waiting
                    self._hungry = len(jobs) == limit or self._notified != notified
                continue  # workers may have finished meanwhile
            if not (self._active or self._reserved or self._finished or self._folded or self._hungry
                    or self._wake.is_set()):
                self._idle.set()
            if now >= next_purge:
                next_purge = now + self._purge_every
                await self._purge()
            deadline = min(next_poll, next_renew, self._record_by or next_poll)
            try:
                async with asyncio.timeout_at(deadline):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _start(self, job: Job) -> None:
        if job.attempts > MAX_ATTEMPTS:
            log.error("an inbound job was leased %d times without finishing; given up", job.attempts)
            self._finish(job.key, FAILED)
            return
        self._active[job.key] = asyncio.create_task(self._work(job))

    async def _work(self, job: Job) -> None:
        bind_request(job.key)  # the id the webhook's lines carry
        try:
            try:
                await self._process(job)
            except Exception as exc:
                if is_transient(exc):
                    raise RetryLater(f"database: {type(exc).__name__}") from exc
                raise
        except RetryLater as failure:
            if job.attempts >= MAX_ATTEMPTS:
                log.error("an inbound job failed on all %d attempts (%s); given up", job.attempts, failure)
                self._finish(job.key, FAILED)
            else:
                delay = max(backoff(job.attempts), failure.after or 0.0)
                log.warning("an inbound job failed (%s); attempt %d in %.0f s", failure, job.attempts + 1, delay)
                self._finish(job.key, RETRY, delay)
        except GiveUp:
            self._finish(job.key, FAILED)
        except Exception:
            log.exception("an inbound job failed unexpectedly")
            self._finish(job.key, FAILED)
        else:
            self._finish(job.key, DONE)

    def _finish(self, key: str, state: str, retry_in: float = 0.0) -> None:
        self._active.pop(key, None)  # the place is free now; the record follows
        self._finished.append((key, state, retry_in))
        # Wake the loop only if it has something to do now: claim for the free place, set the
        # record's timer, or end a drain. Otherwise the record goes with the others.
        if self._hungry or self._draining or self._record_by is None:
            if self._record_by is None:
                self._record_by = asyncio.get_running_loop().time() + self._record_after
            self._wake.set()

    async def _renew(self) -> None:
        try:
            await self._jobs.renew([key for key, task in self._active.items() if not task.done()])
        except Exception:
            log.exception("inbound job leases could not be renewed")

    async def _purge(self) -> None:
        try:
            removed = await self._jobs.purge()
        except Exception:
            log.exception("finished inbound jobs could not be purged")
            return
        if removed:
            log.info("%d finished inbound jobs purged", removed)
