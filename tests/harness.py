"""An in-memory chat platform: people type and click, the real router and handlers answer.

Clicking works on the card JSON the bot sent, as a chat client would: the button's
``Action.Submit.data`` is merged into the card's input values (Webex semantics).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.core import Actor, Conversation, Event, Platform, Reply
from bot.db import Base
from bot.dispatcher import Bot
from bot.runtime import Services


@dataclass(frozen=True)
class Sent:
    """A reply as delivered: ``where`` is ``"direct"`` (1:1 with ``to``) or the group room id."""

    where: str
    to: str
    reply: Reply


def _inputs(element: Any) -> Iterator[dict[str, Any]]:
    if isinstance(element, dict):
        if str(element.get("type", "")).startswith("Input."):
            yield element
        for value in element.values():
            yield from _inputs(value)
    elif isinstance(element, list):
        for item in element:
            yield from _inputs(item)


class Chat:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.sent: list[Sent] = []

    async def deliver(self, event: Event) -> list[Reply]:
        replies = await self.bot.handle(event)
        for reply in replies:
            if reply.direct or event.conversation.is_direct:
                self.sent.append(Sent("direct", event.actor.id, reply))
            else:
                self.sent.append(Sent(event.conversation.id, event.actor.id, reply))
        return replies

    def event(self, actor: Actor, *, text: str | None = None, inputs: dict[str, str] | None = None,
              room: str | None = None, event_id: str | None = None) -> Event:
        return Event(
            platform=Platform.MEMORY, event_id=event_id or uuid.uuid4().hex, actor=actor,
            conversation=Conversation(room or f"direct-{actor.id}", is_direct=room is None),
            text=text, inputs=inputs or {},
        )

    async def say(self, actor: Actor, text: str, *, room: str | None = None) -> list[Reply]:
        return await self.deliver(self.event(actor, text=text, room=room))

    async def click(self, actor: Actor, card: dict[str, Any], title: str, **inputs: str) -> list[Reply]:
        return await self.deliver(self.event(actor, inputs=submission(card, title, **inputs)))


def submission(card: dict[str, Any], title: str, **inputs: str) -> dict[str, str]:
    """What a client submits when ``title`` is clicked after filling in ``inputs``."""
    actions = {a["title"]: a for a in card.get("actions", [])}
    if title not in actions:
        raise AssertionError(f"no button {title!r} on the card; buttons: {sorted(actions)}")
    values = {i["id"]: str(i.get("value", "")) for i in _inputs(card.get("body", []))}
    unknown = set(inputs) - set(values)
    if unknown:
        raise AssertionError(f"the card has no inputs {sorted(unknown)}")
    values.update(inputs)
    values.update(actions[title]["data"])
    return values


def last_card(replies: list[Reply]) -> dict[str, Any]:
    cards = [r.card for r in replies if r.card is not None]
    assert cards, f"no card among {[r.text for r in replies]}"
    return cards[-1]


async def everything_stored(services: Services) -> str:
    """Every value in every table, as one text to search for what must never be stored."""
    async with services.sessions() as session:
        rows = [row for table in Base.metadata.sorted_tables for row in await session.execute(select(table))]
    return "\n".join(" ".join(map(str, row)) for row in rows)


def strings_in(value: Any, *, keys: bool = True) -> Iterator[str]:
    """Every string in a reply, a card or an API answer (keys too), however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys:
                yield str(key)
            yield from strings_in(item, keys=keys)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item, keys=keys)


class _Reading(dict[int, str]):
    """Each character as a reader sees it in a number, worked out once (``str.translate`` table)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char.isspace() or char == "." or unicodedata.category(char) in ("Pd", "Cf"):
            seen = ""
        else:
            seen = str(unicodedata.decimal(char, char))
        self[code] = seen
        return seen


_READING = _Reading()


def as_read(text: str) -> str:
    """``text`` as a reader sees its numbers: whitespace, dashes, dots and invisible characters
    gone, every digit form ASCII. Written apart from the guard's own, so a test does not trust it."""
    return unicodedata.normalize("NFKC", text).translate(_READING)


def shows_number(digits: str, *shown: Any) -> bool:
    """Whether the number with these ten digits shows anywhere in ``shown``, in any spelling."""
    return any(digits in as_read(text) for text in strings_in(shown))
