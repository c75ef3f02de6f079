"""The Webex adapter's fixtures, shared by its test modules; a module may override any of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.platforms.webex.route import WebexAdapter
from bot.runtime import Services, open_services
from tests.conftest import RunningCms, make_settings
from tests.fakes.webex import WebexFake
from tests.platforms.webex_harness import REGION_DOMAIN, SECRET, TOKEN, Harness
from tests.sleeps import Sleeps


@pytest.fixture
async def fake_webex(aiohttp_server: Any) -> tuple[WebexFake, str]:
    fake = WebexFake(token=TOKEN, webhook_secret=SECRET)
    server = await aiohttp_server(fake.app)
    return fake, str(server.make_url("/v1/"))


@pytest.fixture
def settings(fake_webex: tuple[WebexFake, str], cms: RunningCms, tmp_path: Path) -> Settings:
    fake, url = fake_webex
    return make_settings(
        cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", webex_token=TOKEN, webex_webhook_secret=SECRET,
        webex_api_url=url, allowed_webex_org_ids=(fake.org_id,), allowed_email_domains=(REGION_DOMAIN,),
    )


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def adapter(settings: Settings, sleeps: Sleeps) -> WebexAdapter:
    return WebexAdapter(settings, sleep=sleeps, workers=4)


@pytest.fixture
async def services(settings: Settings, clock: ManualClock, adapter: WebexAdapter) -> AsyncIterator[Services]:
    opened = await open_services(settings, clock=clock, adapters=[adapter])
    yield opened
    await opened.close()


@pytest.fixture
async def webex(fake_webex: tuple[WebexFake, str], adapter: WebexAdapter, services: Services, sleeps: Sleeps,
                aiohttp_client: Any) -> Harness:
    client = await aiohttp_client(create_app(services))
    return Harness(fake_webex[0], adapter, client, services, sleeps)


@pytest.fixture
def nina(webex: Harness) -> dict[str, Any]:
    return webex.fake.add_person("Nina Sjuksköterska", f"nina@{REGION_DOMAIN}")
