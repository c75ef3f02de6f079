"""Scratch PostgreSQL databases for the benchmarks: created on a server, dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

DEFAULT_URL = os.environ.get("DISTANSMOTE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def admin(url: str, sql: str) -> Any:
    """One statement on the server of ``url``; its first value."""
    import asyncpg

    connection = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[tuple[str, str]]:
    """A database of its own on the server of ``server_url``: its URL and name, dropped afterwards."""
    name = f"distansmote_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name, name
    finally:
        asyncio.run(admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))
