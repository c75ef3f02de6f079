"""Shared fixtures: databases on both back ends, clocks, settings."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.cli import main
from bot.clock import ManualClock
from bot.config import Settings
from bot.runtime import Services, open_services
from bot.simulators.cms import CmsSimulator
from bot.store.engine import create_engine
from bot.store.migrations import upgrade
from tests.harness import Chat

POSTGRES_URL = os.environ.get(
    "DISTANSMOTE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL to a database of its own, dropped afterwards.

    Outside CI a missing server skips the test with a visible reason; in CI it fails.
    """
    name = f"distansmote_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'distansmote.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    # A Wednesday morning in Stockholm, far from any clock change.
    return ManualClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))


@dataclass
class RunningCms:
    simulator: CmsSimulator
    url: str


@pytest.fixture
async def cms(aiohttp_server) -> RunningCms:
    """The CMS simulator over real HTTP on 127.0.0.1."""
    simulator = CmsSimulator(username="api", password="simulator")
    server = await aiohttp_server(simulator.app)
    return RunningCms(simulator, str(server.make_url("/api/v1/")))


def make_settings(cms: RunningCms, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        database_url=database_url, cms_url=cms.url, cms_username="api",
        cms_password="simulator", video_domain="video.region.example", dial_in_number="0480 44 55 11",
        web_join_url="https://join.region.example/meeting", admins=("admin-1",),
        # The simulator holds no CMS users unless a test adds them, and each creator would be told
        # once that their rooms have no owner: rooms with owners are tested in tests/services/test_room_owner.py.
        cms_room_owner="none",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def cli_cms() -> CmsSimulator:
    return CmsSimulator(username="api", password="simulator")


@pytest.fixture
def cli_cms_url(cli_cms: CmsSimulator) -> Iterator[str]:
    """The simulator on a loop of its own in a thread: the CLI runs asyncio.run in this one."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(cli_cms.app, handler_cancellation=True)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1/"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env and no settings from the machine running the tests."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DISTANSMOTE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def cli_database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A database of the test's own for the CLI, named in the environment (and no .env read)."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("DISTANSMOTE_DATABASE_URL", url)
    return url


async def cli(*arguments: str) -> int:
    """The command in a thread of its own: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(main, list(arguments))


async def run_pass(services: Services, name: str) -> object:
    """Run one of the passes the timer is handed (``Services.passes``) now, as the timer would."""
    [work] = [p for p in services.passes if p.name == name]
    return await work.run()


@pytest.fixture
def memory_chat() -> Chat:
    return Chat()


async def open_with_chat(settings: Settings, clock: ManualClock) -> tuple[Services, Chat]:
    """Services whose platform is the in-memory chat, installed into an app."""
    chat = Chat()
    services = await open_services(settings, clock=clock, adapters=[chat])
    create_app(services)
    return services, chat


@pytest.fixture
async def services(cms: RunningCms, tmp_path: Path, clock: ManualClock, memory_chat: Chat) -> AsyncIterator[Services]:
    """Services on SQLite and the CMS simulator, with a manual clock and the in-memory chat."""
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    opened = await open_services(settings, clock=clock, adapters=[memory_chat])
    yield opened
    await opened.close()


@pytest.fixture
def chat(services: Services, memory_chat: Chat) -> Chat:
    """The in-memory chat platform, installed into the app on the real router and handlers."""
    create_app(services)
    return memory_chat
