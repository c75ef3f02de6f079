"""The neutral event and reply: what adapters translate platform requests into, and back from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NewType

from bot.core.inbound import event_key

Platform = NewType("Platform", str)
"""A platform's name as its package declares it (``bot/platforms/registry.py`` lists them): the first
part of a person key, a metrics label, and what the store's rows say."""


@dataclass(frozen=True)
class Actor:
    """The person behind an event. ``id`` is the platform's stable id."""

    id: str
    name: str
    email: str | None = None
    org: str | None = None


@dataclass(frozen=True)
class Conversation:
    id: str
    is_direct: bool


@dataclass(frozen=True)
class PersonKey:
    """A person across the bot, stable and never a name: the platform and its id of the person.

    Stored (database, logs) as ``"<platform>:<platform id>"``: ``str()`` writes it, :meth:`parse`
    reads it back. The platform never holds a colon; the id may.
    """

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"

    @classmethod
    def parse(cls, stored: str) -> PersonKey:
        platform, _, platform_id = stored.partition(":")
        return cls(platform, platform_id)


@dataclass(frozen=True)
class Event:
    """A command typed by a person, or a card submission with its inputs.

    ``reference`` is the adapter's own, opaque address for writing to the actor later (a
    conversation reference); the dispatcher stores it under :attr:`person_key` with each event,
    and the adapter reads it back in ``send_direct``. ``None``: nothing to store.
    """

    platform: Platform
    event_id: str
    actor: Actor
    conversation: Conversation
    text: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    reference: str | None = None

    @property
    def person_key(self) -> PersonKey:
        return PersonKey(self.platform, self.actor.id)

    @property
    def is_card_submit(self) -> bool:
        return self.text is None

    @property
    def dedupe_key(self) -> str:
        return event_key(self.platform, self.event_id)


@dataclass(frozen=True)
class Reply:
    """Text (also the fallback for clients without cards) and an optional Adaptive Card.

    ``direct`` replies go 1:1 to the event's actor, wherever the event came from: confidential
    content (the invitation, room details) is always sent that way. ``replaces_card`` marks the
    new state of the card that was submitted: platforms that cannot edit a card remove the old one.
    """

    text: str
    card: dict[str, Any] | None = None
    direct: bool = False
    replaces_card: bool = False
