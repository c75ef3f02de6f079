"""Two replicas starting at once on one PostgreSQL database migrate once: each takes the migration
advisory lock (bot.store.migrations.MIGRATION_LOCK) before Alembic looks at the schema, so the second finds the
first's work done instead of running the same migrations into "relation already exists"."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from bot.store.migrations import MIGRATION_LOCK, head_revision

REPO = Path(__file__).resolve().parents[2]
HEAD = head_revision()


async def _waiting_for_the_lock(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))


async def test_two_processes_upgrading_at_once_migrate_once(postgres_url, tmp_path):
    environment = {**{name: value for name, value in os.environ.items() if not name.startswith("DISTANSMOTE_")},
                   "DISTANSMOTE_DATABASE_URL": postgres_url, "PYTHONPATH": str(REPO)}
    holder = await asyncpg.connect(postgres_url.replace("+asyncpg", ""), timeout=5)
    try:
        # Hold the lock so that both are surely at the same point before either migrates.
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        replicas = [await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "db", "upgrade", cwd=tmp_path, env=environment,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for _ in range(2)]
        # Polled: eventually() of tests/waiting.py asks a plain function, this asks the server.
        deadline = asyncio.get_running_loop().time() + 60
        while (waiting := await _waiting_for_the_lock(holder)) < 2:
            assert asyncio.get_running_loop().time() < deadline, f"{waiting} of 2 waiting for the lock"
            await asyncio.sleep(0.05)
        assert await holder.fetchval("SELECT to_regclass('public.meeting')") is None  # nothing migrated yet
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

        results = [await asyncio.wait_for(replica.communicate(), 120) for replica in replicas]
        assert [replica.returncode for replica in replicas] == [0, 0], results
        assert all(out.decode().strip() == "database schema is up to date" and not err for out, err in results)
        assert await holder.fetchval("SELECT version_num FROM alembic_version") == HEAD
        assert await holder.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await holder.close()

