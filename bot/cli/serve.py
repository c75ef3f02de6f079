"""``distansmote serve``: the bot for real, with the chat platforms that are configured (the registry's)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.cli.arguments import command, port_number
from bot.config import ConfigError, Settings
from bot.platforms import registry
from bot.platforms.registry import load_settings

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.001  # seconds; see _serve


def add_commands(commands: argparse._SubParsersAction) -> None:
    serve = command(commands, "serve", "run the bot for the configured platforms until SIGINT/SIGTERM",
                    details="Webex, Teams or both. Applies database migrations first. Endpoints: "
                    "POST /webex/events, POST /api/messages, GET /healthz, GET /readyz, GET /metrics, and the "
                    "Swedish pages GET /privacy and GET /terms.")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=port_number, default=8080, help="port (default 8080)")
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    import gc
    import importlib

    for module in ("aiohttp.web", "bot.app", "bot.runtime"):  # what serve() runs, loaded before the freeze
        importlib.import_module(module)
    # The modules just imported live as long as the process: keep the collector from scanning
    # them again and again under load.
    gc.freeze()
    # The Webex SDK's threads hold the GIL while requests builds and parses; the loop answering
    # webhooks waits up to this interval for it each time (5 ms by default, which put the acks'
    # p99 above 100 ms under load: bench/webhooks.py).
    sys.setswitchinterval(SWITCH_INTERVAL)
    asyncio.run(serve(load_settings(), args.host, args.port))
    return 0


async def serve(settings: Settings, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM. Settings are checked before the database is touched."""
    from aiohttp import web

    from bot.app import create_app
    from bot.runtime import open_services

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
