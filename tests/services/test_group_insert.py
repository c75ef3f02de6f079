"""Group inserts (the inbound jobs and event ids written together), on SQLite and PostgreSQL: one
bad row fails alone, and a kept connection the server dropped is replaced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.services.inbound_jobs import InboundJobs
from bot.store.engine import create_engine
from bot.store.migrations import upgrade
from bot.store.queues import InboundJob
from tests.database_faults import PostgresFaults


@pytest.fixture
async def jobs(engine: AsyncEngine, clock: ManualClock) -> AsyncIterator[InboundJobs]:
    store = InboundJobs(engine, clock, "webex")
    yield store
    await store.close()


async def _keys(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.scalars(select(InboundJob.key))).all())


@pytest.mark.parametrize("bad_key", ["lone-surrogate-\ud800", "nul-\x00"], ids=["lone-surrogate", "nul"])
async def test_one_bad_row_fails_alone_not_the_rows_written_with_it(
        jobs: InboundJobs, engine: AsyncEngine, bad_key: str) -> None:
    # Written at the same moment: one statement for all of them, until one row is refused.
    added = await asyncio.gather(jobs.add("first", {}), jobs.add(bad_key, {}), jobs.add("second", {}),
                                 jobs.add("first", {}), return_exceptions=True)
    stored = await _keys(engine)
    if bad_key in stored:  # SQLite takes a NUL in text; PostgreSQL does not
        assert added == [True, True, True, False]
    else:
        assert added[0] is True and added[2] is True and added[3] is False
        assert isinstance(added[1], Exception)
    assert {"first", "second"} <= stored


async def test_a_kept_connection_the_server_dropped_is_replaced(postgres_url: str, clock: ManualClock) -> None:
    engine = create_engine(postgres_url)
    await upgrade(engine)
    jobs = InboundJobs(engine, clock, "webex")
    try:
        assert await jobs.add("before", {})
        await PostgresFaults(postgres_url).kill_connections()  # an idle timeout, a restart
        assert await jobs.add("after", {})
        assert not await jobs.add("before", {})
        assert await _keys(engine) == {"before", "after"}
    finally:
        await jobs.close()
        await engine.dispose()
