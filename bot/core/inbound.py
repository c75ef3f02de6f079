"""What every adapter does to a platform's request on the way to an :class:`~bot.core.events.Event`.

Mention stripping, typed command parsing, card input coercion, the allowlist decision on the
identity facts a platform gives, the keys that dedupe events, and the cache of who sent them.
No I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

KEYWORDS = ("distansmöte", "distansmote")
# Longest first, so "ta bort" wins over a one-word command.
_MULTIWORD = ("ta bort",)
_COMMAND_AT = re.compile("|".join(f"/{re.escape(k)}" for k in KEYWORDS) + r"\b", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case without diacritics: "Hjälp" -> "hjalp"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_FOLDED_KEYWORDS = frozenset(fold(k) for k in KEYWORDS)


def parse_command(text: str) -> tuple[str, str] | None:
    """Split a typed command into (command word, rest).

    Accepts ``/distansmöte ny``, ``distansmote NY``, extra spaces, and the bare subcommand
    (``ny``) as typed in a 1:1 chat. ``None`` if the text names no command at all.
    """
    words = text.split()
    if not words:
        return None
    first = fold(words[0]).lstrip("/")
    if first in _FOLDED_KEYWORDS:
        words = words[1:]
        if not words:
            return ("", "")
    folded = [fold(w) for w in words]
    for phrase in _MULTIWORD:
        size = len(phrase.split())
        if " ".join(folded[:size]) == phrase:
            return (phrase, " ".join(words[size:]))
    return (folded[0].lstrip("/"), " ".join(words[1:]))


def strip_mention(text: str, names: Sequence[str]) -> str:
    """The command in a group-space message, without the @mention of the bot.

    Platforms put the mention into the text as the bot's name (Webex: its plain first name). A
    command written after other words still counts, as in other bots.
    """
    command = unicodedata.normalize("NFC", text).strip()
    for name in sorted(filter(None, names), key=len, reverse=True):
        if command[:len(name)].casefold() == name.casefold():
            command = command[len(name):].lstrip(" ,:\u00a0")
            break
    found = _COMMAND_AT.search(command)
    return command[found.start():] if found and found.start() > 0 else command


# What a card input that came as a boolean, number, list or object reads as: the router refuses it
# (``Problem.INPUT_NOT_TEXT``) rather than take ``true`` or ``12`` for what a person typed.
NOT_TEXT = "\ufffe"


def card_inputs(raw: object) -> dict[str, str]:
    """Card inputs as strings. Clients send strings (``null`` for nothing); anything else was forged."""
    if not isinstance(raw, dict):
        return {}
    return {str(key): value if isinstance(value, str) else NOT_TEXT for key, value in raw.items() if value is not None}


# What the store keeps of an event's key (inbound_event.key, audit.operation); platforms' ids are shorter.
EVENT_KEY_LENGTH = 255


def event_key(platform: str, event_id: str) -> str:
    """The key an event is deduplicated on: a redelivery, or a replay, has the same one."""
    return f"{platform}:{event_id}"[:EVENT_KEY_LENGTH]


def email_domain(email: str | None) -> str:
    return email.rpartition("@")[2].casefold() if email else ""


@dataclass(frozen=True)
class Allowlist:
    """Who may use the bot: an allowed organisation (tenant), or an allowed e-mail domain.

    ``organisations`` are compared as given: an adapter passes them, and the person's own
    organisation, in one normalised form. Never use an organisation the platform did not
    vouch for as the person's own (Webex's envelope carries the webhook owner's).
    """

    organisations: frozenset[str]
    email_domains: frozenset[str]

    @classmethod
    def of(cls, organisations: Iterable[str], email_domains: Iterable[str]) -> Allowlist:
        return cls(frozenset(organisations), frozenset(d.casefold().lstrip("@") for d in email_domains))

    @property
    def empty(self) -> bool:
        return not self.organisations and not self.email_domains

    def allows(self, organisation: str | None, email: str | None) -> bool:
        return (organisation is not None and organisation in self.organisations) or self.allows_email(email)

    def allows_email(self, email: str | None) -> bool:
        domain = email_domain(email)
        return bool(domain) and domain in self.email_domains


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """What a lookup of a sender answered (a platform rate-limits those), kept for ``ttl`` and for
    the ``size`` keys last put. ``get`` answers ``None`` for a key it lacks, so a value is never ``None``."""

    def __init__(self, ttl: timedelta, size: int) -> None:
        self._ttl = ttl
        self._size = size
        self._entries: dict[K, tuple[datetime, V]] = {}

    def get(self, key: K, now: datetime) -> V | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > now else None

    def put(self, key: K, value: V, now: datetime) -> None:
        self._entries.pop(key, None)  # put again, it is the newest
        self._entries[key] = (now + self._ttl, value)
        if len(self._entries) > self._size:  # dicts keep insertion order: the first is the oldest
            del self._entries[next(iter(self._entries))]
