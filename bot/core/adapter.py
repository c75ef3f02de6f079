"""The adapter contract: what a chat platform implements (:class:`Adapter`) and all it may call (:class:`AdapterHost`).

An adapter is built from its own settings and never reaches back into the app: it imports neither ``bot.app`` nor
any service (``tests/test_architecture.py``). Its duties step by step, and how to add one: ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from bot.clock import Clock
from bot.core.events import Actor, Event, PersonKey, Platform, Reply


class Dispatcher(Protocol):
    async def handle(self, event: Event) -> list[Reply]:
        """Dedupe, guard and route ``event``; the replies to send (none for a redelivery)."""
        ...

    async def delivered(self, event: Event) -> None:
        """The replies :meth:`handle` returned for ``event`` are posted. Until then they are kept,
        and a run again of the same event (after a crash) returns them instead of nothing."""
        ...

    async def refuse_stranger(self, platform: Platform, event_id: str) -> list[Reply]:
        """The answer to someone outside the allowlist: once per event, never for a redelivery."""
        ...


class References(Protocol):
    """Conversation references: the address a platform needs to write to a person first."""

    async def remember(self, person: PersonKey, reference: str, *, name: str | None = None,
                       address: str | None = None) -> None:
        """Store (or update) the reference of ``person``, with their display name and address where
        known; the dispatcher calls it per event."""
        ...

    async def find(self, person: PersonKey) -> str | None:
        """The stored reference, or ``None`` if the person never wrote to the bot there."""
        ...


class InboundQueue(Protocol):
    """Accepted platform events kept in the store until a worker has processed them.

    ``accept`` stores a payload under the platform's own event key (a redelivery adds none) and
    returns ``False`` only if it could not be stored, so the platform should deliver it again.
    The payload is plain JSON data. ``content`` is what a person wrote into it (text, card inputs):
    if ``host.guard`` finds a personal identity number there, nothing is stored
    (:class:`HoldsPersonalNumber`). The guard reads only that, not the platform's ids, in which any
    run of digits can occur. An adapter whose events carry text runs the guard first and hands
    such an event to the dispatcher at once, which refuses it without storing it. Workers call the
    adapter's ``process`` with the payload, at least once, until it
    returns (done), raises :class:`GiveUp` (failed) or keeps raising :class:`RetryLater` (run again
    after a growing backoff, failed after the last attempt). A finished job keeps only its key.
    """

    def start(self) -> None: ...

    async def accept(self, key: str, payload: Mapping[str, Any], *, content: Sequence[str] = ()) -> bool: ...

    async def drain(self) -> None:
        """Wait until nothing accepted is pending or being processed."""
        ...

    async def stop(self, grace: float) -> None:
        """Stop taking work; give running jobs ``grace`` seconds, then hand them back."""
        ...


class RetryLater(Exception):
    """Raised by an adapter's ``process`` after a transient failure: the job runs again later.

    ``after``: at least this many seconds (a platform's ``Retry-After``). The message is logged:
    name the failure, never the content. A transient store failure counts the same.
    """

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class GiveUp(Exception):
    """Raised by an adapter's ``process`` that cannot succeed and has said why in the log: failed."""


class HoldsPersonalNumber(ValueError):
    """The inbound queue refused a payload that holds a personal identity number."""


FIRST_RUN: ContextVar[bool] = ContextVar("first_run", default=False)
"""True while the inbound queue runs a job for the first time. Its event cannot have been handled
before: the queue keeps a finished job's key as long as the dispatcher keeps event ids, so a
redelivery or replay adds no job. The dispatcher then skips its read of the event's record."""

Guard = Callable[[Iterable[str]], bool]
"""The privacy guard: true if any of the texts holds a personal identity number."""

Process = Callable[[Mapping[str, Any]], Awaitable[None]]
QueueFactory = Callable[[Platform, Process, int], InboundQueue]
"""``(platform, process, workers)``: a queue of that platform's events with that many workers."""


@dataclass(frozen=True)
class AdapterHost:
    """What an adapter is given when it is installed, and all it may call."""

    dispatcher: Dispatcher
    clock: Clock
    references: References
    inbound: QueueFactory
    guard: Guard


class Adapter(Protocol):
    platform: Platform

    @property
    def ready(self) -> bool:
        """The adapter can take traffic (e.g. it has read the bot's identity from its platform): ``/readyz``."""

    def install(self, app: web.Application, host: AdapterHost) -> None:
        """Add the platform's routes and start-up/clean-up hooks to ``app``; keep ``host``."""

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        """Send ``replies`` 1:1 to ``person`` (``bot.core.events.PersonKey``).

        One attempt; raises ``DeliveryFailed`` (temporary), ``DeliveryRefused`` (this message
        refused) or ``DeliveryGone`` (the person is gone).
        """

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        """Send ``replies`` 1:1 to an admin listed by platform id or e-mail address.

        A platform that cannot write to that person first raises ``DeliveryGone`` and logs why.
        """


class PeopleSearchUnavailable(Exception):
    """The platform's people search could not answer now (busy, or unreachable)."""


@runtime_checkable
class PeopleSearch(Protocol):
    """An adapter whose platform finds people of the organisation by name or address (Webex's
    people API). On a platform without one, a colleague is found among the people who have
    written to the bot (``bot.services.colleagues``)."""

    async def find_people(self, wanted: str) -> Sequence[Actor]:
        """The allowed people matching an address or a name's start; raises :class:`PeopleSearchUnavailable`."""
        ...

    async def person(self, person_id: str) -> Actor | None:
        """An allowed person; ``None`` if there is no such person. Raises :class:`PeopleSearchUnavailable`."""
        ...
