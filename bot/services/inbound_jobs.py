"""Inbound work kept in the store (a transactional inbox): a webhook is answered at once, nothing accepted is lost.

Jobs are leased, handed straight to a free worker, retried with backoff and finished in group commits, at least
once; the bot's dedupe (``InboundEvents``) keeps their effect to once (docs/reliability.md, "The inbound queue").
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Integer, Table, and_, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.clock import Clock
from bot.core.adapter import FIRST_RUN, GiveUp, Guard, HoldsPersonalNumber, RetryLater
from bot.logs import bind_request
from bot.services.events import KEEP_EVENT_IDS
from bot.services.group_insert import GroupInsert, Pending, Statements
from bot.store.driver import sqlite_statement, sqlite_transaction
from bot.store.queues import InboundJob
from bot.store.schema import in_open_states
from bot.store.transient import is_transient

log = logging.getLogger(__name__)

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
RETRY = "retry"  # how a worker's outcome says "handed back"; stored as pending
# Short, so that a job of a process that died runs again soon; renewed while the job runs, so that
# a long one (a slow CMS, the Webex client's retries and Retry-After waits) is not run twice.
LEASE = timedelta(seconds=30)
RENEW_SECONDS = LEASE.total_seconds() / 3  # two renewals may fail before the lease is lost
# Leased this often without finishing (a transient failure each time, or the job kills its
# process): given up. With the backoff below, a job is tried over about 13 minutes.
MAX_ATTEMPTS = 10
BACKOFF_SECONDS = 2.0  # before the second attempt; doubled for each further one
MAX_BACKOFF_SECONDS = 300.0
POLL_SECONDS = 2.0
EMPTY = "{}"
RECORD_AFTER = 0.1  # seconds a finished job may wait for the next insert to take it
# Finished rows go on deduping redeliveries and replays this long: as long as the bot keeps event
# ids (``bot.services.events``), so that a job's first run is known to be its event's first.
KEEP_FINISHED = KEEP_EVENT_IDS
PURGE_EVERY = 3600.0

_job = InboundJob.__table__.c
# Pending (not before ``lease_until`` when handed back after a failure), or running on a lease that ended.
_OPEN = and_(in_open_states(_job.state),
             or_(_job.lease_until.is_(None), _job.lease_until < bindparam("b_now")))
# A finished job keeps its key (a redelivery is still recognised) and nothing of what it carried.
_FINISH = (update(InboundJob)
           .where(_job.key.in_(bindparam("b_keys", expanding=True)), _job.state == RUNNING)
           .values(state=bindparam("b_state"), lease_until=None, finished_at=bindparam("b_now"), payload=EMPTY))
# On the driver's own connection, one job a parameter set: written with the next insert
# (``GroupInsert.pending``) or, on SQLite, with the next record (in one hop, ``bot.store.driver.sqlite_run``).
_FINISH_PG = ("UPDATE inbound_job SET state = d.state, lease_until = NULL, finished_at = $1, payload = '" + EMPTY
              + "' FROM unnest($2::varchar[], $3::varchar[]) AS d(key, state) "
              "WHERE inbound_job.key = d.key AND inbound_job.state = '" + RUNNING + "'")


def _finish_sql(state: str, finished_at: str, key: str) -> str:
    return (f"UPDATE inbound_job SET state = {state}, lease_until = NULL, finished_at = {finished_at}, "
            f"payload = '{EMPTY}' WHERE key = {key} AND state = '{RUNNING}'")
_RETRY = (update(InboundJob).where(_job.key == bindparam("b_key"), _job.state == RUNNING)
          .values(state=PENDING, lease_until=bindparam("b_not_before")))
_RENEW = (update(InboundJob).where(_job.key.in_(bindparam("b_keys", expanding=True)), _job.state == RUNNING)
          .values(lease_until=bindparam("b_lease")))
_HAND_BACK = (update(InboundJob).where(_job.key.in_(bindparam("b_keys", expanding=True)), _job.state == RUNNING)
              .values(state=PENDING, lease_until=None))


def backoff(attempts: int) -> float:
    """Seconds before the next attempt of a job that failed on attempt ``attempts``."""
    return min(BACKOFF_SECONDS * 2 ** (max(attempts, 1) - 1), MAX_BACKOFF_SECONDS)


class Notes(Pending, Protocol):
    """Rows of another table written in the transaction that records finished jobs, or with the
    next job inserted (``Pending``)."""

    async def write(self, connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None: ...


@dataclass(frozen=True)
class Job:
    key: str
    payload: dict[str, Any]
    attempts: int


class InboundJobs:
    """One platform's rows of the ``inbound_job`` table: add, claim, finish, hand back.

    Statements are built once: building and cache-keying SQLAlchemy constructs per call costs
    more CPU than the round trip.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock, platform: str, *, lease: timedelta = LEASE,
                 notes: Notes | None = None) -> None:
        self._engine = engine
        self._notes = notes
        self._sqlite = engine.dialect.name == "sqlite"
        self._finished_at = _job.finished_at.type.bind_processor(engine.dialect)
        self._finish_sql = _finish_sql("?", "?", "?") if self._sqlite else _FINISH_PG
        self._rows = GroupInsert(engine, cast(Table, InboundJob.__table__))
        self._clock = clock
        self._platform = platform
        self._lease = lease
        claimable = (select(_job.key).where(_job.platform == platform, _OPEN)
                     .order_by(_job.received_at).limit(bindparam("b_limit", type_=Integer)))
        if engine.dialect.name == "postgresql":
            claimable = claimable.with_for_update(skip_locked=True)
        self._claim = (update(InboundJob).where(_job.key.in_(claimable.scalar_subquery()))
                       .values(state=RUNNING, lease_until=bindparam("b_lease"), attempts=_job.attempts + 1)
                       .returning(_job.key, _job.payload, _job.attempts, _job.received_at))
        if self._sqlite:  # the claim and the records in one hop to aiosqlite's thread (``record_sqlite``)
            self._claim_sqlite = sqlite_statement(self._claim, engine.dialect)
            self._retry_sqlite = sqlite_statement(_RETRY, engine.dialect)

    async def add(self, key: str, payload: dict[str, Any], *, leased: bool = False) -> bool:
        """Store a job; False if one with ``key`` exists (a redelivery). Committed on return.

        ``leased``: written as running under this process's lease, for a worker that is free.
        """
        now = self._clock.now()
        return await self._rows.add({
            "key": key[:255], "platform": self._platform, "payload": json.dumps(payload, separators=(",", ":")),
            "state": RUNNING if leased else PENDING, "received_at": now, "attempts": int(leased),
            "lease_until": now + self._lease if leased else None,
        })

    async def close(self) -> None:
        await self._rows.close()

    def fold_into_inserts(self, *pending: Pending) -> None:
        """Write ``pending`` with the next job inserted, in its transaction."""
        self._rows.pending = pending

    def finish_statements(self, finished: Sequence[tuple[str, str]]) -> Statements:
        """The statement recording ``finished`` (key, final state), in the driver's own terms."""
        now = self._clock.now()
        at = self._finished_at(now) if self._finished_at else now
        if not self._sqlite:  # one parameter set: arrays (``GroupInsert.Pending``)
            return [(self._finish_sql, [(at, [key for key, _ in finished], [state for _, state in finished])])]
        return [(self._finish_sql, [(state, at, key) for key, state in finished])]

    async def claim(self, limit: int, finished: Sequence[tuple[str, str]] = (),
                    retry: Sequence[tuple[str, float]] = ()) -> list[Job]:
        """Record ``finished`` (key, final state) and ``retry`` (key, seconds from now: handed back
        after a transient failure), with the ``notes``, and lease up to ``limit`` jobs, oldest first."""
        if not limit and not finished and not retry:
            return []
        notes = self._notes.take() if self._notes is not None else []
        committed = False
        try:
            rows = await self._claim_and_record(limit, finished, retry, notes)
            committed = True
        finally:
            if self._notes is not None:
                self._notes.settle(notes, committed)
        rows.sort(key=lambda row: row[3])  # received_at
        return [Job(row[0], json.loads(row[1]), row[2]) for row in rows]

    async def _claim_and_record(self, limit: int, finished: Sequence[tuple[str, str]],
                                retry: Sequence[tuple[str, float]], notes: list[dict[str, Any]]) -> list[Any]:
        if self._sqlite:
            return await self._claim_and_record_sqlite(limit, finished, retry, notes)
        now = self._clock.now()
        async with self._engine.begin() as connection:
            if notes:
                assert self._notes is not None
                await self._notes.write(connection, notes)
            if finished:
                for state in (DONE, FAILED):
                    keys = [key for key, final in finished if final == state]
                    if keys:
                        await connection.execute(_FINISH, {"b_keys": keys, "b_state": state, "b_now": now})
            if retry:
                await connection.execute(_RETRY, [{"b_key": key, "b_not_before": now + timedelta(seconds=seconds)}
                                                  for key, seconds in retry])
            if not limit:
                return []
            return list((await connection.execute(
                self._claim, {"b_now": now, "b_limit": limit, "b_lease": now + self._lease})).all())

    async def _claim_and_record_sqlite(self, limit: int, finished: Sequence[tuple[str, str]],
                                       retry: Sequence[tuple[str, float]], notes: list[dict[str, Any]]) -> list[Any]:
        """The same transaction in one hop to aiosqlite's thread: SQLite has one connection, and a
        transaction of several hops holds it (and keeps the webhooks' inserts waiting) for as many
        turns of a busy loop."""
        now = self._clock.now()
        statements = list(self._notes.statements(notes)) if self._notes is not None and notes else []
        if finished:
            statements += self.finish_statements(finished)
        if retry:
            sql, parameters = self._retry_sqlite
            statements.append((sql, [parameters({"b_key": key, "b_not_before": now + timedelta(seconds=seconds)})
                                     for key, seconds in retry]))
        claim_sql, claim_parameters = self._claim_sqlite
        claim = (claim_sql, claim_parameters({"b_now": now, "b_limit": limit, "b_lease": now + self._lease}))
        async with self._engine.connect() as connection:
            return await sqlite_transaction(connection, statements, claim if limit else None)

    async def renew(self, keys: Sequence[str]) -> None:
        """Extend the leases of jobs this process is still running."""
        if keys:
            async with self._engine.begin() as connection:
                await connection.execute(_RENEW, {"b_keys": list(keys), "b_lease": self._clock.now() + self._lease})

    async def hand_back(self, keys: Sequence[str]) -> None:
        """Make jobs this process will not finish claimable at once (shutdown)."""
        if keys:
            async with self._engine.begin() as connection:
                await connection.execute(_HAND_BACK, {"b_keys": list(keys)})

    async def purge(self, keep: timedelta = KEEP_FINISHED) -> int:
        """Delete finished jobs older than ``keep``."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(InboundJob).where(_job.platform == self._platform, _job.state.in_((DONE, FAILED)),
                                         _job.finished_at < self._clock.now() - keep))
        return result.rowcount


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


class StoredQueue:
    """An adapter's inbound queue (``bot.core.adapter.InboundQueue``): the store and its workers.

    Nothing a person wrote that holds a personal identity number is stored: ``guard`` reads the
    payload's ``content`` first (``HoldsPersonalNumber``), and a finished job's payload is cleared.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock, platform: str,
                 process: Callable[[dict[str, Any]], Awaitable[None]], *, workers: int, guard: Guard,
                 notes: Notes | None = None) -> None:
        self._jobs = InboundJobs(engine, clock, platform, notes=notes)
        self._process = process
        self._guard = guard
        self._workers = JobWorkers(self._jobs, self._run, size=workers)
        self._jobs.fold_into_inserts(self._workers, *([notes] if notes is not None else []))

    def start(self) -> None:
        self._workers.start()

    async def accept(self, key: str, payload: Mapping[str, Any], *, content: Sequence[str] = ()) -> bool:
        """Store the job (a redelivery adds none); to a free worker at once, else it waits in the store."""
        if self._guard(list(content)):
            raise HoldsPersonalNumber("an inbound event with a personal identity number was not stored")
        job = Job(key, dict(payload), attempts=1)
        leased = self._workers.reserve()
        try:
            added = await self._jobs.add(job.key, job.payload, leased=leased)
        except Exception as exc:  # noqa: BLE001 - not stored means not accepted: the platform delivers it again
            # The error's name only: a database error may quote the row.
            log.error("an inbound event could not be stored: %s", type(exc).__name__)
            added = None
        if leased:
            self._workers.run(job if added else None)
        elif added:
            self._workers.notify()
        return added is not None

    async def drain(self) -> None:
        await self._workers.drain()

    async def stop(self, grace: float) -> None:
        await self._workers.stop(grace)

    async def _run(self, job: Job) -> None:
        FIRST_RUN.set(job.attempts == 1)  # in the job's own task
        await self._process(job.payload)
