"""Inbound event ids: a redelivered or replayed event changes nothing, one whose handling did not finish runs again.

An event's record is written once it is handled, never before; :meth:`InboundEvents.posted` only notes it, for the
next record of finished inbound jobs to write in its transaction (docs/reliability.md, "The writes of a command").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.clock import Clock
from bot.store.driver import bind_processors, driver_values, sqlite_driver
from bot.store.queues import InboundEvent

log = logging.getLogger(__name__)

# Platforms redeliver within minutes; a month covers any replay worth refusing.
KEEP_EVENT_IDS = timedelta(days=30)
NOTES_AFTER = 1.0  # seconds a note waits for a job record to take it before it is written alone

_event = InboundEvent.__table__.c
# On the driver's own connection: one round trip (asyncpg), one hop (aiosqlite, ``bot.store.driver.sqlite_driver``),
# where SQLAlchemy's execution costs more CPU than the statement.
_FIND_SQLITE = "SELECT handled_at, replies FROM inbound_event WHERE key = ?"
_FIND_PG = "SELECT handled_at, replies FROM inbound_event WHERE key = $1"
_COLUMNS = ("key", "received_at", "handled_at", "replies")
_UPSERT_PG = ("INSERT INTO inbound_event (key, received_at, handled_at, replies) "
              "SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[], $4::text[]) "
              "ON CONFLICT (key) DO UPDATE SET handled_at = excluded.handled_at, replies = excluded.replies")
_UPSERT_SQL = ("INSERT INTO inbound_event (key, received_at, handled_at, replies) VALUES ({}, {}, {}, {}) "
               "ON CONFLICT (key) DO UPDATE SET handled_at = excluded.handled_at, replies = excluded.replies")

Row = dict[str, Any]


class InboundEvents:
    """Statements are built once: building them per call costs more CPU than the round trip."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._sqlite = self._engine.dialect.name == "sqlite"
        insert = (sqlite_insert if self._sqlite else pg_insert)(InboundEvent)
        self._upsert = insert.on_conflict_do_update(
            index_elements=["key"], set_={"handled_at": insert.excluded.handled_at, "replies": insert.excluded.replies})
        self._processors = bind_processors(cast(Table, InboundEvent.__table__), self._engine.dialect)
        self._upsert_sql = _UPSERT_SQL.format(*"????") if self._sqlite else _UPSERT_PG
        self._notes: dict[str, datetime] = {}  # key -> handled at, not written yet
        self._writing: dict[str, datetime] = {}  # taken by a transaction not committed yet
        self._flush: asyncio.Task[None] | None = None

    async def begin(self, key: str) -> tuple[bool, str | None]:
        """Whether to handle ``key``: ``(True, None)`` if it has no record (new, or a run that died
        or failed; a record without ``handled_at`` was written by an older version); ``(False,
        replies)`` if it was handled before (also in another instance), with its replies as stored
        by :meth:`finish` and not posted since, if any. Reads only."""
        if key in self._notes or key in self._writing:
            return False, None
        async with self._engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            if self._sqlite:
                found = next(iter(await driver.execute_fetchall(_FIND_SQLITE, (key,))), None)
            else:
                try:
                    found = await driver.fetchrow(_FIND_PG, key)  # no transaction: one statement
                except Exception as exc:
                    if not driver.is_closed():
                        raise
                    # The server dropped it: out of the pool, and transient as SQLAlchemy would say.
                    await connection.invalidate()
                    raise ConnectionResetError("the database connection was closed") from exc
        if found is None or found[0] is None:
            return True, None
        return False, found[1]

    async def finish(self, key: str, replies: str | None) -> None:
        """Record the event handled now (one commit), its replies (JSON) kept until :meth:`posted`."""
        now = self._clock.now()
        async with self._engine.begin() as connection:
            await connection.execute(self._upsert, {"key": key, "received_at": now, "handled_at": now,
                                                    "replies": replies})

    def posted(self, key: str) -> None:
        """The event is handled and its replies are on the platform: recorded, with no replies,
        with the next job record (or within ``NOTES_AFTER``)."""
        self._notes[key] = self._clock.now()
        if self._flush is None:
            self._flush = asyncio.create_task(self._write_later())

    # -- the notes, written in another's transaction ------------------------------------------

    def take(self) -> list[Row]:
        """The notes not written yet, for a transaction that :meth:`write` s them; then :meth:`settle`."""
        notes, self._notes = self._notes, {}
        self._writing.update(notes)
        return [{"key": key, "received_at": at, "handled_at": at, "replies": None} for key, at in notes.items()]

    def statements(self, rows: Sequence[Row]) -> list[tuple[str, list[Sequence[Any]]]]:
        """The notes as the driver's own statement (written with the next job inserted)."""
        values: list[Sequence[Any]] = [driver_values(self._processors, row, _COLUMNS) for row in rows]
        if not self._sqlite:  # one parameter set: arrays (``GroupInsert.Pending``)
            return [(self._upsert_sql, [[list(column) for column in zip(*values, strict=True)]])]
        return [(self._upsert_sql, values)]

    async def write(self, connection: AsyncConnection, rows: Sequence[Row]) -> None:
        if not rows:
            return
        if self._sqlite:
            await (await sqlite_driver(connection)).executemany(*self.statements(rows)[0])
        else:
            await connection.execute(self._upsert, list(rows))

    def settle(self, rows: Sequence[Row], committed: bool) -> None:
        """The transaction of :meth:`take` ended; notes it did not commit wait for the next one."""
        for row in rows:
            at = self._writing.pop(row["key"], None)
            if not committed and at is not None:
                self._notes.setdefault(row["key"], at)

    async def _write_later(self) -> None:
        try:
            while self._notes:
                await asyncio.sleep(NOTES_AFTER)
                try:
                    await self._write_alone()
                except Exception as exc:  # noqa: BLE001 - kept, and tried again with the next
                    log.warning("handled events not recorded yet: %s", type(exc).__name__)
        finally:
            self._flush = None

    async def _write_alone(self) -> None:
        rows = self.take()
        committed = False
        try:
            if rows:
                async with self._engine.begin() as connection:
                    await self.write(connection, rows)
            committed = True
        finally:
            self.settle(rows, committed)

    async def purge(self, keep: timedelta = KEEP_EVENT_IDS) -> int:
        """Forget event ids older than ``keep``; returns how many."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(InboundEvent).where(_event.received_at < self._clock.now() - keep))
        return result.rowcount

    async def close(self) -> None:
        """Write the notes still waiting (shutdown)."""
        if self._flush is not None:
            self._flush.cancel()
            await asyncio.gather(self._flush, return_exceptions=True)
        try:
            await self._write_alone()
        except Exception as exc:  # noqa: BLE001 - their jobs are not recorded done either: they run again
            log.warning("handled events not recorded at shutdown: %s", type(exc).__name__)
