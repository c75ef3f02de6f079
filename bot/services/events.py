"""Inbound event ids, so that a redelivered or replayed event changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.clock import Clock
from bot.db import InboundEvent
from bot.services.group_insert import GroupInsert


class InboundEvents:
    def __init__(self, sessions: async_sessionmaker, clock: Clock) -> None:
        engine: AsyncEngine = sessions.kw["bind"]
        # Once per event, from several workers at once: one statement for all that arrive together.
        self._keys = GroupInsert(engine, InboundEvent.__table__)
        self._clock = clock

    async def first_time(self, key: str) -> bool:
        """Record ``key``; False if it was recorded before (also by another instance)."""
        return await self._keys.add({"key": key[:255], "received_at": self._clock.now()})

    async def close(self) -> None:
        await self._keys.close()
