"""The two translators: a Teams activity into what the bot stores and handles, a reply into an activity.

Pure functions on the Agents SDK's ``Activity`` model; no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from microsoft_agents.activity import Activity, Attachment, ChannelAccount, ConversationAccount

from bot.core import Reply
from bot.core.inbound import card_inputs, strip_mention

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_TEXT_CHARS = 20_000  # far below Teams' 100 KB per message; nothing the bot sends comes near


@dataclass(frozen=True)
class Address:
    """Where to write to a conversation: the Teams conversation reference, as the bot stores it.

    ``anonymous``: the conversation came from a request without a token (local testing), so the
    bot answers it without one.
    """

    service_url: str
    conversation_id: str
    tenant_id: str
    user_id: str  # the person's "29:…" id in this bot's conversations
    bot_id: str
    anonymous: bool = False

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def loads(cls, stored: str) -> Address:
        return cls(**json.loads(stored))


@dataclass(frozen=True)
class TeamsInbound:
    """A message or card submission, as kept in the inbound queue until a worker handles it.

    Teams cannot be asked for a message again, so the command text itself is kept (mention
    removed); the adapter keeps it out of the store when it holds a personal identity number.
    """

    event_id: str  # conversation id + activity id, hashed: what Teams redelivers
    activity_id: str
    address: Address
    conversation_type: str  # "personal", "channel" or "groupChat"
    actor_id: str  # Entra object id
    actor_name: str
    text: str | None = None
    inputs: dict[str, str] | None = None
    card_id: str | None = None  # the card a submission came from (``replyToId``)
    installed: bool = False  # the person added the app: a 1:1 chat to write to, nothing to answer

    @property
    def is_direct(self) -> bool:
        return self.conversation_type == "personal"

    def payload(self) -> dict[str, Any]:
        return asdict(self)

    def content(self) -> list[str]:
        """What the person wrote: the text, else the card's inputs (what the privacy guard reads)."""
        return [self.text] if self.text is not None else list((self.inputs or {}).values())

    def without_content(self) -> TeamsInbound:
        """Only who and where: what a refused stranger's job keeps."""
        return replace(self, text=None, inputs=None)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TeamsInbound:
        values = dict(payload)
        values["address"] = Address(**values["address"])
        return cls(**values)


def job_key(activity: Activity) -> str:
    """Teams redelivers an activity with the same id in the same conversation (ids are unique
    only within a conversation). Hashed, because channel conversation ids are long; in base 32,
    because the privacy guard would take a long run of hex digits for a personal identity number."""
    conversation_id = activity.conversation.id if activity.conversation else ""
    digest = hashlib.sha256(f"{conversation_id}\n{activity.id}".encode()).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()


def tenant_of(activity: Activity) -> str | None:
    """``conversation.tenantId``, else ``channelData.tenant.id`` (contract notes §4)."""
    tenant = activity.conversation.tenant_id if activity.conversation else None
    if not tenant and isinstance(activity.channel_data, dict):
        found = (activity.channel_data.get("tenant") or {}).get("id")
        tenant = found if isinstance(found, str) else None
    return tenant.strip().casefold() if tenant else None


def command_text(activity: Activity) -> str:
    """What was typed, without the bot's @mention (the mention entity names the text Teams put
    in); Teams escapes the text as HTML."""
    text = activity.remove_recipient_mention() if activity.recipient else (activity.text or "")
    return strip_mention(html.unescape(text).replace("\u00a0", " "), ())


def inbound(activity: Activity, *, anonymous: bool) -> TeamsInbound | None:
    """The message, submission or installation in ``activity``; ``None`` for anything else."""
    sender = activity.from_property
    conversation = activity.conversation
    if (activity.type not in ("message", "conversationUpdate") or sender is None or conversation is None
            or not activity.service_url or not activity.id or not activity.recipient):
        return None
    actor_id = getattr(sender, "aad_object_id", None)
    if not actor_id:
        return None  # not a person of an Entra tenant
    address = Address(
        service_url=activity.service_url, conversation_id=conversation.id, tenant_id=tenant_of(activity) or "",
        user_id=sender.id, bot_id=activity.recipient.id, anonymous=anonymous,
    )
    common = dict(event_id=job_key(activity), activity_id=activity.id, address=address,
                  conversation_type=conversation.conversation_type or "personal",
                  actor_id=actor_id.casefold(), actor_name=sender.name or "")
    if activity.type == "conversationUpdate":
        added = {member.id for member in activity.members_added or []}
        personal = (conversation.conversation_type or "personal") == "personal"
        return TeamsInbound(**common, installed=True) if personal and activity.recipient.id in added else None
    if activity.value is not None and not (activity.text or "").strip():
        return TeamsInbound(**common, inputs=card_inputs(activity.value), card_id=activity.reply_to_id)
    text = command_text(activity)
    return TeamsInbound(**common, text=text) if text else None


def personal_address(address: Address, conversation_id: str) -> Address:
    """The person's 1:1 chat, on the service of the conversation they wrote in."""
    return replace(address, conversation_id=conversation_id)


def outgoing(reply: Reply, address: Address) -> Activity:
    """A reply as a Teams message: the card alone, or text whose line breaks Teams keeps."""
    activity = Activity(
        type="message", channel_id="msteams", service_url=address.service_url,
        conversation=ConversationAccount(id=address.conversation_id, tenant_id=address.tenant_id or None),
        from_property=ChannelAccount(id=address.bot_id), recipient=ChannelAccount(id=address.user_id),
    )
    if reply.card is not None:
        activity.attachments = [Attachment(content_type=CARD_CONTENT_TYPE, content=reply.card)]
        activity.summary = reply.text[:200]  # what a notification shows
    else:
        activity.text_format = "markdown"
        activity.text = teams_text(reply.text)
    return activity


def teams_text(text: str) -> str:
    """Markdown with explicit line breaks: Teams joins single newlines, and the invitation is
    pasted line by line. Markup characters are escaped, so that nothing in it becomes HTML."""
    lines = html.escape(text[:MAX_TEXT_CHARS], quote=False).split("\n")
    return "<br>".join(lines)
