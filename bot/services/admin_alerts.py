"""Alerts to the admins (``DISTANSMOTE_ADMINS``): a reminder that failed, a room that would not go."""

from __future__ import annotations

import logging

from bot import notices
from bot.config import Settings
from bot.services.notice_outbox import NoticeOutbox

log = logging.getLogger(__name__)


class AdminAlerts:
    def __init__(self, outbox: NoticeOutbox, settings: Settings, platforms: tuple[str, ...]) -> None:
        self._outbox = outbox
        self._settings = settings
        self._platforms = platforms

    async def send(self, notice: notices.Notice, *platforms: str) -> None:
        """Tell each admin through the first of ``platforms`` (default: all) that reaches them:
        stored first and tried again until delivered (``bot.services.notice_outbox``)."""
        if not self._settings.admins:
            log.warning("no admins configured (DISTANSMOTE_ADMINS); an admin alert was dropped")
            return
        await self._outbox.alert(self._settings.admins, platforms or self._platforms, notice)
