"""The reconciler: the bot's own rooms on the CMS that nothing claims are deleted after an hour (docs/reminders.md).

Such a room is left over by a create carried out after the bot gave it up, a process that died between the CMS and
the store, or a deletion whose room stayed. A room younger than ``GRACE`` may still be on its way to being recorded,
and one whose creation is still open is left to ``MeetingService.finish_interrupted``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.services.cms import CmsClient, CmsError, SpaceNotFound
from bot.services.meetings import CREATING, MeetingService, cdr_tag
from bot.services.reminder_plan import SYSTEM
from bot.services.sweep import Orphan, remove_orphan, sweep
from bot.store.schema import CISCO_MEETING_RULE, LIVE_STATES, Meeting, RoomCreation

log = logging.getLogger(__name__)

GRACE = timedelta(hours=1)


async def reconcile(cms: CmsClient, sessions: async_sessionmaker, clock: Clock, *,
                    older_than: timedelta = GRACE) -> list[Orphan]:
    """Delete the unclaimed rooms older than ``older_than``; returns every unclaimed room found
    (``deleted`` tells which went). A room that cannot be deleted now is kept for the next run."""
    found = []
    for orphan in await sweep(cms, sessions, delete=False, clock=clock):
        born, open_creation = await _born(sessions, orphan.meeting_id)
        if not open_creation and (born is None or clock.now() - born >= older_than):
            try:
                orphan = await remove_orphan(cms, sessions, clock, orphan)
            except CmsError as exc:
                log.error("reconciler: room %s (cdrTag %s) could not be deleted: %s", orphan.space_id,
                          cdr_tag(orphan.meeting_id), type(exc).__name__)
            else:
                log.warning("reconciler: deleted room %s that no meeting claims (cdrTag %s)",
                            orphan.space_id, cdr_tag(orphan.meeting_id))
        found.append(orphan)
    return found


async def rooms_gone(cms: CmsClient, sessions: async_sessionmaker, meetings: MeetingService) -> list[Meeting]:
    """Live meetings whose room is no longer on the CMS (its owner deleted it in Cisco Meeting):
    recorded deleted by ``CISCO_MEETING_RULE``, which stops their reminders."""
    on_cms = {space.id for space in await cms.list_spaces()}
    async with sessions() as session:
        live = list(await session.scalars(select(Meeting).where(Meeting.state.in_(LIVE_STATES),
                                                                Meeting.space_id.not_in(on_cms))))
    gone = []
    for meeting in live:
        try:
            await cms.get_space(meeting.space_id)
            continue  # made since the listing
        except SpaceNotFound:
            pass
        gone.append(await meetings.delete(meeting.id, SYSTEM, rule=CISCO_MEETING_RULE))
        log.info("meeting %s: its room was deleted in Cisco Meeting", meeting.id)
    return gone


async def _born(sessions: async_sessionmaker, meeting_id: str) -> tuple[datetime | None, bool]:
    """When the room's creation was recorded (None: unknown, so older than any creation in
    progress), and whether that creation is still open."""
    async with sessions() as session:
        creation = await session.get(RoomCreation, meeting_id)
        if creation is not None:
            return creation.created_at, creation.state == CREATING
        return await session.scalar(select(Meeting.created_at).where(Meeting.id == meeting_id)), False
