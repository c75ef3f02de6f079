"""A whole bot process for the process tests: the real app with the Webex adapter and the timer.

    python tests/processes/bot_process.py DATABASE_URL CMS_URL WEBEX_URL NOW

Serves on a free 127.0.0.1 port and prints "ready <port>"; runs until SIGTERM (or is killed).
The services' clock is a ManualClock standing at NOW (ISO 8601), so that a restart can be made
to come after the leases of the process before it have run out, without waiting for them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import datetime

from aiohttp import web

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.platforms.webex.route import WebexAdapter
from bot.runtime import open_services

# The process tests make their fake Webex API with these (imported from here, so that they match).
TOKEN = "bot-token-for-tests"
SECRET = "webhook-secret-for-tests"
DOMAIN = "region.example"


async def main(database_url: str, cms_url: str, webex_url: str, now: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, cms_url=cms_url, cms_username="api", cms_password="simulator",
        cms_timeout_seconds=5.0, video_domain="video.region.example", webex_token=TOKEN,
        webex_webhook_secret=SECRET, webex_api_url=webex_url, allowed_email_domains=(DOMAIN,), admins=("admin-1",),
        cms_room_owner="none",  # as tests.conftest.make_settings
    )
    services = await open_services(settings, clock=ManualClock(datetime.fromisoformat(now)),
                                   adapters=[WebexAdapter(settings, workers=4)])
    runner = web.AppRunner(create_app(services, reminders=True))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"ready {runner.addresses[0][1]}", flush=True)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()
        await services.close()


if __name__ == "__main__":
    signal.alarm(300)  # never outlive a test run that lost track of this process
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(main(*sys.argv[1:5]))
