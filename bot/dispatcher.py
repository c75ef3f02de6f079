"""From a neutral event to replies: dedupe, the privacy guard, command parsing, routing.

Adapters call :meth:`Bot.handle` and send what it returns. It never raises for a person's
input: every problem becomes a Swedish answer. It raises when the database fails in a way that a
retry may cure (``bot.db.is_transient``): the adapter runs the event again later, and the event is
not recorded as handled meanwhile.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from bot.core import CardSubmit, Event, Reply, Router
from bot.db import is_transient
from bot.services.privacy import any_personal_number
from cards import texts
from cards.messages import error_card, info_card, no_email_card

log = logging.getLogger(__name__)

KEYWORDS = {"distansmote", "distansmöte"}
# Longest first, so "ta bort" wins over a one-word command.
_MULTIWORD = ("ta bort",)


# Card inputs that people type freely (the others are choices).
TYPED_INPUTS = ("unit", "label")
_EMAIL_WORDS = re.compile(r"(?<![a-z0-9])(e-?post|e-?mejl|mejl|e-?mail|mail)")


def mentions_email(text: str) -> bool:
    """``e-post``, ``epost``, ``mejl``, ``mail`` (and ``e-mail``, ``mejla``, ``e-postadress``…)."""
    return bool(_EMAIL_WORDS.search(fold(text)))


def fold(text: str) -> str:
    """Lower case without diacritics: "Hjälp" -> "hjalp"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_command(text: str) -> tuple[str, str] | None:
    """Split a typed command into (command word, rest).

    Accepts ``/distansmöte ny``, ``distansmote NY``, extra spaces, and the bare subcommand
    (``ny``) as typed in a 1:1 chat. ``None`` if the text names no command at all.
    """
    words = text.split()
    if not words:
        return None
    first = fold(words[0]).lstrip("/")
    if first in {fold(k) for k in KEYWORDS}:
        words = words[1:]
        if not words:
            return ("", "")
    rest_words = words
    folded = [fold(w) for w in rest_words]
    for phrase in _MULTIWORD:
        size = len(phrase.split())
        if " ".join(folded[:size]) == phrase:
            return (phrase, " ".join(rest_words[size:]))
    return (folded[0].lstrip("/"), " ".join(rest_words[1:]))


class Bot:
    def __init__(self, router: Router, services: Any) -> None:
        self.router = router
        self.services = services
        # Events that failed here and whose record could not be undone (the database was away):
        # when they run again here, the record is their own, not a duplicate's.
        self._unrecorded: set[str] = set()

    async def handle(self, event: Event) -> list[Reply]:
        if event.dedupe_key in self._unrecorded:
            self._unrecorded.discard(event.dedupe_key)
        elif not await self.services.events.first_time(event.dedupe_key):
            log.info("duplicate event ignored (platform=%s)", event.platform)
            return []

        values = [event.text] if event.text is not None else [*event.inputs, *event.inputs.values()]
        if any_personal_number(values):
            log.info("input with a personal identity number refused (platform=%s)", event.platform)
            return [Reply(texts.PERSONAL_NUMBER_REFUSED,
                          info_card(texts.PERSONAL_NUMBER_TITLE, texts.PERSONAL_NUMBER_REFUSED), direct=True)]

        try:
            replies = await (self._card(event) if event.is_card_submit else self._command(event))
        except Exception as exc:
            if is_transient(exc):
                await self._forget(event)
                raise
            log.exception("handler failed (platform=%s)", event.platform)
            return [Reply(texts.INTERNAL_ERROR, error_card(texts.INTERNAL_ERROR))]
        typed = [event.text or ""] + [event.inputs.get(name, "") for name in TYPED_INPUTS]
        if any(mentions_email(t) for t in typed) and not any(mentions_email(r.text) for r in replies):
            # However e-mail comes up, the routine's answer comes too, besides what was asked.
            replies.append(Reply(texts.NO_EMAIL, no_email_card()))
        return replies

    async def _forget(self, event: Event) -> None:
        """Unrecord an event that will run again, so that it is not taken for a duplicate then."""
        try:
            await self.services.events.forget(event.dedupe_key)
        except Exception as exc:  # noqa: BLE001 - the original failure is the one to report
            # Remembered here instead; run again by another instance, it would count as a duplicate.
            log.warning("a failed event could not be unrecorded (platform=%s): %s", event.platform,
                        type(exc).__name__)
            self._unrecorded.add(event.dedupe_key)

    async def _command(self, event: Event) -> list[Reply]:
        assert event.text is not None
        parsed = parse_command(event.text)
        word, rest = parsed if parsed else ("", "")
        dispatch = self.router.resolve_command(word, rest)
        if dispatch.route is None:
            assert self.router.fallback is not None
            return await self.router.fallback(event, rest, self.services)
        return await dispatch.route.handler(event, rest, self.services)

    async def _card(self, event: Event) -> list[Reply]:
        dispatch = self.router.resolve_action(event.inputs)
        if dispatch.problem == "unknown":
            return [Reply(texts.UNKNOWN_ACTION, error_card(texts.UNKNOWN_ACTION))]
        if dispatch.problem == "stale":
            return [Reply(texts.STALE_CARD, error_card(texts.STALE_CARD))]
        if dispatch.problem == "invalid":
            return [Reply(texts.INVALID_FORM, error_card(texts.INVALID_FORM))]
        assert dispatch.route is not None
        return await dispatch.route.handler(CardSubmit(event, dispatch.argument), self.services)

