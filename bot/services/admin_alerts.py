"""Alerts to the admins (``DISTANSMOTE_ADMINS``): a reminder that failed, a room that would not go."""

from __future__ import annotations

import logging

from bot import notices
from bot.config import Settings
from bot.services.reminder_rows import Sends

log = logging.getLogger(__name__)


class AdminAlerts:
    def __init__(self, sends: Sends, settings: Settings, render: notices.Render) -> None:
        self._sends = sends
        self._settings = settings
        self._render = render

    async def send(self, notice: notices.Notice, *platforms: str) -> None:
        """Tell each admin through the first of ``platforms`` (default: all) that reaches them.

        Best effort: an alert is not stored, so a failure is logged (by code) and dropped.
        """
        reply = self._render(notice)
        platforms = platforms or self._sends.platforms
        if not self._settings.admins:
            log.warning("no admins configured (DISTANSMOTE_ADMINS); an admin alert was dropped")
        for admin in self._settings.admins:
            problems = []
            for platform in platforms:
                problem = await self._sends.to_identity(platform, admin, reply)
                if problem is None:
                    break
                problems.append(problem.code)
            else:
                log.warning("admin alert not delivered (%s)", ",".join(problems))
