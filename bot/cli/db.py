"""``distansmote db``: the database schema; and the migrated store the other commands open."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.cli.arguments import command
from bot.platforms.registry import load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker

T = TypeVar("T")


def add_commands(commands: argparse._SubParsersAction) -> None:
    db = command(commands, "db", "database schema", details="DISTANSMOTE_DATABASE_URL names the database.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    command(db_commands, "upgrade", "apply all migrations",
            details="Creates the database (a SQLite file) if it does not exist; safe to run again. "
            "serve does the same at start; several at once migrate once (PostgreSQL advisory lock)."
            ).set_defaults(run=_db_upgrade)
    db_downgrade = command(db_commands, "downgrade", "undo migrations down to REVISION",
                           details="For going back to an older version of the bot: run it with the newer "
                           "version installed, before installing the older one. Take a backup first: a "
                           "downgrade drops what the newer migrations added.")
    db_downgrade.add_argument("revision", metavar="REVISION",
                              help="the migration to end at (e.g. 0007), -1 for one step, base for none")
    db_downgrade.set_defaults(run=_db_downgrade)


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.store.migrations import open_engine

    settings = load_settings()

    async def run() -> None:
        engine = await open_engine(settings.database_url)
        await engine.dispose()

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from alembic.util.exc import CommandError

    from bot.store.engine import reach
    from bot.store.migrations import downgrade

    settings = load_settings()

    async def run() -> None:
        engine = await reach(settings.database_url)
        try:
            await downgrade(engine, args.revision)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except CommandError as exc:
        print(f"distansmote db downgrade: {exc}", file=sys.stderr)
        return 2
    print(f"database schema downgraded to {args.revision}")
    return 0


async def with_store(work: Callable[[async_sessionmaker], Awaitable[T]]) -> T:
    """``work`` on the configured database, migrated, closed after."""
    from bot.store.engine import sessionmaker
    from bot.store.migrations import open_engine

    engine = await open_engine(load_settings().database_url)
    try:
        return await work(sessionmaker(engine))
    finally:
        await engine.dispose()
