"""PostgreSQL's own fault controls, used from a separate admin connection: what a restart, a short
outage or an idle timeout does to the bot's connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

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

    async def kill_connections(self) -> int:
        """``pg_terminate_backend`` on every connection to the database; returns how many.

        Waits until the server has ended them, as after a restart or an idle timeout.
        """
        connection = await asyncpg.connect(self._admin_url, timeout=5)
        try:
            killed = await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1", self.database)
            async with asyncio.timeout(10):
                while await connection.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", self.database):
                    await asyncio.sleep(0.01)
        finally:
            await connection.close()
        return int(killed)

    async def go_down(self) -> None:
        """An outage: connections dropped, new ones refused until :meth:`come_back`."""
        await self._execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false')
        await self.kill_connections()

    async def come_back(self) -> None:
        await self._execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')


async def eventually(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds (something another task does), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.01)
