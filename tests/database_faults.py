"""PostgreSQL's own fault controls, used from a separate admin connection: what a restart, a short
outage or an idle timeout does to the bot's connections."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL


class PostgresFaults:
    def __init__(self, database_url: str) -> None:
        self.database = make_url(database_url).database
        self._admin_url = POSTGRES_URL.replace("+asyncpg", "")

    async def _execute(self, sql: str) -> str:
        connection = await asyncpg.connect(self._admin_url, timeout=5)
        try:
            return await connection.execute(sql)
        finally:
            await connection.close()

    async def kill_connections(self, *, sparing: str | None = None) -> int:
        """``pg_terminate_backend`` on the connections to the database; returns how many.

        ``sparing``: a LIKE pattern; connections whose last statement matches it live on (the
        kept insert connections, say, so that the pool alone is hit). Waits until the server has
        ended them, as after a restart or an idle timeout.
        """
        chosen = "datname = $1 AND ($2::text IS NULL OR query NOT LIKE $2)"
        connection = await asyncpg.connect(self._admin_url, timeout=5)
        try:
            killed = await connection.fetchval(
                f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {chosen}", self.database, sparing)
            async with asyncio.timeout(10):  # the server ends them asynchronously: ask until they are gone
                while True:
                    left = await connection.fetchval(
                        f"SELECT count(*) FROM pg_stat_activity WHERE {chosen}", self.database, sparing)
                    if not left:
                        break
                    await asyncio.sleep(0.01)
        finally:
            await connection.close()
        return int(killed)

    async def go_down(self, *, sparing: str | None = None) -> None:
        """An outage: connections dropped (see :meth:`kill_connections`), new ones refused until
        :meth:`come_back`."""
        await self._execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false')
        await self.kill_connections(sparing=sparing)

    async def come_back(self) -> None:
        await self._execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')
