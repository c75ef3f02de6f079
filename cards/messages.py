"""Short cards: information, errors, the no-e-mail rule."""

from __future__ import annotations

from typing import Any

from cards import texts
from cards.elements import card, text, title


def info_card(heading: str, message: str) -> dict[str, Any]:
    return card([title(heading), text(message)], fallback=message)


def error_card(message: str) -> dict[str, Any]:
    return card([text(message, attention=True)], fallback=message)


def no_email_card() -> dict[str, Any]:
    return info_card(texts.NO_EMAIL_TITLE, texts.NO_EMAIL)
