"""The command-line tests' Webex API: a fake served in a thread of its own, as the commands run ``asyncio.run``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web

from tests.fakes.webex import WebexFake

TOKEN = "bot-token-for-tests"
SECRET = "webhook-secret-for-tests"
TARGET = "https://bot.region.example/webex/events"


@contextmanager
def served_in_thread(app: web.Application) -> Iterator[str]:
    """``app`` on 127.0.0.1 in a loop of its own: the CLI runs ``asyncio.run`` in this thread."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, handler_cancellation=True)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


@pytest.fixture
def webex_api() -> Iterator[tuple[WebexFake, str]]:
    """The fake and its API's base URL."""
    fake = WebexFake(token=TOKEN, webhook_secret=SECRET)
    with served_in_thread(fake.app) as url:
        yield fake, f"{url}/v1/"
