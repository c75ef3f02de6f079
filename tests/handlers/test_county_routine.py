"""The routine as the county wrote it (issue 13): default values, invitation, confirmations, help."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.dispatcher import Bot
from bot.runtime import Services, open_services
from handlers import build_router
from tests.conftest import RunningCms
from tests.handlers.test_routine import create_room
from tests.harness import Chat


@pytest.fixture
async def default_services(cms: RunningCms, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Services]:
    """Only what an operator must set: database, CMS and video domain; everything else by default."""
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",  # type: ignore[call-arg]
                        cms_url=cms.url, cms_username="api", cms_password="simulator",
                        video_domain="video.region.example")
    opened = await open_services(settings, clock=clock)
    yield opened
    await opened.close()


async def test_with_default_settings_the_invitation_has_the_routines_phone_number(default_services):
    chat = Chat(Bot(build_router(), default_services))
    replies = await create_room(chat)
    invitation = replies[-1].text
    assert "ring 0480 44 55 11" in invitation
