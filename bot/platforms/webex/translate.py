"""Pure translators between Webex and the neutral core: envelope and fetched resources to an
:class:`~bot.core.Event`, a :class:`~bot.core.Reply` to the fields of ``POST /messages``.

Webex API: https://developer.webex.com/docs/api/v1/webhooks and .../v1/messages.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from bot.core import Actor, Conversation, Event, Reply
from bot.core.inbound import card_inputs, strip_mention
from bot.platforms.webex import NAME
from bot.platforms.webex.webhooks import WEBHOOK_EVENTS

MAX_TEXT_BYTES = 7439
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Webex ids are base64 of "ciscospark://…" (about 100 characters). Anything else in a signed
# envelope (a NUL byte, a lone surrogate, an id of kilobytes) is ignored, never stored.
_WEBEX_ID = re.compile(r"[A-Za-z0-9+/=_-]{1,200}")
MAX_EMAIL = 254


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is on Webex: its id, and the names a mention of it may read as."""

    id: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class WebexInbound:
    """The parts of a webhook envelope the bot uses; the content is fetched by ``data_id``."""

    resource: str
    data_id: str
    person_id: str
    actor_id: str | None
    person_email: str | None = None  # messages only; signed with the envelope


def parse_envelope(envelope: Any) -> WebexInbound | None:
    """The event in a verified envelope, or ``None`` for anything the bot does not handle."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), dict):
        return None
    data = envelope["data"]
    if (envelope.get("resource"), envelope.get("event")) not in WEBHOOK_EVENTS:
        return None
    data_id, person_id = _webex_id(data.get("id")), _webex_id(data.get("personId"))
    actor_id = envelope.get("actorId")
    if data_id is None or person_id is None or (actor_id is not None and _webex_id(actor_id) is None):
        return None
    # A malformed address only loses the shortcut past the people lookup.
    return WebexInbound(envelope["resource"], data_id, person_id, actor_id, _email(data.get("personEmail")))


def _webex_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _WEBEX_ID.fullmatch(value) else None


def _email(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_EMAIL or "@" not in value:
        return None
    return value if value.isprintable() and not any(c.isspace() for c in value) else None


def job_key(inbound: WebexInbound) -> str:
    """The stored job's key: what Webex redelivers, so a redelivery adds none.

    Not ``Event.dedupe_key``: the bot records that one itself when it handles the event.
    """
    return f"{inbound.resource}:{inbound.data_id}"


def org_key(org_id: str) -> str:
    """An organisation id in one form: the API's base64 id and Control Hub's UUID compare equal."""
    value = org_id.strip()
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if decoded.startswith("ciscospark://") and "/ORGANIZATION/" in decoded:
        value = decoded.rsplit("/", 1)[1]
    return value.casefold()


def actor(person: dict[str, Any]) -> Actor:
    """The sender from ``GET people/{id}``."""
    emails = person.get("emails") or [None]
    return Actor(id=person["id"], name=person.get("displayName") or "", email=emails[0], org=person.get("orgId"))


def message_event(inbound: WebexInbound, sender: Actor, message: dict[str, Any], me: BotIdentity) -> Event | None:
    """A typed command from ``GET messages/{id}``; ``None`` if it is not one from ``sender``."""
    text = message.get("text")
    if message.get("personId") != sender.id or not isinstance(text, str) or not text.strip():
        return None  # not from the sender we checked, or a file without text
    is_direct = message.get("roomType") == "direct"
    if not is_direct:
        text = strip_mention(text, me.names)
    conversation = Conversation(message["roomId"], is_direct=is_direct)
    return Event(NAME, inbound.data_id, sender, conversation, text=text)


def submit_event(inbound: WebexInbound, sender: Actor, action: dict[str, Any],
                 card_message: dict[str, Any] | None) -> Event:
    """A card submission from ``GET attachment/actions/{id}`` and the card's message (``None``: gone)."""
    is_direct = card_message is not None and card_message.get("roomType") == "direct"
    conversation = Conversation(action["roomId"], is_direct=is_direct)
    return Event(NAME, inbound.data_id, sender, conversation, inputs=card_inputs(action.get("inputs")))


def target(event: Event, reply: Reply) -> dict[str, str]:
    """Where a reply goes. Direct replies (the invitation) go to the person, never to a group."""
    if reply.direct or event.conversation.is_direct:
        return {"toPersonId": event.actor.id}
    return {"roomId": event.conversation.id}


def content(reply: Reply) -> dict[str, Any]:
    content: dict[str, Any] = {"markdown": fit(reply.text)}
    if reply.card is not None:
        content["attachments"] = [{"contentType": CARD_CONTENT_TYPE, "content": reply.card}]
    return content


def fit(text: str) -> str:
    """Webex refuses text over 7439 bytes; cut at a character boundary rather than lose it."""
    encoded = text.encode()
    if len(encoded) <= MAX_TEXT_BYTES:
        return text
    return encoded[:MAX_TEXT_BYTES - 3].decode(errors="ignore") + "…"
