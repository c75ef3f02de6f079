"""Rows that many requests insert at once, written together (group commit): each caller learns whether its row was new.

Why it bypasses SQLAlchemy's execution machinery, and how it writes on PostgreSQL and SQLite: docs/reliability.md,
"The inbound queue". A dropped kept connection is replaced once, at the write that finds it closed; a row refused for
its value does not fail the others of its group (they are written again one by one).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.driver import bind_processors, driver_values, sqlite_transaction
from bot.store.transient import is_transient

log = logging.getLogger(__name__)

MAX_ROWS = 1000  # per statement: PostgreSQL takes at most 32767 parameters
_PARAMETER = re.compile(r"\$(\d+)")

Statements = list[tuple[str, list[Sequence[Any]]]]


class Pending(Protocol):
    """Rows written with the next insert: ``take`` them, run their ``statements``, then ``settle``.

    Statements are the driver's own SQL and values. SQLite: ``?`` parameters, one set per row (run
    with ``executemany`` in the insert's transaction). PostgreSQL: one statement with ``$n``
    parameters (arrays carrying all rows), run as a ``WITH`` of the insert itself: one round trip,
    and one statement is one transaction."""

    def take(self) -> list[dict[str, Any]]: ...

    def statements(self, rows: Sequence[dict[str, Any]]) -> Statements: ...

    def settle(self, rows: Sequence[dict[str, Any]], committed: bool) -> None:
        """The transaction ended: rows it did not commit are owed still."""
        ...


class GroupInsert:
    def __init__(self, engine: AsyncEngine, table: Table, key: str = "key") -> None:
        self._engine = engine
        self._table = table
        self._key = key
        self._postgresql = engine.dialect.name == "postgresql"
        self._processors = bind_processors(table, engine.dialect)
        self.pending: Sequence[Pending] = ()
        self._connection: AsyncConnection | None = None
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._statements: dict[tuple[tuple[str, ...], int], str] = {}  # at most MAX_ROWS per column set

    async def add(self, row: dict[str, Any]) -> bool:
        """Insert ``row``; False if its key was there already. Committed on return."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await future

    async def close(self) -> None:
        """Give the kept connection back (shutdown; the next write takes another)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            driver = (await connection.get_raw_connection()).driver_connection
            if driver is None or driver.is_closed():
                await connection.invalidate()  # not back into the pool: its reset would fail loudly
            else:
                await connection.close()
        except Exception:  # noqa: BLE001 - it was broken anyway
            await connection.invalidate()

    async def _write(self) -> None:
        batch: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_ROWS], self._waiting[MAX_ROWS:]
                await self._write_batch(batch)
        finally:
            self._writer = None
            for _, future in batch + self._waiting:  # left undone only when cancelled (shutdown)
                future.cancel()
            self._waiting = []

    async def _write_batch(self, batch: list[tuple[dict[str, Any], asyncio.Future[bool]]]) -> None:
        rows = [row for row, _ in batch]
        taken = [(pending, pending.take()) for pending in self.pending]
        also = [statement for pending, owed in taken if owed for statement in pending.statements(owed)]
        committed = False
        try:
            insert = self._insert_postgresql if self._postgresql else self._insert_sqlite
            added = await insert(rows, also)
            committed = True
        except Exception as exc:  # noqa: BLE001 - handed to the callers
            if len(batch) > 1 and not is_transient(exc):
                # A value one column refuses: the other rows are fine on their own.
                for item in batch:
                    await self._write_batch([item])
                return
            for _, future in batch:  # the database is away: every caller gets the failure
                if not future.done():
                    future.set_exception(exc)
            return
        finally:
            for pending, owed in taken:
                pending.settle(owed, committed)
        for row, future in batch:
            if not future.done():
                future.set_result(row[self._key] in added)
            added.discard(row[self._key])  # the same key twice in one batch: new once

    def _values(self, rows: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
        columns = list(rows[0])
        return columns, [value for row in rows for value in driver_values(self._processors, row, columns)]

    async def _insert_sqlite(self, rows: list[dict[str, Any]], also: Statements) -> set[Any]:
        columns, values = self._values(rows)
        sql = self._sql(columns, len(rows), lambda n: "?")
        async with self._engine.connect() as connection:
            return {row[0] for row in await sqlite_transaction(connection, also, (sql, values))}

    async def _insert_postgresql(self, rows: list[dict[str, Any]], also: Statements) -> set[Any]:
        columns, values = self._values(rows)
        sql = self._sql(columns, len(rows), lambda n: f"${n}")
        for attempt in (1, 2):
            kept = self._connection is not None
            if self._connection is None:
                self._connection = await self._connect()
            driver = (await self._connection.get_raw_connection()).driver_connection
            assert driver is not None  # a connection just taken from the pool has its driver's
            try:
                records = await driver.fetch(*_with(sql, values, also))
            except Exception:
                if not driver.is_closed():
                    raise  # the statement's own failure; the connection is fine
                await self.close()
                if not kept or attempt == 2:
                    raise  # a new connection failed too: the database is away
                # Usually dropped while idle, so the statement never reached the server. If it
                # did and committed, the rows count as there before: at worst "not new".
                log.warning("the kept database connection was closed by the server; reconnecting")
                continue
            return {record[0] for record in records}
        raise AssertionError("unreachable")

    async def _connect(self) -> AsyncConnection:
        """A pool connection that works. The pool does not ping (see ``bot.store.engine.create_engine``), so
        one the server dropped fails its first statement; SQLAlchemy then renews the whole pool,
        and the second try gets a new connection."""
        for attempt in (1, 2):
            connection = await self._engine.connect()
            try:
                await connection.exec_driver_sql("SELECT 1")
                await connection.rollback()  # end SQLAlchemy's transaction: the inserts autocommit
            except DBAPIError as exc:
                await connection.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                continue
            return connection
        raise AssertionError("unreachable")

    def _sql(self, columns: Sequence[str], count: int, placeholder: Callable[[int], str]) -> str:
        """The statement for ``count`` rows; ``placeholder(n)`` is the driver's n-th parameter.
        Built once per shape (at 50 a second nearly every batch is one row of the same columns)."""
        shape = (tuple(columns), count)
        sql = self._statements.get(shape)
        if sql is None:
            sql = self._statements[shape] = self._build_sql(columns, count, placeholder)
        return sql

    def _build_sql(self, columns: Sequence[str], count: int, placeholder: Callable[[int], str]) -> str:
        quote = self._engine.dialect.identifier_preparer.quote
        width = len(columns)
        rows = ", ".join("(" + ", ".join(placeholder(n * width + i + 1) for i in range(width)) + ")"
                         for n in range(count))
        return (f"INSERT INTO {quote(self._table.name)} ({', '.join(map(quote, columns))}) VALUES {rows} "
                f"ON CONFLICT ({quote(self._key)}) DO NOTHING RETURNING {quote(self._key)}")


def _with(sql: str, values: list[Any], also: Statements) -> list[Any]:
    """PostgreSQL: ``also`` as data-modifying ``WITH`` queries of ``sql``, their parameters numbered on."""
    if not also:
        return [sql, *values]
    queries: list[str] = []
    extra: list[Any] = []
    for n, (statement, (parameters,)) in enumerate(also):
        def renumber(match: re.Match[str], offset: int = len(values) + len(extra)) -> str:
            return f"${int(match[1]) + offset}"

        queries.append(f"pending_{n} AS ({_PARAMETER.sub(renumber, statement)})")
        extra += parameters
    return [f"WITH {', '.join(queries)} {sql}", *values, *extra]
