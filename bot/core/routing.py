"""Routes: command words and typed card actions to handlers, each registered once.

A handler takes what arrived (a :class:`Command` or a :class:`CardSubmit`) and the context the
dispatcher built for the event, and returns the replies. The context's type belongs to the
handlers (``handlers/context.py``); the core only passes it on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.core.events import Event, Reply
from bot.core.inbound import NOT_TEXT
from bot.core.problems import Problem

# Bumped when a card's inputs change shape; older cards get a polite "this card is old".
CARD_VERSION = "1"


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
class Command:
    """A typed command: ``rest`` is what follows the command word (``ta bort HC Torsås 1``)."""

    event: Event
    rest: str


@dataclass(frozen=True)
class CardSubmit(Generic[A]):
    event: Event
    form: A


CommandHandler = Callable[[Command, Any], Awaitable[list[Reply]]]
ActionHandler = Callable[[CardSubmit[Any], Any], Awaitable[list[Reply]]]


H = TypeVar("H", CommandHandler, ActionHandler)
_READ_ONLY: set[Any] = set()


def changes_nothing(handler: H) -> H:
    """Mark a handler that only reads: run again, it answers as well, so its replies need not be kept
    until they are posted (``bot.dispatcher``). Unmarked handlers count as changing something."""
    _READ_ONLY.add(handler)
    return handler


def reads_only(handler: CommandHandler | ActionHandler) -> bool:
    return handler in _READ_ONLY


class DuplicateRouteError(RuntimeError):
    pass


@dataclass(frozen=True)
class ActionRoute:
    model: type[CardAction]
    handler: ActionHandler


@dataclass(frozen=True)
class Dispatch:
    """What the router decided for a card submission: a handler and its form, or why there is none."""

    handler: ActionHandler | None
    form: CardAction | None = None
    problem: Problem | None = None


class Router:
    """Maps command words, card action names and everything else (the fallback) to handlers."""

    def __init__(self) -> None:
        self._commands: dict[str, CommandHandler] = {}
        self._actions: dict[str, ActionRoute] = {}
        self._fallback: CommandHandler | None = None

    def command(self, *words: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            for word in words:
                self._add_command(word, handler)
            return handler

        return register

    def action(self, model: type[A]) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            self._add_action(model.action, ActionRoute(model, handler))
            return handler

        return register

    def fallback(self, handler: CommandHandler) -> CommandHandler:
        """Register the answer to a text that names no command."""
        self._set_fallback(handler)
        return handler

    def include(self, other: Router) -> None:
        for word, handler in other._commands.items():
            self._add_command(word, handler)
        for name, route in other._actions.items():
            self._add_action(name, route)
        if other._fallback is not None:
            self._set_fallback(other._fallback)

    def resolve_command(self, word: str) -> CommandHandler:
        handler = self._commands.get(word, self._fallback)
        if handler is None:
            raise LookupError("no fallback registered")
        return handler

    def resolve_action(self, inputs: Mapping[str, str]) -> Dispatch:
        if NOT_TEXT in inputs.values():
            return Dispatch(None, problem=Problem.INPUT_NOT_TEXT)
        route = self._actions.get(inputs.get("action", ""))
        if route is None:
            return Dispatch(None, problem=Problem.UNKNOWN_ACTION)
        if inputs.get("v") != CARD_VERSION:
            return Dispatch(None, problem=Problem.STALE_CARD)
        try:
            form = route.model.model_validate(dict(inputs))
        except ValidationError:
            return Dispatch(None, problem=Problem.INVALID_FORM)
        return Dispatch(route.handler, form)

    def _add_command(self, word: str, handler: CommandHandler) -> None:
        if word in self._commands:
            raise DuplicateRouteError(f"command {word!r} registered twice")
        self._commands[word] = handler

    def _add_action(self, name: str, route: ActionRoute) -> None:
        if name in self._actions:
            raise DuplicateRouteError(f"card action {name!r} registered twice")
        self._actions[name] = route

    def _set_fallback(self, handler: CommandHandler) -> None:
        if self._fallback is not None:
            raise DuplicateRouteError("fallback registered twice")
        self._fallback = handler
