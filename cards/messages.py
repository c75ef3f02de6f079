"""Short cards: information, errors, the no-e-mail rule."""

from __future__ import annotations

from typing import Any

from bot.core import Event, Reply
from bot.core.problems import Problem
from cards import texts
from cards.elements import card, text, title


def info_card(heading: str, message: str) -> dict[str, Any]:
    return card([title(heading), text(message)], fallback=message)


def error_card(message: str) -> dict[str, Any]:
    return card([text(message, attention=True)], fallback=message)


def no_email_card() -> dict[str, Any]:
    return info_card(texts.NO_EMAIL_TITLE, texts.NO_EMAIL)


def in_private(event: Event, replies: list[Reply]) -> list[Reply]:
    """Confidential replies go 1:1; in a group space, say so there."""
    if event.conversation.is_direct:
        return replies
    return [Reply(texts.MOVED_TO_DIRECT), *replies]


def refusal(problem: Problem) -> list[Reply]:
    """The answer to a refused step, 1:1; a step already done gets a calm one."""
    if problem in texts.ALREADY_DONE:
        message = texts.ALREADY_DONE[problem]
        return [Reply(message, info_card(texts.BOT_NAME, message), direct=True)]
    if problem in texts.UNROUTABLE:
        message = texts.UNROUTABLE[problem]
        return [Reply(message, error_card(message))]
    message = texts.ERRORS[problem]
    return [Reply(message, error_card(message), direct=True)]
