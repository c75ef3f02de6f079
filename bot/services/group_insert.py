"""Rows that many requests insert at once, written together (group commit).

``INSERT … ON CONFLICT (key) DO NOTHING RETURNING key``: each caller learns whether its row was
new. Callers arriving while a write is in progress go into the next one, so under load one round
trip and one commit serve many of them, while a caller alone waits for nobody.

On PostgreSQL the writer keeps one connection in autocommit: a pool checkout costs as much CPU as
the insert itself. SQLite has a single connection for everything, so there it is taken per write.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class GroupInsert:
    def __init__(self, engine: AsyncEngine, table: Table, key: str = "key") -> None:
        self._engine = engine
        self._key = key
        postgresql = engine.dialect.name == "postgresql"
        insert = pg_insert if postgresql else sqlite_insert
        self._statement = insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        self._keep_connection = postgresql
        self._connection: AsyncConnection | None = None
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, row: dict[str, Any]) -> bool:
        """Insert ``row``; False if its key was there already. Committed on return."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await future

    async def close(self) -> None:
        """Give the kept connection back (shutdown; the next write opens another)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # noqa: BLE001 - it was broken anyway
                await connection.invalidate()

    async def _write(self) -> None:
        batch: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    added = await self._insert([row for row, _ in batch])
                except Exception as exc:  # noqa: BLE001 - every caller in the batch gets the failure
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for row, future in batch:
                    if not future.done():
                        future.set_result(row[self._key] in added)
                    added.discard(row[self._key])  # the same key twice in one batch: new once
        finally:
            self._writer = None
            for _, future in batch + self._waiting:  # left undone only when cancelled (shutdown)
                future.cancel()
            self._waiting = []

    async def _insert(self, rows: list[dict[str, Any]]) -> set[Any]:
        # One row (the usual case unless busy) skips SQLAlchemy's executemany machinery.
        parameters = rows[0] if len(rows) == 1 else rows
        if not self._keep_connection:
            async with self._engine.begin() as connection:
                return {row[0] for row in await connection.execute(self._statement, parameters)}
        if self._connection is None:
            self._connection = await self._engine.execution_options(isolation_level="AUTOCOMMIT").connect()
        try:
            return {row[0] for row in await self._connection.execute(self._statement, parameters)}
        except Exception:
            await self.close()  # a broken connection is replaced at the next write
            raise
