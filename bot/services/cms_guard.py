"""The CMS bulkhead and circuit breaker: a CMS that hangs holds only its share of the workers."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator

from bot.services.cms_errors import CmsCrowded, CmsNotAsked

log = logging.getLogger(__name__)

# Set in work that runs beside the webhook workers (queued creates, the passes): it waits its turn.
_QUEUED: contextvars.ContextVar[bool] = contextvars.ContextVar("cms_queued", default=False)


class CmsGuard:
    """A bulkhead and a circuit breaker in front of CMS, so that a CMS that hangs cannot take every
    worker of the bot, and a CMS that is down is answered for at once.

    At most ``concurrency`` requests go to CMS at once, and ``waiting`` more wait for their turn;
    any more wait at most ``slow_after`` seconds (a burst on a CMS that answers at once) and are
    refused at once while CMS is slow (a request has been out longer than ``slow_after``) with
    CmsCrowded, so that a webhook worker is never held long. Work that runs beside the workers
    (:meth:`queued`) is never refused so: it waits its turn, however slow CMS is. After
    ``failures`` requests in a row found CMS unavailable (no answer in time, no connection, busy
    after retries) the circuit opens: requests are refused at
    once for ``cool_down`` seconds; then one request tries (half-open), and its answer closes the
    circuit while its failure opens it again. ``now`` is a monotonic clock in seconds.
    """

    def __init__(self, *, concurrency: int = 4, waiting: int | None = None, slow_after: float = 1.0,
                 failures: int = 3, cool_down: float = 30.0, now: Callable[[], float] = time.monotonic) -> None:
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._waiting_allowed = waiting
        self._slow_after = slow_after
        self._waiting = 0
        self._out: dict[object, float] = {}  # requests at CMS now -> when they were sent
        self._threshold = max(1, failures)
        self._cool_down = cool_down
        self._now = now
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @classmethod
    def for_workers(cls, workers: int) -> CmsGuard:
        """With ``workers`` workers: half may be at CMS and a quarter more wait for it while it is slow,
        so that a quarter stays free for everything that does not need CMS."""
        return cls(concurrency=max(1, workers // 2), waiting=workers // 4)

    @staticmethod
    @contextlib.contextmanager
    def queued() -> Iterator[None]:
        """Within this block (in this task) requests wait their turn instead of being refused as crowded."""
        token = _QUEUED.set(True)
        try:
            yield
        finally:
            _QUEUED.reset(token)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the places for a request to CMS; raises CmsNotAsked when refused."""
        self._refuse_if_open()
        over = (not _QUEUED.get() and self._waiting_allowed is not None and self._slots.locked()
                and self._waiting >= self._waiting_allowed)
        if over and any(self._now() - sent > self._slow_after for sent in self._out.values()):
            raise CmsCrowded("CMS is slow and as many requests as allowed are waiting for it; not sent.")
        self._waiting += 1
        try:
            # Beyond the places to wait in, wait only as long as a CMS that is not slow takes.
            async with asyncio.timeout(self._slow_after if over else None):
                await self._slots.acquire()
        except TimeoutError:
            raise CmsCrowded("CMS is slow and as many requests as allowed are waiting for it; not sent.") from None
        finally:
            self._waiting -= 1
        probe, key = False, object()
        try:
            self._refuse_if_open()  # the circuit may have opened while this one waited
            probe = self._probing = self._opened_at is not None  # half-open: this one tries
            self._out[key] = self._now()
            yield
        finally:
            self._out.pop(key, None)
            if probe:
                self._probing = False
            self._slots.release()

    def succeeded(self) -> None:
        if self._opened_at is not None:
            log.info("CMS answers again; requests to it go through")
        self._failures, self._opened_at = 0, None

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            if self._opened_at is None:
                log.warning("CMS unavailable %d times in a row; requests fail at once for %.0f s",
                            self._failures, self._cool_down)
            self._opened_at = self._now()

    @property
    def circuit(self) -> str:
        """``closed`` (requests go through), ``open`` (refused at once) or ``half_open`` (the cool-down
        is over: the next request tries); the ``distansmote_cms_circuit`` gauge."""
        if self._opened_at is None:
            return "closed"
        return "open" if self._probing or self._now() - self._opened_at < self._cool_down else "half_open"

    def _refuse_if_open(self) -> None:
        """While the circuit is open, refuse; after the cool-down let one request try at a time."""
        if self._opened_at is not None and (self._probing or self._now() - self._opened_at < self._cool_down):
            raise CmsNotAsked("CMS has not been answering; not sent (circuit open).")
