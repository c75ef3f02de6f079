"""Inbound event ids, so that a redelivered or replayed event changes nothing."""

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

    async def first_time(self, key: str) -> bool:
        """Record ``key``; False if it was recorded before (also by another instance)."""
        return await self._keys.add({"key": key[:255], "received_at": self._clock.now()})

    async def forget(self, key: str) -> None:
        """Undo :meth:`first_time` for an event whose handling failed and will run again."""
        async with self._sessions() as session, session.begin():
            await session.execute(delete(InboundEvent).where(InboundEvent.key == key[:255]))

    async def keep(self, key: str, replies: str | None) -> None:
        """Store the replies (JSON) of the handled event ``key`` until they are posted; ``None`` clears."""
        async with self._sessions() as session, session.begin():
            await session.execute(update(InboundEvent).where(InboundEvent.key == key[:255]).values(replies=replies))

    async def kept(self, key: str) -> str | None:
        """The replies stored by :meth:`keep` and not cleared since, if any."""
        async with self._sessions() as session:
            return await session.scalar(select(InboundEvent.replies).where(InboundEvent.key == key[:255]))

    async def purge(self, keep: timedelta = KEEP_EVENT_IDS) -> int:
        """Forget event ids older than ``keep``; returns how many."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(InboundEvent).where(InboundEvent.received_at < self._clock.now() - keep))
        return result.rowcount

    async def close(self) -> None:
        await self._keys.close()
