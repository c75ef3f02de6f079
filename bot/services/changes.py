"""A change to a meeting: appended to the audit trail (history), and under its event's key to the ledger.

The ledger (``operation_change``) is what an event run again reads to find a change it made
before; the audit trail is never read to decide anything (docs/reliability.md, "The same event
again").
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.engine import insert_on_conflict
from bot.store.queues import OperationChange
from bot.store.schema import AuditRecord, Meeting

log = logging.getLogger(__name__)


async def made(session: AsyncSession, operation: str | None) -> set[str]:
    """The changes ``operation``, an event's key, made before: it runs again."""
    if operation is None:
        return set()
    return set(await session.scalars(select(OperationChange.change).where(OperationChange.operation == operation)))


async def record(session: AsyncSession, at: datetime, actor: str, action: str, meeting: Meeting | None = None,
                 *, space_id: str | None = None, detail: str | None = None, operation: str | None = None) -> None:
    """Append the change to the audit trail and, made under ``operation``, to the ledger (once)."""
    if action in ("created", "deleted"):  # one line per room for the operators; never who
        room = meeting.room_name if meeting else f"with CMS id {space_id}"
        log.info("room %s %s%s", room, action, f" ({detail})" if detail else "")
    session.add(AuditRecord(
        at=at, actor=actor, action=action, detail=detail, operation=operation,
        meeting_id=meeting.id if meeting else None,
        space_id=meeting.space_id if meeting else space_id,
    ))
    if operation is not None:
        await session.execute(insert_on_conflict(session, OperationChange)
                              .values(operation=operation, change=action, at=at).on_conflict_do_nothing())
