"""The sweep: rooms on the CMS with this product's mark that no live meeting claims (orphans)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.services.cms import CmsClient, SpaceNotFound
from bot.services.meetings import meeting_id_from_cdr_tag
from bot.services.report import record_sweep
from bot.store.schema import LIVE_STATES, AuditRecord, Meeting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Orphan:
    """A room on the CMS with this product's mark that no live meeting claims."""

    space_id: str
    name: str
    meeting_id: str
    deleted: bool = False


async def sweep(cms: CmsClient, sessions: async_sessionmaker, *, delete: bool,
                clock: Clock | None = None) -> list[Orphan]:
    """Find (and with ``delete`` remove, audited as actor "sweep") the orphaned rooms.

    Each run is recorded (``record_sweep``), so the county's report can show what the last one found.
    """
    clock = clock or SystemClock()
    orphans = []
    for summary in await cms.list_spaces():
        try:
            space = await cms.get_space(summary.id)
        except SpaceNotFound:
            continue  # deleted since the listing
        meeting_id = meeting_id_from_cdr_tag(space.cdr_tag)
        if meeting_id is None or await _claimed(sessions, meeting_id, space.id):
            continue
        orphan = Orphan(space.id, space.name, meeting_id[:36])
        if delete:
            orphan = await remove_orphan(cms, sessions, clock, orphan)
        orphans.append(orphan)
    await record_sweep(sessions, clock.now(), [(o.meeting_id, o.space_id) for o in orphans])
    log.info("sweep: %d orphaned room(s)%s", len(orphans), " removed" if delete else "")
    return orphans


async def _claimed(sessions: async_sessionmaker, meeting_id: str, space_id: str) -> bool:
    async with sessions() as session:
        return bool(await session.scalar(
            select(func.count()).select_from(Meeting).where(
                Meeting.id == meeting_id, Meeting.space_id == space_id, Meeting.state.in_(LIVE_STATES))
        ))


async def remove_orphan(cms: CmsClient, sessions: async_sessionmaker, clock: Clock, orphan: Orphan) -> Orphan:
    """Delete an orphaned room, audited as actor "sweep", unless a meeting claimed it meanwhile."""
    # Look again right before deleting: a meeting may have been recorded since the listing.
    if await _claimed(sessions, orphan.meeting_id, orphan.space_id):
        return orphan
    await cms.delete_space(orphan.space_id)
    async with sessions() as session, session.begin():
        session.add(AuditRecord(at=clock.now(), actor="sweep", action="deleted", meeting_id=orphan.meeting_id,
                                space_id=orphan.space_id, detail="orphan"))
    log.info("room %s deleted (orphan)", orphan.name)
    return Orphan(orphan.space_id, orphan.name, orphan.meeting_id, deleted=True)
