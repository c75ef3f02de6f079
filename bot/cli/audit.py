"""``distansmote audit export``: the audit trail for a SIEM or an archive, oldest first.

Each record is who (the platform's id of the person, or ``system``, ``sweep``), what (a code), when,
and which room; never text from chat. Read in batches, written as it is read.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db import AuditRecord, Meeting

FIELDS = ("id", "at", "action", "actor", "room_name", "meeting_id", "space_id", "detail", "operation")
BATCH = 500


async def export_audit(sessions: async_sessionmaker, out: TextIO, *, since: datetime | None = None,
                       format: str = "jsonl") -> int:
    """Write the records at or after ``since`` to ``out`` as JSON lines or CSV; the number written."""
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
