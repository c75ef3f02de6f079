"""``distansmote serve``: the bot for real, with the chat platforms that are configured (the registry's)."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import create_app
from bot.config import ConfigError, Settings
from bot.platforms import registry
from bot.runtime import open_services

log = logging.getLogger(__name__)


async def serve(settings: Settings, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM. Settings are checked before the database is touched."""
    adapters = registry.adapters(settings, host)
    if not settings.video_domain:
        raise ConfigError("DISTANSMOTE_VIDEO_DOMAIN: not set; the invitation's video addresses need the "
                          "domain of the meeting service (for example video.region.se)")
    services = await open_services(settings, adapters=adapters)
    runner = web.AppRunner(create_app(services, reminders=True))
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("serving on %s", ", ".join(f"{a[0]}:{a[1]}" for a in runner.addresses))
        await _until_stopped()
        log.info("stopping")
    finally:
        await runner.cleanup()
        await services.close()


async def _until_stopped() -> None:
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for number in signals:
        loop.add_signal_handler(number, stopped.set)
    try:
        await stopped.wait()
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
