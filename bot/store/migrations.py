"""Migrations: the schema brought to the code's revision with Alembic (``bot/migrations/``), under a lock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import ConfigError
from bot.store.engine import OPEN_SECONDS, reach
from bot.store.transient import reason

MIGRATIONS = Path(__file__).parent.parent / "migrations"
# The PostgreSQL advisory lock that migrations run under (its key is the bytes "dm:migra").
MIGRATION_LOCK = int.from_bytes(b"dm:migra", "big", signed=True)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply all migrations (`distansmote db upgrade`, and at start-up).

    On PostgreSQL under a transaction advisory lock: replicas starting at once wait for the first,
    which migrates; the others then find the schema at head. PostgreSQL's DDL is transactional, so
    the lock lasts exactly as long as the migration.
    """
    await _migrate(engine, lambda config: command.upgrade(config, revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Undo migrations down to ``revision`` (`distansmote db downgrade`), under the same lock."""
    await _migrate(engine, lambda config: command.downgrade(config, revision))


async def _migrate(engine: AsyncEngine, step: Callable[[Config], None]) -> None:
    def run(connection: Connection) -> None:
        config = _alembic_config()
        config.attributes["connection"] = connection
        step(config)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        await connection.run_sync(run)


async def open_engine(url: str, *, within: float = OPEN_SECONDS) -> AsyncEngine:
    """The engine for ``url`` with the schema upgraded (start-up of ``serve`` and the other commands).

    A URL that is wrong, or a database that refuses or does not answer within ``within`` seconds,
    stops start-up with one line that names the setting (never the URL: it may hold a password).
    """
    engine = await reach(url, within=within)
    try:
        await upgrade(engine)  # no deadline: a long migration may take its time
    except (OSError, DBAPIError) as exc:
        await engine.dispose()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: the database could not be opened ({reason(exc)})") from None
    return engine


def head_revision() -> str | None:
    """The migration the code needs."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


async def schema_revisions(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """The migration the database is at and the one the code needs (``distansmote check``)."""
    from alembic.runtime.migration import MigrationContext

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        at = await connection.run_sync(current)
    return at, head_revision()
