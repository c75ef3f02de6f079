"""The aiohttp application: health endpoints plus the routes of each platform adapter."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import func, select, text

from bot.core import Reply
from bot.db import Meeting, MeetingState, Reminder
from bot.dispatcher import Bot
from bot.platforms import PlatformAdapter
from bot.runtime import Services
from bot.scheduler import install_scheduler
from handlers import build_router

SERVICES = web.AppKey("services", Services)
BOT = web.AppKey("bot", Bot)
# Platform -> adapter, for messages the bot starts itself (reminders).
ADAPTERS = web.AppKey("adapters", dict)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return web.json_response({"status": "database unavailable"}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: what an operator alerts on (rooms left behind, stuck reminders)."""
    services = request.app[SERVICES]
    async with services.sessions() as session:
        meetings = {state: count for state, count in await session.execute(
            select(Meeting.state, func.count()).group_by(Meeting.state))}
        reminders = {state: count for state, count in await session.execute(
            select(Reminder.state, func.count()).group_by(Reminder.state))}
    lines = ["# HELP distansmote_meetings Meetings by state.", "# TYPE distansmote_meetings gauge"]
    lines += [f'distansmote_meetings{{state="{state}"}} {meetings.get(state, 0)}' for state in MeetingState]
    lines += ["# HELP distansmote_reminders Reminders by state.", "# TYPE distansmote_reminders gauge"]
    lines += [f'distansmote_reminders{{state="{state}"}} {count}' for state, count in sorted(reminders.items())]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")


def create_app(services: Services, adapters: Sequence[PlatformAdapter] = (), *,
               reminders: bool = False) -> web.Application:
    """Build the app. Nothing is started here; the caller owns ``services``' lifetime.

    ``reminders`` starts the reminder timer with the app (serve, demo); tests drive it themselves.
    """
    app = web.Application()
    app[SERVICES] = services
    app[BOT] = Bot(build_router(), services)
    app[ADAPTERS] = {adapter.platform: adapter for adapter in adapters}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    for adapter in adapters:
        adapter.install(app)
    if reminders:
        install_scheduler(app, services, app[ADAPTERS])
    return app


__all__ = ["ADAPTERS", "BOT", "SERVICES", "Reply", "create_app"]
