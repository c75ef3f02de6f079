"""The aiohttp application: health endpoints plus the routes of each platform adapter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import text

from bot.core import Reply
from bot.dispatcher import Bot
from bot.metrics import CONTENT_TYPE, exposition, store_families
from bot.platforms import PlatformAdapter
from bot.runtime import Services
from bot.scheduler import install_scheduler
from handlers import build_router

SERVICES = web.AppKey("services", Services)
BOT = web.AppKey("bot", Bot)
# Platform -> adapter, for messages the bot starts itself (reminders).
ADAPTERS = web.AppKey("adapters", dict)

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


# A probe must not hang on a database that does not answer.
PROBE_TIMEOUT = 5.0


async def readyz(request: web.Request) -> web.Response:
    """This instance can take traffic: the database answers and every platform has read its identity."""
    services = request.app[SERVICES]
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return web.json_response({"status": "database unavailable"}, status=503)
    waiting = sorted(str(platform) for platform, adapter in request.app[ADAPTERS].items() if not adapter.ready)
    if waiting:
        return web.json_response({"status": f"platform identity not read: {', '.join(waiting)}"}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; 503 while the database does not answer (its figures would be missing)."""
    services = request.app[SERVICES]
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), services.sessions() as session:
            store = await store_families(session, services.settings, services.clock.now(),
                                         [str(p) for p in request.app[ADAPTERS]])
    except Exception:  # noqa: BLE001 - whatever the driver raises, the store's figures are unknown
        log.warning("metrics: the database did not answer")
        return web.Response(status=503, text="database unavailable\n")
    return web.Response(body=exposition(store), headers={"Content-Type": CONTENT_TYPE})


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
