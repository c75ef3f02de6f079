"""Inbound work kept in the store (a transactional inbox): a webhook is answered at once, nothing accepted is lost.

This module is the ``inbound_job`` table's side: jobs added, leased, finished in group commits and handed back;
``bot/services/job_workers.py`` runs them, at least once, and ``bot/services/stored_queue.py`` is the adapters'
queue over both. The bot's dedupe (``InboundEvents``) keeps their effect to once (docs/reliability.md, "The inbound
queue").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Integer, Table, and_, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.clock import Clock
from bot.services.group_insert import GroupInsert, Pending, Statements
from bot.services.handled_events import KEEP_EVENT_IDS
from bot.store.driver import sqlite_statement, sqlite_transaction
from bot.store.queues import InboundJob
from bot.store.schema import in_open_states

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
# Short, so that a job of a process that died runs again soon; renewed while the job runs, so that
# a long one (a slow CMS, the Webex client's retries and Retry-After waits) is not run twice.
LEASE = timedelta(seconds=30)
EMPTY = "{}"
# Finished rows go on deduping redeliveries and replays this long: as long as the bot keeps event
# ids (``bot.services.handled_events``), so that a job's first run is known to be its event's first.
KEEP_FINISHED = KEEP_EVENT_IDS

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
