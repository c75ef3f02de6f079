"""One router per handler module, wired together here."""

from __future__ import annotations

from bot.core import Router
from handlers import meetings, overview, reminders


def build_router() -> Router:
    router = Router()
    router.include(meetings.router)
    router.include(overview.router)
    router.include(reminders.router)
    return router
