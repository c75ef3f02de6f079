"""``distansmote demo``: the whole bot on its own embedded parts, for a browser on this computer.

The demo never reads the environment or ``.env``: it always runs on a fresh SQLite file in its
own data folder and on a CMS simulator, so a configured database, CMS or platform token can
never be touched by someone trying it out. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.app import create_app
from bot.clock import OffsetClock
from bot.config import P, Settings
from bot.demo.adapter import DemoAdapter, DemoSetupError
from bot.demo.calls import install_demo_calls, rooms_with_calls
from bot.demo.clock import MovableClock, install_demo_clock
from bot.demo.users import DEMO_EMAIL_DOMAIN, DEMO_USERS, admin_ids
from bot.runtime import open_services
from bot.scheduler import SCHEDULER
from bot.simulators.cms import CmsSimulator

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DATA_DIR = Path("demo-data")
DATABASE_FILE = "demo.db"
VIDEO_DOMAIN = "video.demo.example"
# A number set aside for fiction, so nobody rings a real one from a demo invitation.
DIAL_IN_NUMBER = "08-465 004 00"
WEB_JOIN_URL = "https://webbmote.demo.example/"
# A small list, as a region sets DISTANSMOTE_UNITS: the new-meeting card offers these and no other.
UNITS = ("HC Torsås", "HC Emmaboda", "HC Ljungby", "Avd 12", "Kvinnokliniken Växjö")

Address = tuple[str, int]


class DemoSettings(Settings):
    """Settings built only from what the demo passes in: no environment, no ``.env``."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    def read_platform(self, model: type[P], values: dict[str, Any]) -> P:
        return cast(P, model.model_construct(**values))  # the defaults: no platform of the environment is on


def demo_settings(data_dir: Path, cms_url: str, cms_username: str, cms_password: str) -> Settings:
    return DemoSettings(
        database_url=f"sqlite+aiosqlite:///{(data_dir / DATABASE_FILE).resolve()}",
        cms_url=cms_url, cms_username=cms_username, cms_password=cms_password,
        video_domain=VIDEO_DOMAIN, dial_in_number=DIAL_IN_NUMBER, web_join_url=WEB_JOIN_URL,
        allowed_email_domains=(DEMO_EMAIL_DOMAIN,), admins=admin_ids(DEMO_USERS), units=UNITS,
    )


@dataclass(frozen=True)
class DemoParts:
    """The demo's bot app (not yet listening) and the CMS simulator it talks to."""

    app: web.Application
    simulator: CmsSimulator
    cms_address: Address


@dataclass
class DemoHandle:
    """A running demo: its page's address, its parts (for tests), and how to stop it."""

    url: str
    app: web.Application
    simulator: CmsSimulator
    addresses: tuple[Address, ...]
    _stack: AsyncExitStack = field(repr=False)

    async def close(self) -> None:
        await self._stack.aclose()


@asynccontextmanager
async def _listening(app: web.Application, port: int) -> AsyncIterator[Address]:
    # No access log: the demo's URLs carry nothing worth keeping, and the console stays readable.
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, HOST, port).start()
        except OSError as exc:
            raise DemoSetupError(
                f"cannot listen on {HOST}:{port} ({exc.strerror}); try another --port"
            ) from None
        host, bound_port = runner.addresses[0][:2]
        yield (host, bound_port)
    finally:
        await runner.cleanup()


def _fresh_database(data_dir: Path) -> None:
    """The simulator starts empty each time, so the store must too, or it would claim lost rooms."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        (data_dir / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)


@asynccontextmanager
async def demo_parts(data_dir: Path = DEFAULT_DATA_DIR, *,
                     clock: MovableClock | None = None) -> AsyncIterator[DemoParts]:
    """A CMS simulator on 127.0.0.1, services on a fresh SQLite file, and the app with the demo page."""
    _fresh_database(data_dir)
    username, password = "demo", secrets.token_urlsafe(16)
    simulator = CmsSimulator(username=username, password=password, domain=VIDEO_DOMAIN)
    for user in DEMO_USERS:  # the demo's staff have Cisco Meeting users: their rooms are theirs there
        simulator.add_user(user.email, user.email, user.name)
    async with _listening(simulator.app, 0) as cms_address:
        settings = demo_settings(data_dir, f"http://{HOST}:{cms_address[1]}/api/v1/", username, password)
        # Real time that the page's clock control can move ahead (tests pass a manual clock).
        demo_clock = clock or OffsetClock()
        services = await open_services(settings, clock=demo_clock,
                                       adapters=[DemoAdapter(rooms=lambda: rooms_with_calls(simulator))])
        app: web.Application | None = None
        try:
            app = create_app(services, reminders=True)
            install_demo_clock(app, services, demo_clock)
            install_demo_calls(app, simulator)
            yield DemoParts(app, simulator, cms_address)
        finally:
            if app is not None and SCHEDULER in app:  # the timer must not outlive the database it polls
                await app[SCHEDULER].stop()
            await services.close()


async def start_demo(port: int = DEFAULT_PORT, data_dir: Path = DEFAULT_DATA_DIR, *,
                     clock: MovableClock | None = None) -> DemoHandle:
    """Start every part and serve the page on 127.0.0.1; ``port=0`` picks a free port."""
    stack = AsyncExitStack()
    try:
        parts = await stack.enter_async_context(demo_parts(data_dir, clock=clock))
        address = await stack.enter_async_context(_listening(parts.app, port))
    except BaseException:
        await stack.aclose()
        raise
    url = f"http://{HOST}:{address[1]}/"
    return DemoHandle(url, parts.app, parts.simulator, (parts.cms_address, address), stack)


async def run_demo(port: int = DEFAULT_PORT, data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """Run the demo until SIGINT (Ctrl-C) or SIGTERM, then stop every part."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        handle = await start_demo(port, data_dir)
        try:
            print(f"Distansmöte demo is running: open {handle.url} in a browser. "
                  f"Data folder: {data_dir.resolve()}. Press Ctrl-C to stop.", flush=True)  # noqa: ASYNC240
            await stop.wait()
            log.info("stopping the demo")
        finally:
            await handle.close()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
