"""Microsoft Teams: activities in on ``POST /api/messages``, the Agents SDK's connector client out.

The route does only what must come before Teams' answer (Teams delivers again after 15 s): the token, the activity
and a job in the inbound queue keyed on conversation id + activity id, then 200; workers do the rest (docs/teams.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import ClaimsIdentity
from pydantic import ValidationError
from yarl import URL

from bot.config import Settings
from bot.core import Actor, Conversation, Event, PersonKey, Reply
from bot.core.adapter import AdapterHost, HoldsPersonalNumber, InboundQueue
from bot.core.delivery import DeliveryError, DeliveryGone
from bot.core.inbound import TtlCache
from bot.logs import bind_request
from bot.metrics import INBOUND_REQUESTS
from bot.platforms.http import BodyRefused, read_body
from bot.platforms.teams import NAME, TeamsSettings
from bot.platforms.teams.activities import Address, TeamsInbound, inbound
from bot.platforms.teams.auth import authenticate
from bot.platforms.teams.config import CONNECTION, teams_config
from bot.platforms.teams.connector import Connector, Sleep
from bot.platforms.teams.replies import TeamsReplies

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
MAX_BODY_BYTES = 256 * 1024
MEMBER_CACHE_TTL = timedelta(minutes=10)
MEMBER_CACHE_SIZE = 1000


class TeamsAdapter:
    platform = NAME

    def __init__(self, settings: Settings, *, workers: int | None = None, sleep: Sleep = asyncio.sleep,
                 shutdown_grace: float = 10.0) -> None:
        self._config = teams_config(settings)
        connections = MsalConnectionManager(connections_configurations={CONNECTION: self._config.auth})
        self._connector = Connector(connections, validate_hosts=not self._config.anonymous, sleep=sleep)
        # Admins listed by user principal name: a person's UPN is asked of Teams, once a while.
        self._admin_upns = frozenset(a.casefold() for a in settings.admins if "@" in a)
        self._upns: TtlCache[str, str] = TtlCache(MEMBER_CACHE_TTL, MEMBER_CACHE_SIZE)
        self._workers = workers or TeamsSettings.of(settings).workers
        self._shutdown_grace = shutdown_grace
        self._host: AdapterHost | None = None
        self._replies: TeamsReplies | None = None
        self._queue: InboundQueue | None = None
        self._background: set[asyncio.Task[None]] = set()

    def install(self, app: web.Application, host: AdapterHost) -> None:
        self._host = host
        self._replies = TeamsReplies(self._connector, self._config.app_id, host.references)
        app.router.add_post(MESSAGES_PATH, self._receive)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    @property
    def ready(self) -> bool:
        """Started: Teams needs nothing read before the first activity (tokens come when replying)."""
        return self._queue is not None

    @property
    def host(self) -> AdapterHost:
        if self._host is None:
            raise RuntimeError("the Teams adapter is not installed")
        return self._host

    @property
    def replies(self) -> TeamsReplies:
        if self._replies is None:
            raise RuntimeError("the Teams adapter is not installed")
        return self._replies

    async def drain(self) -> None:
        """Wait until no accepted activity is pending or being handled (tests)."""
        if self._queue is not None:
            await self._queue.drain()
        await asyncio.gather(*self._background, return_exceptions=True)

    # -- lifecycle ------------------------------------------------------------------------

    async def _start(self, app: web.Application) -> None:
        # Jobs accepted before a restart are picked up now.
        self._queue = self.host.inbound(NAME, self._process, self._workers)
        self._queue.start()
        log.info("Teams endpoint %s (%s)", MESSAGES_PATH,
                 "anonymous requests accepted: local testing" if self._config.anonymous else "tokens required")

    async def _stop(self, app: web.Application) -> None:
        if self._queue is not None:
            await self._queue.stop(self._shutdown_grace)
        await asyncio.gather(*self._background, return_exceptions=True)

    # -- inbound (the replies go out through ``replies.py``) --------------------------------

    async def _receive(self, request: web.Request) -> web.Response:
        """Verify and queue; the answer never waits for the CMS or for Teams."""
        outcome, response = await self._answer(request)
        INBOUND_REQUESTS.labels(NAME, outcome).inc()
        return response

    async def _answer(self, request: web.Request) -> tuple[str, web.Response]:
        try:
            body = await read_body(request, limit=MAX_BODY_BYTES)
        except BodyRefused as refused:
            return refused.outcome, web.json_response({"error": refused.error}, status=refused.status)
        identity = await authenticate(request.headers.get("Authorization"), self._config.auth)
        if identity is None:
            return "unauthorized", web.json_response({"error": "unauthorized"}, status=401)
        try:
            activity = Activity.model_validate_json(body)
        except (ValidationError, ValueError):
            return "not_an_activity", web.json_response({"error": "not an activity"}, status=400)
        if not self._service_url_trusted(identity, activity):
            log.warning("Teams activity refused: its serviceUrl is not the one the token names, or not allowed")
            return "unauthorized", web.json_response({"error": "unauthorized"}, status=401)
        item = inbound(activity, anonymous=identity.allow_anonymous)
        if item is None:
            return "ignored", web.json_response({})  # typing, reactions, other updates: nothing to do
        content: list[str] = []  # what the person wrote, stored only with a job to handle
        if not self._config.allowlist.allows(item.address.tenant_id or None, None):  # "": none given
            log.info("Teams activity from a tenant outside DISTANSMOTE_ALLOWED_TEAMS_TENANT_IDS refused")
            payload: dict[str, Any] = {"refuse": item.without_content().payload()}
        elif item.installed:
            payload = {"installed": item.payload()}
        elif self.host.guard(item.content()):
            # Never into the queue: the dispatcher refuses it at once, without storing it.
            self._in_background(self.replies.deliver(item, await self.host.dispatcher.handle(self._event(item, None))))
            return "accepted", web.json_response({})
        else:
            payload, content = {"handle": item.payload()}, item.content()
        assert self._queue is not None
        bind_request(item.event_id)
        try:
            accepted = await self._queue.accept(item.event_id, payload, content=content)
        except HoldsPersonalNumber:
            log.warning("Teams activity not stored: something in it reads as a personal identity number")
            return "ignored", web.json_response({})
        if not accepted:
            return "unavailable", web.json_response({"error": "try again later"}, status=503)
        return "accepted", web.json_response({})

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Work that must not hold the answer to Teams, and has nothing to keep in the store."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _service_url_trusted(self, identity: ClaimsIdentity, activity: Activity) -> bool:
        """The token names the connector it came from; replies (with the bot's token) go there only."""
        if not activity.service_url:
            return True  # nothing will be sent anywhere
        if not self._connector.allowed(activity.service_url):
            return False
        claimed = identity.get_claim_value("serviceurl")
        return not claimed or _host(claimed) == _host(activity.service_url)

    async def _process(self, payload: Mapping[str, Any]) -> None:
        """One activity. A store failure escapes, so the job runs again later; replies that Teams
        keeps refusing end it as failed (:class:`GiveUp`)."""
        if "refuse" in payload:
            await self._refuse(TeamsInbound.from_payload(payload["refuse"]))
        elif "installed" in payload:
            await self._installed(TeamsInbound.from_payload(payload["installed"]))
        else:
            await self._handle(TeamsInbound.from_payload(payload["handle"]))

    async def _refuse(self, item: TeamsInbound) -> None:
        replies = await self.host.dispatcher.refuse_stranger(NAME, item.event_id)
        if replies:
            await self.replies.deliver(item, replies, to_group=True)

    async def _handle(self, item: TeamsInbound) -> None:
        upn = await self._upn(item)
        event = self._event(item, upn)
        replies = await self.host.dispatcher.handle(event)
        if item.is_direct:
            await self._remember_admin(upn, item.address)
        await self.replies.deliver(item, replies)
        await self.host.dispatcher.delivered(event)

    @staticmethod
    def _event(item: TeamsInbound, upn: str | None) -> Event:
        return Event(
            NAME, item.event_id, Actor(id=item.actor_id, name=item.actor_name, email=upn),
            Conversation(item.address.conversation_id, item.is_direct), text=item.text, inputs=item.inputs or {},
            # Only a 1:1 chat is a place to write to the person later.
            reference=item.address.dumps() if item.is_direct else None,
        )

    async def _installed(self, item: TeamsInbound) -> None:
        """The person added the app: from now on the bot may write to them 1:1 (reminders, alerts)."""
        await self.host.references.remember(PersonKey(NAME, item.actor_id), item.address.dumps())
        await self._remember_admin(await self._upn(item), item.address)

    async def _remember_admin(self, upn: str | None, personal: Address) -> None:
        """An admin listed by user principal name is written to (alerts) by that name."""
        if upn is not None and upn in self._admin_upns:
            await self.host.references.remember(_upn_key(upn), personal.dumps())

    async def _upn(self, item: TeamsInbound) -> str | None:
        """The sender's user principal name, when ``ADMINS`` lists any (Teams does not send it)."""
        if not self._admin_upns:
            return None
        now = self.host.clock.now()
        cached = self._upns.get(item.actor_id, now)
        if cached is not None:
            return cached or None
        address = item.address
        try:
            async with self.replies.client(address) as client:
                member = await self._connector.retrying("member lookup", lambda: client.get_conversation_member(
                    address.conversation_id, address.user_id))
        except DeliveryError as failure:
            log.warning("Teams member lookup failed (%s); the sender is not taken for an admin", failure.code)
            return None
        upn = (member.user_principal_name or "").casefold()
        self._upns.put(item.actor_id, upn, now)  # "" for a member without one: known, and not asked again
        return upn or None

    # -- messages the bot starts itself (through ``replies.py``) ----------------------------

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        """1:1 through the stored conversation reference; one attempt (the caller retries)."""
        await self.replies.send_direct(person, replies)

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        """An admin listed by Entra object id, or by user principal name, who has added the app or written 1:1."""
        wanted = identity.strip().casefold()
        key = _upn_key(wanted) if "@" in wanted else PersonKey(NAME, wanted)
        try:
            await self.send_direct(key, replies)
        except DeliveryGone as gone:
            if gone.code == "teams_no_reference":
                log.warning("a Teams admin has neither added the app nor written to the bot 1:1; no chat to write to")
            raise


def _upn_key(upn: str) -> PersonKey:
    return PersonKey(NAME, f"upn:{upn}")


def _host(url: str) -> str:
    try:
        return (URL(url).host or "").casefold()
    except ValueError:
        return ""

