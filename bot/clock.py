"""Time as an injected dependency: services never call ``datetime.now`` themselves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """Real time plus an offset that only grows: the demo's clock control jumps ahead with it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        # Never backwards: reminders already sent would be due again on the page.
        if delta < timedelta(0):
            raise ValueError("the demo clock only moves forward")
        self.offset += delta


class ManualClock:
    """A clock that moves only when told to (tests and the demo's clock control)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class Alarm:
    """The earliest due time asked for since the timer last looked.

    Whoever plans something rings it; the timer (``bot.scheduler``) waits on it and re-arms. It
    holds no callback, so planners and the timer need not know each other.
    """

    def __init__(self) -> None:
        self._due: datetime | None = None
        self._rung = asyncio.Event()

    def ring(self, due: datetime) -> None:
        if self._due is None or due < self._due:
            self._due = due
        self._rung.set()

    async def wait(self) -> datetime:
        """The earliest due time rung since the last call; waits for a ring if there was none."""
        await self._rung.wait()
        self._rung.clear()
        due, self._due = self._due, None
        assert due is not None
        return due
