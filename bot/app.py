"""The aiohttp application: health endpoints plus the routes of each platform adapter."""

from __future__ import annotations

import asyncio
import functools
import logging

from aiohttp import web
from sqlalchemy import text

from bot.core import Platform
from bot.core.adapter import AdapterHost, InboundQueue, Process
from bot.dispatcher import EventDispatcher
from bot.metrics import CONTENT_TYPE, circuit_family, exposition, store_families
from bot.runtime import Services, context_for, scheduler_for
from bot.scheduler import install_scheduler
from bot.services.privacy import PersonalNumberGuard
from bot.services.stored_queue import StoredQueue
from bot.store.transient import is_transient
from cards.pages import privacy_page, terms_page
from handlers import build_router

SERVICES = web.AppKey("services", Services)
BOT = web.AppKey("bot", EventDispatcher)

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
    waiting = sorted(str(adapter.platform) for adapter in services.adapters if not adapter.ready)
    if waiting:
        return web.json_response({"status": f"platform identity not read: {', '.join(waiting)}"}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; 503 while the database does not answer (its figures would be missing)."""
    services = request.app[SERVICES]
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), services.sessions() as session:
            store = await store_families(session, services.settings, services.clock.now(),
                                         [str(adapter.platform) for adapter in services.adapters])
    except Exception:  # noqa: BLE001 - whatever the driver raises, the store's figures are unknown
        log.warning("metrics: the database did not answer")
        return web.Response(status=503, text="database unavailable\n")
    return web.Response(body=exposition([*store, circuit_family(services.cms.guard.circuit)]),
                        headers={"Content-Type": CONTENT_TYPE})


async def privacy(request: web.Request) -> web.Response:
    """What is stored and why, in Swedish: the Teams app's privacy statement (docs/privacy.md in English)."""
    settings = request.app[SERVICES].settings
    return web.Response(text=privacy_page(retention_days=settings.retention_days,
                                          auto_delete_hours=settings.auto_delete_after_hours),
                        content_type="text/html", charset="utf-8")


async def terms(request: web.Request) -> web.Response:
    return web.Response(text=terms_page(), content_type="text/html", charset="utf-8")


def create_app(services: Services, *, reminders: bool = False) -> web.Application:
    """Build the app with the services' adapters installed. Nothing is started here; the caller
    owns ``services``' lifetime.

    ``reminders`` starts the reminder timer with the app (serve, demo); tests drive it themselves.
    """
    app = web.Application()
    app[SERVICES] = services
    settings = services.settings
    guard = PersonalNumberGuard(lambda: services.clock.now().astimezone(settings.zone).date(),
                                own_numbers=[settings.dial_in_number])
    app[BOT] = EventDispatcher(build_router(), context=context_for(services), handled=services.events,
                   references=services.references, guard=guard, transient=is_transient)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/privacy", privacy)
    app.router.add_get("/terms", terms)

    def inbound(platform: Platform, process: Process, workers: int) -> InboundQueue:
        return StoredQueue(services.engine, services.clock, platform, process, workers=workers,
                           guard=guard, notes=services.events)

    host = AdapterHost(dispatcher=app[BOT], clock=services.clock, references=services.references, inbound=inbound,
                       guard=guard)
    for adapter in services.adapters:
        adapter.install(app, host)
    if reminders:
        install_scheduler(app, functools.partial(scheduler_for, services))
    return app
