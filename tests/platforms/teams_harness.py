"""The Teams adapter's tests' harness: the app behind the fake connector, and activities into it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.platforms.teams.adapter import TeamsAdapter
from bot.runtime import Services, open_services
from tests.conftest import RunningCms, make_settings
from tests.fakes.teams import FakeConnector, Posted, TeamsConversation, TeamsUser
from tests.harness import submission
from tests.sleeps import Sleeps

TENANT = "11111111-2222-3333-4444-555555555555"


@dataclass
class Teams:
    fake: FakeConnector
    adapter: TeamsAdapter
    client: TestClient
    services: Services
    sleeps: Sleeps

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        response = await self.client.post("/api/messages", json=activity, headers=headers)
        return response.status

    async def deliver(self, activity: dict[str, Any]) -> None:
        """POST an activity as Teams does (anonymous, local testing) and wait until it is handled."""
        assert await self.post(activity) == 200
        await self.adapter.drain()

    async def say(self, user: TeamsUser, where: TeamsConversation, text: str, *, mention: bool = False) -> None:
        await self.deliver(self.fake.message(user, where, text, mention=mention))

    async def click(self, user: TeamsUser, card: Posted, title: str, **inputs: str) -> None:
        assert card.card is not None
        await self.deliver(self.fake.submit(user, card, submission(card.card, title, **inputs)))


def anonymous_settings(cms: RunningCms, tmp_path: Path) -> Settings:
    """Teams as in local testing (no token checked), for one allowed tenant."""
    return make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", teams_allow_anonymous=True,
                         allowed_teams_tenant_ids=(TENANT,))


async def start_teams(settings: Settings, clock: ManualClock, fake: FakeConnector, aiohttp_client: Any) -> Teams:
    sleeps = Sleeps()
    adapter = TeamsAdapter(settings, sleep=sleeps, workers=4)
    services = await open_services(settings, clock=clock, adapters=[adapter])
    client = await aiohttp_client(create_app(services))
    return Teams(fake, adapter, client, services, sleeps)


@contextlib.asynccontextmanager
async def running_teams(settings: Settings, clock: ManualClock, fake: FakeConnector,
                        aiohttp_client: Any) -> AsyncIterator[Teams]:
    started = await start_teams(settings, clock, fake, aiohttp_client)
    try:
        yield started
    finally:
        await started.client.close()
        await started.services.close()
