"""The neutral core between platform adapters and handlers: one event type in, replies out.

Adapters (``bot/platforms``) translate a platform request into an :class:`Event` and each
:class:`Reply` into a platform call. Handlers never see a platform.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

# Bumped when a card's inputs change shape; older cards get a polite "this card is old".
CARD_VERSION = "1"


class Platform(enum.StrEnum):
    WEBEX = "webex"
    TEAMS = "teams"
    DEMO = "demo"
    MEMORY = "memory"


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
class Event:
    """A command typed by a person, or a card submission with its inputs."""

    platform: Platform
    event_id: str
    actor: Actor
    conversation: Conversation
    text: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_card_submit(self) -> bool:
        return self.text is None

    @property
    def dedupe_key(self) -> str:
        return f"{self.platform}:{self.event_id}"


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


class CardAction(BaseModel):
    """Base of a typed card submission. ``action`` names it in the card's ``Action.Submit.data``."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)
    action: ClassVar[str]

    @classmethod
    def submit_data(cls, **fields: str) -> dict[str, str]:
        """The ``data`` of an ``Action.Submit`` that produces this action."""
        return {"action": cls.action, "v": CARD_VERSION, **fields}


A = TypeVar("A", bound=CardAction)


@dataclass(frozen=True)
class CardSubmit(Generic[A]):
    event: Event
    form: A


CommandHandler = Callable[[Event, str, Any], Awaitable[list[Reply]]]
ActionHandler = Callable[[CardSubmit[Any], Any], Awaitable[list[Reply]]]


class DuplicateRouteError(RuntimeError):
    pass


@dataclass(frozen=True)
class CommandRoute:
    handler: CommandHandler


@dataclass(frozen=True)
class ActionRoute:
    model: type[CardAction]
    handler: ActionHandler


@dataclass(frozen=True)
class Dispatch:
    """What the router decided: a route and its argument, or why there is none."""

    route: CommandRoute | ActionRoute | None
    argument: str | CardAction | None = None
    problem: str | None = None  # "unknown", "stale", "invalid"


class Router:
    """Maps command words and card action names to handlers; each may be registered once."""

    def __init__(self) -> None:
        self._commands: dict[str, CommandRoute] = {}
        self._actions: dict[str, ActionRoute] = {}
        self.fallback: CommandHandler | None = None

    def command(self, *words: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            for word in words:
                if word in self._commands:
                    raise DuplicateRouteError(f"command {word!r} registered twice")
                self._commands[word] = CommandRoute(handler)
            return handler

        return register

    def action(self, model: type[A]) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            if model.action in self._actions:
                raise DuplicateRouteError(f"card action {model.action!r} registered twice")
            self._actions[model.action] = ActionRoute(model, handler)
            return handler

        return register

    def include(self, other: Router) -> None:
        for word, route in other._commands.items():
            if word in self._commands:
                raise DuplicateRouteError(f"command {word!r} registered twice")
            self._commands[word] = route
        for name, action_route in other._actions.items():
            if name in self._actions:
                raise DuplicateRouteError(f"card action {name!r} registered twice")
            self._actions[name] = action_route
        if other.fallback is not None:
            if self.fallback is not None:
                raise DuplicateRouteError("fallback registered twice")
            self.fallback = other.fallback

    def resolve_command(self, word: str, rest: str) -> Dispatch:
        route = self._commands.get(word)
        if route is None:
            return Dispatch(None, rest, problem="unknown")
        return Dispatch(route, rest)

    def resolve_action(self, inputs: Mapping[str, str]) -> Dispatch:
        route = self._actions.get(inputs.get("action", ""))
        if route is None:
            return Dispatch(None, problem="unknown")
        if inputs.get("v") != CARD_VERSION:
            return Dispatch(None, problem="stale")
        try:
            form = route.model.model_validate(dict(inputs))
        except ValidationError:
            return Dispatch(route, problem="invalid")
        return Dispatch(route, form)
