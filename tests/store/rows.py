"""Reading the store behind the services' backs, for assertions only."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import Services
from bot.store.schema import AuditRecord, Base


async def audit_trail(services: Services, meeting_id: str) -> list[AuditRecord]:
    async with services.sessions() as session:
        rows = await session.scalars(
            select(AuditRecord).where(AuditRecord.meeting_id == meeting_id).order_by(AuditRecord.id))
        return list(rows)


async def everything_stored(services: Services) -> str:
    """Every value in every table, as one text to search for what must never be stored."""
    async with services.sessions() as session:
        rows = [row for table in Base.metadata.sorted_tables for row in await session.execute(select(table))]
    return "\n".join(" ".join(map(str, row)) for row in rows)
