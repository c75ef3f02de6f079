""""Har alla anslutit?": who is in a meeting's room now, by way, against whom the creator expects.

Counts only: the CMS's call legs carry display names and numbers (maybe a patient's), which are
read to tell the way and never kept, logged or shown (docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from bot import notices
from bot.config import Settings
from bot.services.cms import CmsClient, CmsError
from bot.services.reminder_plan import room
from bot.store.schema import Meeting

log = logging.getLogger(__name__)

# A reading runs inside the reminders' batch (and ``lista``): a CMS that is slow to answer gives
# "kan inte se vilka som är anslutna" in time rather than holding the start reminders beside it.
LOOK_SECONDS = 5.0


def video_address(uri: str, settings: Settings) -> str:
    """The room's address as participants dial it: ``uri@VIDEO_DOMAIN``."""
    return f"{uri}@{settings.video_domain}" if settings.video_domain else uri


class Joins:
    def __init__(self, cms: CmsClient, settings: Settings) -> None:
        self._cms = cms
        self._settings = settings

    async def look(self, meeting: Meeting) -> notices.JoinCheck:
        """The meeting as the CMS sees it now; ``joined`` None when the CMS could not be asked."""
        ways = await self._ways(meeting)
        joined = tuple(sorted(ways.items())) if ways is not None else None
        return notices.JoinCheck(room(meeting, self._settings), joined, expected=len(meeting.recipients) + 1,
                                 video_address=video_address(meeting.uri, self._settings),
                                 call_id=meeting.call_id, dial_in=self._settings.dial_in_number)

    async def count(self, meeting: Meeting) -> int | None:
        """How many are in the meeting now (for ``lista``); None when the CMS could not be asked."""
        ways = await self._ways(meeting)
        return sum(ways.values()) if ways is not None else None

    async def _ways(self, meeting: Meeting) -> Counter[str] | None:
        try:
            async with asyncio.timeout(LOOK_SECONDS):
                return await self._cms.ways_joined(meeting.space_id)
        except (CmsError, TimeoutError) as exc:
            log.warning("who has joined meeting %s could not be read: %s", meeting.id, type(exc).__name__)
            return None
