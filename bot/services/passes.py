"""The passes the timer runs beside the reminders (``bot/scheduler.py``), wired in ``bot/runtime.py``.

- creations, every 15 s and at start: finishes room creations whose process died, looks up the rooms
  of creates the CMS did not answer (``MeetingService.finish_interrupted``), and tells each creator.
- deletions, likewise: finishes room deletions whose process died after recording them as intended
  (``MeetingService.finish_interrupted_deletions``) and tells the person who asked.
- notices, likewise: tries again the admin alerts and notices not delivered yet (``NoticeOutbox``).
- sweep, daily and once per cluster: deletes the bot's rooms that nothing has claimed for an hour
  (``bot.services.reconciler``) and reports them, and younger ones, to the admins.
- purge, daily and once per cluster: forgets the people of meetings deleted more than
  ``DISTANSMOTE_RETENTION_DAYS`` ago (``bot.services.retention``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import time
from typing import TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import notices
from bot.clock import Clock
from bot.config import Settings
from bot.core import PersonKey
from bot.services.admin_alerts import AdminAlerts
from bot.services.cms import CmsClient
from bot.services.handled_events import InboundEvents
from bot.services.meetings import DeletionFinished, Finished, MeetingService
from bot.services.notice_outbox import NoticeOutbox
from bot.services.once import DailyOnce
from bot.services.reconciler import reconcile, rooms_gone
from bot.services.reminder_plan import room
from bot.services.retention import purge

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SWEEP_AT = time(6, 0)  # local; before the working day, far from the 02:00–03:00 clock changes
PURGE_AT = time(5, 30)  # local; likewise


async def finish_creations(meetings: MeetingService, announce: Callable[[Finished], Awaitable[None]]) -> int:
    """Finish pending and interrupted room creations and tell their creators; returns how many."""
    return await _finish("creations", meetings.finish_interrupted, announce)


async def finish_deletions(meetings: MeetingService, outbox: NoticeOutbox) -> int:
    """Finish interrupted room deletions and tell whoever asked; returns how many."""

    async def tell(deletion: DeletionFinished) -> None:
        if deletion.person_key is not None:
            await outbox.tell(PersonKey.parse(deletion.person_key), notices.DeletionFinished(deletion.room_name))

    return await _finish("deletions", meetings.finish_interrupted_deletions, tell)


async def _finish(what: str, work: Callable[[], Awaitable[Sequence[_T]]],
                  tell: Callable[[_T], Awaitable[None]]) -> int:
    try:
        finished = await work()
    except Exception:
        log.exception("interrupted room %s could not be finished; the next poll tries again", what)
        return 0
    for item in finished:
        await tell(item)
    return len(finished)


async def daily_sweep(*, daily: DailyOnce, events: InboundEvents, cms: CmsClient, sessions: async_sessionmaker,
                      clock: Clock, alerts: AdminAlerts, meetings: MeetingService, outbox: NoticeOutbox,
                      settings: Settings) -> None:
    """The reconciler and its report to the admins, and the rooms deleted in Cisco Meeting (their
    creators told), once per cluster a day (``bot.services.once``)."""
    await events.purge()
    try:
        async with daily.claim("sweep") as mine:
            if not mine:
                log.info("daily sweep: done by another instance")
                return
            orphans = await reconcile(cms, sessions, clock)
            if orphans:
                await alerts.send(notices.Orphans(
                    tuple(o.name for o in orphans if not o.deleted),
                    deleted=tuple(o.name for o in orphans if o.deleted)))
            # After the reconciler, which a failure here must not keep from running.
            for meeting in await rooms_gone(cms, sessions, meetings):
                await outbox.tell(PersonKey.parse(meeting.creator_id),
                                  notices.DeletedInCiscoMeeting(room(meeting, settings)))
    except Exception:
        log.exception("daily sweep failed")


async def daily_purge(*, daily: DailyOnce, sessions: async_sessionmaker, clock: Clock, settings: Settings) -> None:
    """What the retention period has run out for, once per cluster a day."""
    try:
        async with daily.claim("purge") as mine:
            if mine:
                purged = await purge(sessions, clock.now(), settings.retention_days,
                                     lambda key: settings.is_admin(key, PersonKey.parse(key).id))
                log.info("retention purge: %d meeting(s), %d room creation(s), %d room deletion(s), "
                         "%d conversation reference(s), %d preference(s), %d notice(s) older than %d days",
                         purged.meetings, purged.room_creations, purged.room_deletions,
                         purged.conversation_references, purged.preferences, purged.notices, settings.retention_days)
    except Exception:
        log.exception("retention purge failed")
