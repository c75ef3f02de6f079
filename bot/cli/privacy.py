"""``distansmote privacy``: rule 1 in the store (scan), and one staff member's data (export, erase)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bot.cli.arguments import command
from bot.cli.db import with_store
from bot.platforms.registry import load_settings

if TYPE_CHECKING:
    from bot.services.privacy_scan import Finding


def add_commands(commands: argparse._SubParsersAction) -> None:
    privacy = command(commands, "privacy", "rule 1 and a staff member's data in the store (docs/privacy.md)",
                      details="DISTANSMOTE_DATABASE_URL names the database. A person is named as the audit trail "
                      "names them: webex:<Webex person id> or teams:<Entra object id>.")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    privacy_scan = command(privacy_commands, "scan", "list every place in the store that holds a personal "
                           "identity number (a unit, a room name, a recipient, a preference, a waiting job, "
                           "kept replies)", details="Prints where, never what. With --fix each is replaced by a "
                           "neutral text or removed; a live room whose name on the CMS holds one is listed for "
                           "an admin to rename or delete there. Exit code 1 when something was found and not "
                           "fixed. Migration 0009 ran it once with --fix.")
    privacy_scan.add_argument("--fix", action="store_true", help="replace or remove what is found")
    privacy_scan.set_defaults(run=_privacy_scan)
    _person_commands(privacy_commands)


def _person_commands(privacy_commands: argparse._SubParsersAction) -> None:
    """``privacy export`` and ``privacy erase``: one person's data (bot.services.retention)."""
    for action, summary, details, run in (
        ("export", "print every row that holds the person, table by table, as JSON",
         "Meetings they created or deleted (with their recipients' labels), room creations, their "
         "conversation reference and last unit, webhooks of theirs not yet processed, their audit records.",
         _privacy_export),
        ("erase", "remove the person from every table but the audit trail",
         "Their meetings stay for the county report, without their name or ids. Refused while they have a "
         "live room. The audit trail keeps their actions: docs/privacy.md says why.", _privacy_erase),
    ):
        person = command(privacy_commands, action, summary, details=details)
        person.add_argument("--person", required=True, metavar="PERSON",
                            help="the person: webex:<person id> or teams:<Entra object id>")
        person.set_defaults(run=run)


def _privacy_scan(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.services.privacy import PersonalNumberGuard
    from bot.services.privacy_scan import Neutral, scan
    from bot.store.migrations import open_engine
    from cards import texts

    settings = load_settings()
    today = SystemClock().now().astimezone(settings.zone).date
    guard = PersonalNumberGuard(today, own_numbers=[settings.dial_in_number])

    async def run() -> list[Finding]:
        engine = await open_engine(settings.database_url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(
                    scan, guard, fix=args.fix, neutral=Neutral(texts.REMOVED_UNIT, texts.REMOVED_LABEL),
                    units=settings.units)
        finally:
            await engine.dispose()

    found = asyncio.run(run())
    for finding in found:  # where, never what
        print(f"{finding.place}  {finding.key}{'  replaced' if args.fix else ''}")
        if finding.live_space_id:
            called = f" (now {finding.renamed_to!r} in the bot)" if finding.renamed_to else ""
            print(f"  live room {finding.live_space_id}{called}: its name on the CMS holds a personal identity "
                  "number; rename or delete it in Cisco Meeting Server")
    print(f"{len(found)} place(s) holding a personal identity number{' replaced' if args.fix else ''}")
    return 1 if found and not args.fix else 0


def _privacy_export(args: argparse.Namespace) -> int:
    import json

    from bot.services.retention import export_person

    exported = asyncio.run(with_store(lambda sessions: export_person(sessions, args.person)))
    print(json.dumps({"person": args.person, **exported}, ensure_ascii=False, indent=2))
    found = sum(map(len, exported.values()))
    print(f"{found} row(s) hold {args.person}" if found else f"nothing stored holds {args.person}", file=sys.stderr)
    return 0


def _privacy_erase(args: argparse.Namespace) -> int:
    from bot.services.retention import PersonHasLiveRooms, erase_person

    try:
        counts = asyncio.run(with_store(lambda sessions: erase_person(sessions, args.person)))
    except PersonHasLiveRooms:
        print(f"distansmote privacy erase: {args.person} has a live room; delete it first (or let the automatic "
              "deletion do it), then erase", file=sys.stderr)
        return 1
    for table, count in counts.items():
        print(f"{table}: {count}")
    print(f"{args.person} erased; the audit trail keeps their actions (docs/privacy.md)")
    return 0
