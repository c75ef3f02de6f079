"""Webex: one stored job run. The sender looked up and allowed, the message or card submission fetched and translated,
handed to the dispatcher, and the replies posted (the adapter, its route and lifecycle: ``route.py``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from webexpythonsdk.exceptions import ApiError

from bot.core import Actor, Event, Reply
from bot.core.adapter import AdapterHost, GiveUp
from bot.platforms.webex import NAME
from bot.platforms.webex.people import WebexPeople
from bot.platforms.webex.translate import (
    BotIdentity,
    WebexInbound,
    content,
    message_event,
    submit_event,
    target,
)
from bot.platforms.webex.transport import (
    WEBEX_ERRORS,
    Sleep,
    WebexClient,
    describe_error,
    retry_later,
    server_wait,
    transient,
)
from cards import texts

log = logging.getLogger(__name__)

# A reply that Webex does not take after the client's retries is tried again after these waits,
# while its job stays leased: handing the job back would run the handler again, and its effect
# (a room created) is recorded already. Then the job fails, never done.
REPLY_RETRY_WAITS = (15.0, 60.0)


class WebexJobs:
    """Runs the Webex adapter's stored jobs (``process``), once it knows its own identity (``me``)."""

    def __init__(self, client: WebexClient, host: AdapterHost, me: BotIdentity, people: WebexPeople, *,
                 sleep: Sleep) -> None:
        self.client = client
        self.host = host
        self.me = me
        self._people = people
        self._sleep = sleep

    async def process(self, payload: Mapping[str, Any]) -> None:
        """One event. Transient failures raise :class:`RetryLater`, so the job runs again later;
        the workers record it as failed for anything else that escapes."""
        await self._handle(WebexInbound(**payload))

    async def _handle(self, inbound: WebexInbound) -> None:
        try:
            sender = self._by_signed_email(inbound) or await self._people.actor(inbound.person_id)
        except WEBEX_ERRORS as exc:
            if transient(exc):
                raise retry_later("people lookup", exc) from None
            log.error("Webex sender could not be looked up: %s", describe_error(exc))
            return
        if not self._people.allowed(sender):
            await self._refuse(inbound, sender)
            return
        try:
            found = await self._event(inbound, sender)
        except WEBEX_ERRORS as exc:
            if transient(exc):
                raise retry_later(f"{inbound.resource} fetch", exc) from None
            log.error("Webex %s could not be fetched: %s", inbound.resource, describe_error(exc))
            await self._send({"toPersonId": sender.id}, Reply(texts.INTERNAL_ERROR))
            return
        if found is not None:
            event, submitted_card = found
            await self._deliver(event, await self.host.dispatcher.handle(event), submitted_card)
            await self.host.dispatcher.delivered(event)

    def _by_signed_email(self, inbound: WebexInbound) -> Actor | None:
        """The sender of a typed message whose signed ``personEmail`` is in an allowed domain.

        Saves a ``people/{id}`` call (a round trip to Webex, and its rate limit) for every new
        sender. Typed commands never need the display name: meetings, which record it, are only
        created from card submissions, and those carry no e-mail, so their sender is looked up.
        """
        email = inbound.person_email
        if inbound.resource != "messages" or email is None:
            return None
        if not self._people.allowlist.allows_email(email):
            return None
        return Actor(id=inbound.person_id, name="", email=email)

    async def _refuse(self, inbound: WebexInbound, sender: Actor) -> None:
        log.info("Webex person outside the allowed organisations refused")
        for reply in await self.host.dispatcher.refuse_stranger(NAME, inbound.data_id):
            await self._send({"toPersonId": sender.id}, reply)

    async def _event(self, inbound: WebexInbound, sender: Actor) -> tuple[Event, str | None] | None:
        """The neutral event, and the id of the card message that was submitted (if any)."""
        if inbound.resource == "messages":
            return await self._message_event(inbound, sender)
        return await self._submit_event(inbound, sender)

    async def _message_event(self, inbound: WebexInbound, sender: Actor) -> tuple[Event, None] | None:
        event = message_event(inbound, sender, await self.client.message(inbound.data_id), self.me)
        return None if event is None else (event, None)

    async def _submit_event(self, inbound: WebexInbound, sender: Actor) -> tuple[Event, str | None] | None:
        action = await self.client.attachment_action(inbound.data_id)
        if action.get("personId") != sender.id or not isinstance(action.get("messageId"), str):
            return None
        try:
            card_message: dict[str, Any] | None = await self.client.message(action["messageId"])
        except ApiError as exc:
            if exc.status_code != 404:
                raise
            card_message = None  # the card was replaced meanwhile; the handlers judge the submit
        if card_message is not None and card_message.get("personId") != self.me.id:
            log.warning("Webex card submission ignored: the card is not the bot's")
            return None
        event = submit_event(inbound, sender, action, card_message)
        # Only a card in the person's 1:1 space is theirs to replace; one in a group space is everyone's.
        return event, action["messageId"] if event.conversation.is_direct else None

    # -- outbound -------------------------------------------------------------------------

    async def _deliver(self, event: Event, replies: Sequence[Reply], submitted_card: str | None) -> None:
        """Post the replies in order. Webex cannot edit a message that has a card, so a reply
        that replaces the submitted card deletes the old one once the new one is there."""
        for reply in replies:
            posted = await self._send(target(event, reply), reply)
            if posted and reply.replaces_card and submitted_card is not None:
                await self._delete(submitted_card)
                submitted_card = None

    async def _send(self, to: Mapping[str, str], reply: Reply) -> str | None:
        """Post one reply. Refused for good: logged (never its text), the others still go. A transient
        failure is tried again after each of ``REPLY_RETRY_WAITS``, then the job fails (:class:`GiveUp`)."""
        for wait in (*REPLY_RETRY_WAITS, None):
            try:
                message = await self.client.post_message(**to, **content(reply))
            except WEBEX_ERRORS as exc:
                if not transient(exc):
                    log.error("Webex reply not delivered: %s", describe_error(exc))
                    return None
                if wait is None:
                    log.error("Webex reply not delivered, Webex kept failing: %s; the event failed",
                              describe_error(exc))
                    raise GiveUp from None
                wait = max(wait, server_wait(exc, cap=3600.0) or 0.0)
                log.warning("Webex reply not delivered yet: %s; again in %.0f s", describe_error(exc), wait)
                await self._sleep(wait)
            else:
                log.debug("Webex reply posted")
                return message.get("id")
        raise AssertionError("unreachable")

    async def _delete(self, message_id: str) -> None:
        try:
            await self.client.delete_message(message_id)
        except WEBEX_ERRORS as exc:
            log.warning("replaced Webex card could not be deleted: %s", describe_error(exc))
