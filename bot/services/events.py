"""Inbound event ids, so that a redelivered or replayed event changes nothing."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.db import InboundEvent


class InboundEvents:
    def __init__(self, sessions: async_sessionmaker, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def first_time(self, key: str) -> bool:
        """Record ``key``; False if it was recorded before (also by another instance)."""
        async with self._sessions() as session:
            session.add(InboundEvent(key=key[:255], received_at=self._clock.now()))
            try:
                await session.commit()
            except IntegrityError:
                return False
        return True
