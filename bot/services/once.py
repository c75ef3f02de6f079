"""Work that runs once per cluster a day, whichever instance's timer fires first (the daily sweep).

On PostgreSQL an advisory lock picks one instance (on an autocommit connection of its own: no transaction stays open
while the job runs); the day's row in the daily-run ledger (``daily_run``), written only after a run without an
error, keeps later timers and restarts from running it again, and a failed run from blocking the next day's
(docs/reminders.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.clock import Clock
from bot.store.queues import DailyRun
from bot.store.schema import AuditRecord


def lock_key(job: str) -> int:
    """A stable signed 64-bit advisory lock key for ``job``."""
    return int.from_bytes(hashlib.blake2b(f"distansmote:{job}".encode(), digest_size=8).digest(), "big", signed=True)


class DailyOnce:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker, clock: Clock, zone: ZoneInfo) -> None:
        self._sessions = sessions
        self._engine = engine
        self._clock = clock
        self._zone = zone

    @asynccontextmanager
    async def claim(self, job: str) -> AsyncIterator[bool]:
        """``True`` for the one instance that runs ``job`` today; recorded when the block ends cleanly."""
        if self._engine.dialect.name != "postgresql":
            async with self._record_unless_done(job) as mine:
                yield mine
            return
        async with self._engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            key = lock_key(job)
            if not await autocommit.scalar(select(func.pg_try_advisory_lock(key))):
                yield False  # another instance runs it right now
                return
            try:
                async with self._record_unless_done(job) as mine:
                    yield mine
            finally:
                await autocommit.scalar(select(func.pg_advisory_unlock(key)))

    @asynccontextmanager
    async def _record_unless_done(self, job: str) -> AsyncIterator[bool]:
        action, day = f"daily:{job}", self._clock.now().astimezone(self._zone).date().isoformat()
        async with self._sessions() as session:
            done = await session.get(DailyRun, (job, day)) is not None
        yield not done
        if not done:
            now = self._clock.now()
            async with self._sessions() as session, session.begin():
                session.add(DailyRun(job=job, day=day, ran_at=now))
                session.add(AuditRecord(at=now, actor="system", action=action, detail=day))
