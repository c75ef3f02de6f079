"""Inbound event ids, so that a redelivered or replayed event changes nothing, and one whose
handling did not finish is handled again."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.clock import Clock
from bot.db import InboundEvent
from bot.services.group_insert import GroupInsert

# Platforms redeliver within minutes; a month covers any replay worth refusing.
KEEP_EVENT_IDS = timedelta(days=30)


class InboundEvents:
    def __init__(self, sessions: async_sessionmaker, clock: Clock) -> None:
        engine: AsyncEngine = sessions.kw["bind"]
        self._sessions = sessions
        # Once per event, from several workers at once: one statement for all that arrive together.
        self._keys = GroupInsert(engine, cast(Table, InboundEvent.__table__))
        self._clock = clock

    async def begin(self, key: str) -> tuple[bool, str | None]:
        """Record ``key``: ``(True, None)`` to handle the event, new or a run that died or failed (no
        ``handled_at``); ``(False, replies)`` if it was handled before (also in another instance),
        with its replies as stored by :meth:`finish` and not posted since, if any."""
        if await self._keys.add({"key": key, "received_at": self._clock.now()}):
            return True, None
        async with self._sessions() as session:
            found = (await session.execute(select(InboundEvent.handled_at, InboundEvent.replies)
                                           .where(InboundEvent.key == key))).one_or_none()
        if found is None or found.handled_at is None:
            return True, None
        return False, found.replies

    async def finish(self, key: str, replies: str | None) -> None:
        """The event is handled; its replies (JSON) are kept until :meth:`posted`."""
        async with self._sessions() as session, session.begin():
            await session.execute(update(InboundEvent).where(InboundEvent.key == key)
                                  .values(handled_at=self._clock.now(), replies=replies))

    async def posted(self, key: str) -> None:
        """The replies of ``key`` are on the platform: a run again sends nothing."""
        async with self._sessions() as session, session.begin():
            await session.execute(update(InboundEvent).where(InboundEvent.key == key).values(replies=None))

    async def purge(self, keep: timedelta = KEEP_EVENT_IDS) -> int:
        """Forget event ids older than ``keep``; returns how many."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(InboundEvent).where(InboundEvent.received_at < self._clock.now() - keep))
        return result.rowcount

    async def close(self) -> None:
        await self._keys.close()
