"""An in-memory chat platform: people type and click, the real router and handlers answer.

It is an adapter written only against the public contract (``bot.core.adapter``), and like
Microsoft Teams it cannot write to anyone first: what the bot sends on its own goes through the
conversation reference stored with the person's last event, and nobody else can be reached.

Clicking works on the card JSON the bot sent, as a chat client would: the button's
``Action.Submit.data`` is merged into the card's input values (Webex semantics).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.core import Actor, Conversation, Event, PersonKey, Platform, Reply
from bot.core.adapter import AdapterHost
from bot.core.delivery import DeliveryGone

log = logging.getLogger(__name__)
DIRECT = "direct-"  # a 1:1 conversation's id: "direct-<person id>"


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
    """``sent`` holds every reply delivered; ``pushed`` those the bot sent on its own."""

    platform = Platform("memory")
    ready = True

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.pushed: list[Sent] = []
        self._host: AdapterHost | None = None

    def install(self, app: web.Application, host: AdapterHost) -> None:
        self._host = host  # no routes: tests call deliver()

    async def deliver(self, event: Event) -> list[Reply]:
        assert self._host is not None, "install the chat first (create_app)"
        replies = await self._host.dispatcher.handle(event)
        for reply in replies:
            if reply.direct or event.conversation.is_direct:
                self.sent.append(Sent("direct", event.actor.id, reply))
            else:
                self.sent.append(Sent(event.conversation.id, event.actor.id, reply))
        await self._host.dispatcher.delivered(event)
        return replies

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        assert self._host is not None
        reference = await self._host.references.find(person)
        if reference is None or not reference.startswith(DIRECT):
            raise DeliveryGone("no_reference")
        for reply in replies:
            sent = Sent("direct", reference.removeprefix(DIRECT), reply)
            self.sent.append(sent)
            self.pushed.append(sent)

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        if "@" in identity:
            log.warning("an admin listed by e-mail address cannot be written to first on this platform")
            raise DeliveryGone("cannot_write_first")
        await self.send_direct(PersonKey(self.platform, identity), replies)

    def event(self, actor: Actor, *, text: str | None = None, inputs: dict[str, str] | None = None,
              room: str | None = None, event_id: str | None = None) -> Event:
        return Event(
            platform=Platform("memory"), event_id=event_id or uuid.uuid4().hex, actor=actor,
            conversation=Conversation(room or f"{DIRECT}{actor.id}", is_direct=room is None),
            text=text, inputs=inputs or {}, reference=f"{DIRECT}{actor.id}",
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
