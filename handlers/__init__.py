"""One router per handler module, wired together here; the context each handler gets."""

from __future__ import annotations

from bot.core import Router
from handlers import meetings, overview, rebooking, reminders
from handlers.context import Context


def build_router() -> Router:
    router = Router()
    router.include(meetings.router)
    router.include(overview.router)
    router.include(rebooking.router)
    router.include(reminders.router)
    return router


__all__ = ["Context", "build_router"]
