"""``distansmote sweep``: the rooms on the CMS with this bot's mark that no live meeting claims."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bot.cli.arguments import command
from bot.cli.check import missing_sqlite_file
from bot.platforms.registry import load_settings

if TYPE_CHECKING:
    from bot.services.sweep import Orphan


def add_commands(commands: argparse._SubParsersAction) -> None:
    sweep = command(commands, "sweep", "list orphaned rooms: on the CMS with this bot's mark, but claimed by "
                    "no live meeting", details="With --delete remove them, each recorded in the audit trail "
                    "as actor 'sweep'. Refuses a SQLite database file that does not exist.")
    sweep.add_argument("--delete", action="store_true", help="delete the orphaned rooms")
    sweep.set_defaults(run=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from bot.runtime import open_services
    from bot.services.cms import CmsError
    from bot.services.sweep import sweep

    settings = load_settings()
    if (missing := missing_sqlite_file(settings.database_url)) is not None:
        # An empty new database claims no room: every marked room would look orphaned.
        print(f"distansmote sweep: the database file {missing} does not exist (DISTANSMOTE_DATABASE_URL)",
              file=sys.stderr)
        return 1

    async def run() -> list[Orphan]:
        services = await open_services(settings)
        try:
            return await sweep(services.cms, services.sessions, delete=args.delete, clock=services.clock)
        finally:
            await services.close()

    try:
        orphans = asyncio.run(run())
    except CmsError as exc:
        print(f"distansmote sweep: {exc}", file=sys.stderr)
        return 1
    for orphan in orphans:
        print(f"{orphan.space_id}  {orphan.name}  (meeting {orphan.meeting_id}){'  deleted' if orphan.deleted else ''}")
    print(f"{len(orphans)} orphaned room(s){' deleted' if args.delete else ''}")
    return 0
