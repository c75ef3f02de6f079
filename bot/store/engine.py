"""The engine and sessions: a database URL made into an engine the bot can use, reached within a deadline."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolResetState

from bot.config import ConfigError
from bot.store.schema import Base
from bot.store.transient import reason

# At start-up: a database that has not answered by then is taken as a wrong or unreachable URL.
OPEN_SECONDS = 10.0


def create_engine(url: str) -> AsyncEngine:
    """The engine for ``url``; a URL the bot cannot use is a ConfigError that names the setting
    (never the URL: it may hold a password)."""
    try:
        return _create_engine(url)
    except ImportError:
        driver = make_url(url).get_driver_name()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: its driver {driver} is not installed; for PostgreSQL "
                          "write postgresql+asyncpg://... (the driver the bot installs)") from None
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: not a database URL the bot can use ({reason(exc)})") from None


def _create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection: SQLite has one writer anyway, and this turns "database is locked"
        # into orderly waiting. Several instances need PostgreSQL.
        # The pool's own reset rolls back at every return: a hop to aiosqlite's thread each time,
        # most of a short read's CPU. Only a connection left in a transaction needs it.
        engine = create_async_engine(
            url, pool_size=1, max_overflow=0, connect_args={"timeout": 30}, pool_reset_on_return=None
        )

        @event.listens_for(engine.sync_engine, "reset")
        def _roll_back_if_open(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
            driver = record.driver_connection
            if state.asyncio_safe and (driver is None or driver.in_transaction):
                dbapi_connection.rollback()

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    # No pre-ping: it costs a round trip and about 0.2 ms of CPU per checkout, a third of a short
    # transaction. A connection the server dropped fails one statement instead, and SQLAlchemy then
    # replaces the whole pool; recycling keeps connections younger than typical firewall timeouts.
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def insert_on_conflict(session: AsyncSession, table: type[Base]) -> Any:
    """An INSERT that can take ON CONFLICT, in the session's dialect (PostgreSQL or SQLite)."""
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


async def reach(url: str, *, within: float = OPEN_SECONDS) -> AsyncEngine:
    """The engine for ``url`` once a connection has been made, the schema as it is; errors as
    :func:`open_engine`'s."""
    engine = create_engine(url)
    try:
        async with asyncio.timeout(within), engine.connect():
            pass
    except TimeoutError:
        await engine.dispose()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: the database did not answer within {within:.0f} s") from None
    except (OSError, DBAPIError) as exc:
        await engine.dispose()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: the database could not be opened ({reason(exc)})") from None
    return engine
