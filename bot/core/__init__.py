"""The neutral core between platform adapters and handlers: one event type in, replies out.

Adapters (``bot/platforms``) translate a platform request into an :class:`Event` and each
:class:`Reply` into a platform call (the contract: :mod:`bot.core.adapter`). Handlers never see
a platform.
"""

from bot.core.events import Actor, Conversation, Event, PersonKey, Platform, Reply
from bot.core.problems import Problem, Refused
from bot.core.routing import (
    CARD_VERSION,
    ActionHandler,
    CardAction,
    CardSubmit,
    Command,
    CommandHandler,
    DuplicateRouteError,
    Router,
    changes_nothing,
    reads_only,
)

__all__ = [
    "CARD_VERSION", "ActionHandler", "Actor", "CardAction", "CardSubmit", "Command", "CommandHandler",
    "Conversation", "DuplicateRouteError", "Event", "PersonKey", "Platform", "Problem", "Refused", "Reply", "Router",
    "changes_nothing", "reads_only",
]
