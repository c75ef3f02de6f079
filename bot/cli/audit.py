"""``distansmote audit export``: the audit trail for a SIEM or an archive, oldest first.

Each record is who (the platform's id of the person, or ``system``, ``sweep``), what (a code), when,
and which room; never text from chat. Read in batches, written as it is read.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from bot.cli.arguments import command, moment
from bot.cli.db import with_store
from bot.platforms.registry import load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker

FIELDS = ("id", "at", "action", "actor", "room_name", "meeting_id", "space_id", "detail", "operation")
BATCH = 500



def add_commands(commands: argparse._SubParsersAction) -> None:
    audit = command(commands, "audit", "the audit trail: who did what to which room, when")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_export = command(audit_commands, "export", "write the audit records, oldest first, to standard "
                           "output (for a SIEM or an archive)", details="Fields: id, at (UTC, ISO 8601), action, "
                           "actor (a platform id, system or sweep), room_name, meeting_id, space_id, detail, "
                           "operation. Codes only, never text from chat; the count goes to standard error.")
    audit_export.add_argument("--since", type=moment, metavar="WHEN",
                              help="records at or after this moment: YYYY-MM-DD or YYYY-MM-DDTHH:MM, local time "
                              "(DISTANSMOTE_TIMEZONE) unless it ends in an offset such as +01:00")
    audit_export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                              help="one JSON object a line (default) or CSV with a header")
    audit_export.set_defaults(run=_audit_export)


def _audit_export(args: argparse.Namespace) -> int:
    zone = load_settings().zone
    since = args.since.replace(tzinfo=zone) if args.since and args.since.tzinfo is None else args.since
    count = asyncio.run(with_store(lambda sessions: export_audit(sessions, sys.stdout, since=since,
                                                                 format=args.format)))
    print(f"{count} audit record(s)", file=sys.stderr)
    return 0


async def export_audit(sessions: async_sessionmaker, out: TextIO, *, since: datetime | None = None,
                       format: str = "jsonl") -> int:
    """Write the records at or after ``since`` to ``out`` as JSON lines or CSV; the number written."""
    from sqlalchemy import select

    from bot.store.schema import AuditRecord, Meeting

    query = (select(AuditRecord, Meeting.room_name).outerjoin(Meeting, Meeting.id == AuditRecord.meeting_id)
             .order_by(AuditRecord.id).execution_options(yield_per=BATCH))
    if since is not None:
        query = query.where(AuditRecord.at >= since)
    writer = csv.DictWriter(out, FIELDS, lineterminator="\n") if format == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    async with sessions() as session:
        async for record, room_name in await session.stream(query):
            row = {"id": record.id, "at": record.at.astimezone(UTC).isoformat(), "action": record.action,
                   "actor": record.actor, "room_name": room_name, "meeting_id": record.meeting_id,
                   "space_id": record.space_id, "detail": record.detail, "operation": record.operation}
            if writer:
                writer.writerow(row)
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
