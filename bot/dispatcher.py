"""From a neutral event to replies: dedupe, the conversation reference, the privacy guard, command parsing, routing,
and the Swedish answer to every refusal (handlers raise :class:`~bot.core.problems.Refused`; it is worded here, once).

It never raises for a person's input, only when the store fails in a way a retry may cure
(``bot.store.transient.is_transient``): the adapter runs the event again. How an event is recorded handled, and its
replies kept until they are posted: docs/reliability.md, "What the bot promises".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Protocol

from bot.core import CardSubmit, Command, Event, Platform, Refused, Reply, Router, reads_only
from bot.core.adapter import FIRST_RUN, Guard, References
from bot.core.inbound import event_key, fold, parse_command
from cards import texts
from cards.messages import error_card, in_private, info_card, no_email_card, refusal

log = logging.getLogger(__name__)


# Card inputs that people type freely (the others are choices).
TYPED_INPUTS = ("unit", "label")
_EMAIL_WORDS = re.compile(r"(?<![a-z0-9])(e-?post|e-?mejl|mejl|e-?mail|mail)")


def mentions_email(text: str) -> bool:
    """``e-post``, ``epost``, ``mejl``, ``mail`` (and ``e-mail``, ``mejla``, ``e-postadress``…)."""
    return bool(_EMAIL_WORDS.search(fold(text)))


class HandledEvents(Protocol):
    async def begin(self, key: str) -> tuple[bool, str | None]:
        """Whether to handle ``key`` (``False`` if its handling finished before, also in another
        instance), and then the replies (JSON) kept with it and not posted since. Writes nothing."""
        ...

    async def finish(self, key: str, replies: str | None) -> None:
        """The event ``key`` is handled: recorded now, its replies (JSON) kept until they are posted."""
        ...

    def posted(self, key: str) -> None:
        """The event ``key`` is handled and its replies are posted: recorded with the next write."""
        ...


class EventDispatcher:
    """The dispatcher. ``context`` builds what handlers get with each event (once per event)."""

    def __init__(self, router: Router, *, context: Callable[[Event], Any], handled: HandledEvents,
                 references: References, guard: Guard, transient: Callable[[BaseException], bool]) -> None:
        self._router = router
        self._context = context
        self._handled = handled
        self._references = references
        self._guard = guard
        self._transient = transient

    async def delivered(self, event: Event) -> None:
        """The adapter has posted the replies of ``event``: a run again sends nothing."""
        self._handled.posted(event.dedupe_key)

    async def handle(self, event: Event) -> list[Reply]:
        # A queue job's first run is its event's first (``FIRST_RUN``): nothing to read.
        handle, kept = (True, None) if FIRST_RUN.get() else await self._handled.begin(event.dedupe_key)
        if not handle:
            if kept:  # handled, and the process died before the adapter had posted the replies
                log.info("replies of an event handled before sent again (platform=%s)", event.platform)
                return [Reply(**reply) for reply in json.loads(kept)]
            log.debug("duplicate event ignored (platform=%s)", event.platform)  # routine: Webex redelivers
            return []
        if event.reference is not None:
            await self._references.remember(event.person_key, event.reference, name=event.actor.name,
                                            address=event.actor.email)

        values = [event.text] if event.text is not None else [*event.inputs, *event.inputs.values()]
        if self._guard(values):
            log.info("input with a personal identity number refused (platform=%s)", event.platform)
            return [Reply(texts.PERSONAL_NUMBER_REFUSED, info_card(
                texts.PERSONAL_NUMBER_TITLE, texts.PERSONAL_NUMBER_REFUSED), direct=True)]

        try:
            replies, changed = await (self._card(event) if event.is_card_submit else self._command(event))
        except Refused as refused:
            replies, changed = self._refusal(event, refused), False
        except Exception as exc:
            if self._transient(exc):
                raise  # not recorded: the event runs again, here or in another instance
            log.exception("handler failed (platform=%s)", event.platform)
            # It may have changed something before it failed: recorded now, not run again.
            return await self._finish(event, [Reply(texts.INTERNAL_ERROR, error_card(texts.INTERNAL_ERROR))])
        typed = [event.text or ""] + [event.inputs.get(name, "") for name in TYPED_INPUTS]
        if any(mentions_email(t) for t in typed) and not any(mentions_email(r.text) for r in replies):
            # However e-mail comes up, the routine's answer comes too, besides what was asked.
            replies.append(Reply(texts.NO_EMAIL, no_email_card()))
        return await self._finish(event, replies) if changed else replies

    async def refuse_stranger(self, platform: Platform, event_id: str) -> list[Reply]:
        """Someone outside the allowlist: told once; a redelivery of the same event gets nothing."""
        # The key the event's own dedupe_key would have: the event is never handled after this.
        key = event_key(platform, event_id)
        handle, _ = await self._handled.begin(key)
        if not handle:
            return []
        await self._handled.finish(key, None)
        return [Reply(texts.NOT_ALLOWED)]

    async def _finish(self, event: Event, replies: list[Reply]) -> list[Reply]:
        """Record the event handled now, its replies kept for a run again before they are posted."""
        try:
            await self._handled.finish(event.dedupe_key, json.dumps([asdict(reply) for reply in replies]))
        except Exception as exc:  # noqa: BLE001 - the replies go out all the same
            # Run again (its job could not be marked done either), the handler finds its changes made.
            log.warning("event not recorded as handled (platform=%s): %s", event.platform, type(exc).__name__)
        return replies

    async def _command(self, event: Event) -> tuple[list[Reply], bool]:
        """The replies, and whether the handler may have changed something."""
        assert event.text is not None
        word, rest = parse_command(event.text) or ("", "")
        handler = self._router.resolve_command(word)
        return await handler(Command(event, rest), self._context(event)), not reads_only(handler)

    async def _card(self, event: Event) -> tuple[list[Reply], bool]:
        dispatch = self._router.resolve_action(event.inputs)
        if dispatch.problem is not None:
            return refusal(dispatch.problem), False
        assert dispatch.handler is not None
        return (await dispatch.handler(CardSubmit(event, dispatch.form), self._context(event)),
                not reads_only(dispatch.handler))

    @staticmethod
    def _refusal(event: Event, refused: Refused) -> list[Reply]:
        replies = refusal(refused.problem)
        return replies if event.is_card_submit else in_private(event, replies)  # a typed command
