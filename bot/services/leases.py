"""Leases on intent rows (``room_creation``, ``room_deletion``): whoever holds one carries the work out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import async_sessionmaker

log = logging.getLogger(__name__)


async def take(sessions: async_sessionmaker, row_type: Any, row: ColumnElement[bool], *,
               free: ColumnElement[bool], until: datetime, **values: object) -> bool:
    """Lease the row ``row`` selects until ``until`` if it is ``free`` (nobody holds it), in one
    conditional UPDATE, so that of two instances at most one gets it; ``values`` are set with it."""
    async with sessions() as session, session.begin():
        result = await session.execute(update(row_type).where(row, free).values(lease_until=until, **values))
    return bool(result.rowcount == 1)


async def give_back(sessions: async_sessionmaker, row_type: Any, row: ColumnElement[bool], *,
                    held: ColumnElement[bool], until: datetime | None) -> None:
    """Give a lease back as it was (``until``), while ``held``: the next pass takes the row again."""
    async with sessions() as session, session.begin():
        await session.execute(update(row_type).where(row, held).values(lease_until=until))


@contextlib.asynccontextmanager
async def renewed(sessions: async_sessionmaker, row_type: Any, row: ColumnElement[bool], *,
                  held: ColumnElement[bool], now: Callable[[], datetime], lease: timedelta) -> AsyncIterator[None]:
    """Renew the lease every third of ``lease`` while the block runs, so that no pass takes the row."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                async with sessions() as session, session.begin():
                    await session.execute(update(row_type).where(row, held).values(lease_until=now() + lease))
            except Exception:
                log.exception("the lease on a %s row could not be renewed", row_type.__tablename__)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)
