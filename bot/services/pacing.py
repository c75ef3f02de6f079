"""Sends to one platform: at most ``limit`` at once, the most urgent first, and a shared slow-down when it answers 429.

How the slow-down paces sends: docs/reminders.md, "How once is kept". Time here is the event loop's (real time): it
is about the platform's clock, not the meetings'.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

RATE_WINDOW = 1.0  # seconds over which the sends that got through are counted
RATE_MARGIN = 0.95  # a little below it: delays on the way bunch messages up
RELAX_AFTER = 30.0


class PlatformGate:
    def __init__(self, limit: int) -> None:
        self._free = limit
        self._waiting: list[tuple[tuple[float, ...], int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()
        self._resume_at = 0.0
        self._interval = 0.0  # seconds between send starts while paced; 0: not paced
        self._next_start = 0.0
        self._refused_at = float("-inf")
        self._passed: deque[float] = deque()  # start times of sends that got through, last RATE_WINDOW

    async def _acquire(self, priority: tuple[float, ...]) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrival), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the place came with the cancellation: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():  # skip those cancelled while waiting
                turn.set_result(None)
                return
        self._free += 1

    @asynccontextmanager
    async def slot(self, priority: tuple[float, ...] = ()) -> AsyncIterator[float]:
        """Hold a place and wait for the platform's pace; yields the loop time the send starts at."""
        loop = asyncio.get_running_loop()
        await self._acquire(priority)
        try:
            while True:
                now = loop.time()
                if self._interval and now - self._refused_at > RELAX_AFTER:
                    self._interval = 0.0
                start = max(now, self._resume_at, self._next_start if self._interval else now)
                if start <= now:
                    break
                await asyncio.sleep(start - now)
            # On the schedule, not after this (maybe late) start: a late wake-up is made up by the next
            # send, while after a pause at most two go back to back.
            self._next_start = max(self._next_start, now - self._interval) + self._interval
            yield now
        finally:
            self._release()

    def passed(self, started: float) -> None:
        """A send that started at ``started`` got through."""
        self._passed.append(started)
        while self._passed and self._passed[0] < started - RATE_WINDOW:
            self._passed.popleft()

    def refused(self, started: float, retry_after: float) -> None:
        """The platform answered 429: everyone waits ``retry_after``, then goes at the pace that passed."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + retry_after)
        if started < self._refused_at:
            return  # started before the last refusal: that one has set the pace already
        self._refused_at = loop.time()
        recent = [moment for moment in self._passed if moment >= started - RATE_WINDOW]
        if not recent:
            return  # nothing got through yet: its rate is unknown, the wait is all there is to go by
        # N got through in the time before the refusal, and it asks for R more: N over the longer
        # of the two is what it accepts (50 in a burst, then "wait 1 s": 50 a second).
        rate = max(len(recent) / max(started - recent[0], retry_after) * RATE_MARGIN, 1.0)
        self._interval = 1.0 / rate
