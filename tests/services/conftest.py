"""The reminder rig (services, a recording notifier, the manual clock) on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.services.test_reminders import Rig, open_rig


@pytest.fixture
async def rig(cms, database_url, clock) -> AsyncIterator[Rig]:
    opened = await open_rig(cms, database_url, clock)
    yield opened
    await opened.services.close()
