"""Webex: signed webhooks in, the Webex SDK out (https://developer.webex.com/docs/webhooks).

``POST /webex/events`` answers 200 once the job is stored, however busy the bot is; workers run it (``jobs.py``).
The SDK is synchronous, so its calls run in a pool of threads (``DISTANSMOTE_WEBEX_WORKERS``), never on the event
loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence

from aiohttp import web

from bot.config import ConfigError, Settings
from bot.core import Actor, PersonKey, Reply
from bot.core.adapter import AdapterHost, InboundQueue
from bot.core.delivery import SEND_TIMEOUT
from bot.core.inbound import Allowlist
from bot.logs import bind_request
from bot.metrics import INBOUND_REQUESTS, child
from bot.platforms.http import BODY_TIMEOUT_SECONDS, BodyRefused, parse_json, read_body
from bot.platforms.webex import NAME, WebexSettings
from bot.platforms.webex.jobs import WebexJobs
from bot.platforms.webex.people import WebexPeople
from bot.platforms.webex.translate import (
    BotIdentity,
    WebexInbound,
    content,
    job_key,
    org_key,
    parse_envelope,
)
from bot.platforms.webex.transport import (
    WEBEX_ERRORS,
    Sleep,
    WebexClient,
    delivery_error,
    describe_error,
)
from bot.platforms.webex.webhooks import reactivate_webhooks, webex_credentials

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webex/events"
SIGNATURE_HEADER = "X-Spark-Signature"
MAX_BODY_BYTES = 64 * 1024  # envelopes carry ids only; anything this big is not Webex
# About half of a command's time is spent off its SDK thread (the store, the dispatcher, the loop):
# with two jobs per thread the threads stay busy under load (measured: 186 → 264 replies a second
# offered 300, bench/webhooks.py). Each job still waits at most one thread's turn for its calls.
JOBS_PER_THREAD = 2
_ACCEPTED = b'{"status":"accepted"}'


def webex_allowlist(settings: Settings) -> Allowlist:
    """Who may use the bot on Webex: the person's own organisation, or their e-mail domain."""
    allowlist = Allowlist.of((org_key(org) for org in settings.allowed_webex_org_ids), settings.allowed_email_domains)
    if allowlist.empty:
        raise ConfigError("DISTANSMOTE_ALLOWED_WEBEX_ORG_IDS or DISTANSMOTE_ALLOWED_EMAIL_DOMAINS: set at least "
                          "one when Webex is configured, otherwise anyone on Webex could use the bot")
    return allowlist


def signature_valid(secret: bytes, body: bytes, signature: str | None) -> bool:
    """``X-Spark-Signature`` is hex HMAC-SHA1 of the exact bytes received."""
    # A hex digest is ASCII; a forged header may hold anything (bytes that are not UTF-8 arrive
    # as lone surrogates), and compare_digest refuses non-ASCII str.
    if not signature or not signature.isascii():
        return False
    expected = hmac.new(secret, body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


class WebexAdapter:
    """The Webex platform: the webhook route, its workers, and replies through the Webex API."""

    platform = NAME

    def __init__(self, settings: Settings, *, workers: int | None = None, webhook_check_seconds: float | None = None,
                 sleep: Sleep = asyncio.sleep, shutdown_grace: float = 10.0,
                 body_timeout: float = BODY_TIMEOUT_SECONDS) -> None:
        token, secret = webex_credentials(settings)
        self._allowlist = webex_allowlist(settings)
        self._secret = secret
        # During a rotation the webhooks still signed with the previous secret are accepted too.
        webex = WebexSettings.of(settings)
        previous = webex.webhook_secret_previous
        secrets = (secret, previous.get_secret_value().strip() if previous else "")
        self._secret_keys = tuple(key.encode() for key in secrets if key)
        threads = workers or webex.workers
        self._jobs_at_once = JOBS_PER_THREAD * threads
        self.client = WebexClient(token, webex.api_url, workers=threads, sleep=sleep)
        self._sleep = sleep
        # Reminders have their own retry schedule and give a send SEND_TIMEOUT: no retries here,
        # and a request timeout below it, so that no send finishes after it was given up.
        self._reminder_client = WebexClient(token, webex.api_url, workers=settings.reminder_sends_per_platform,
                                            attempts=1, timeout=max(1, int(SEND_TIMEOUT) - 2))
        self._webhook_check_seconds = webhook_check_seconds
        self._shutdown_grace = shutdown_grace
        self._body_timeout = body_timeout
        self._watcher: asyncio.Task[None] | None = None
        self._queue: InboundQueue | None = None
        self._me: BotIdentity | None = None
        self._host: AdapterHost | None = None
        self._people: WebexPeople | None = None

    def install(self, app: web.Application, host: AdapterHost) -> None:
        self._host = host
        self._people = WebexPeople(self.client, self._allowlist, host.clock)
        app.router.add_post(WEBHOOK_PATH, self._receive)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        """Post ``replies`` 1:1 (reminders): one attempt; the reminder service retries on failure.

        Webex can write to anyone by person id, and the person key holds it: Webex events carry
        no conversation reference (one would only repeat the id), so none is stored or read.
        """
        await self._post_direct({"toPersonId": person.id}, replies)

    async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
        """An admin listed by e-mail address is written to by address, one listed by id by id."""
        if "@" in identity:
            await self._post_direct({"toPersonEmail": identity}, replies)
        else:
            await self.send_direct(PersonKey(NAME, identity), replies)

    async def find_people(self, wanted: str) -> Sequence[Actor]:
        """Webex's people search (``bot.core.adapter.PeopleSearch``): by address, else by the start of
        a display name; only people the allowlist lets in."""
        return await self.people.find(wanted)

    async def person(self, person_id: str) -> Actor | None:
        return await self.people.person(person_id)

    async def _post_direct(self, to: Mapping[str, str], replies: Sequence[Reply]) -> None:
        try:
            for reply in replies:
                await self._reminder_client.post_message(**to, **content(reply))
        except WEBEX_ERRORS as exc:
            raise delivery_error(exc) from None

    async def drain(self) -> None:
        """Wait until no accepted event is pending in the store or being handled here (tests)."""
        if self._queue is not None:
            await self._queue.drain()

    @property
    def ready(self) -> bool:
        return self._me is not None

    @property
    def host(self) -> AdapterHost:
        if self._host is None:
            raise RuntimeError("the Webex adapter is not installed")
        return self._host

    @property
    def people(self) -> WebexPeople:
        if self._people is None:
            raise RuntimeError("the Webex adapter is not installed")
        return self._people

    @property
    def me(self) -> BotIdentity:
        if self._me is None:
            raise RuntimeError("the Webex adapter has not started")
        return self._me

    # -- lifecycle ------------------------------------------------------------------------

    async def _start(self, app: web.Application) -> None:
        try:
            me = await self.client.me()
        except WEBEX_ERRORS as exc:
            raise ConfigError("DISTANSMOTE_WEBEX_TOKEN: the bot's identity could not be read from Webex "
                              f"({describe_error(exc)})") from None
        names = (me.get("displayName"), me.get("firstName"), me.get("nickName"))
        self._me = BotIdentity(me["id"], tuple(dict.fromkeys(n.strip() for n in names if n and n.strip())))
        log.info("Webex bot identity read; webhook endpoint %s", WEBHOOK_PATH)
        # Started before anything else can fail: jobs left by a previous run are picked up now.
        jobs = WebexJobs(self.client, self.host, self._me, self.people, sleep=self._sleep)
        self._queue = self.host.inbound(NAME, jobs.process, self._jobs_at_once)
        self._queue.start()
        if self._webhook_check_seconds:
            await self.check_webhooks()
            self._watcher = asyncio.create_task(self._watch_webhooks(self._webhook_check_seconds))

    async def _stop(self, app: web.Application) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self._queue is not None:
            await self._queue.stop(self._shutdown_grace)
        await self.client.close()
        await self._reminder_client.close()

    async def check_webhooks(self) -> None:
        """Reactivate a webhook Webex disabled after failed deliveries; never raises."""
        try:
            for line in await reactivate_webhooks(self.client, self._secret):
                log.warning("Webex had disabled a webhook: %s", line)
        except WEBEX_ERRORS as exc:
            log.error("could not check the Webex webhooks: %s", describe_error(exc))

    async def _watch_webhooks(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            await self.check_webhooks()

    # -- inbound --------------------------------------------------------------------------

    async def _receive(self, request: web.Request) -> web.Response:
        """Verify, dedupe and store; the answer never waits for Webex or for other work."""
        outcome, response = await self._answer(request)
        child(INBOUND_REQUESTS, platform=NAME, outcome=outcome).inc()
        return response

    async def _answer(self, request: web.Request) -> tuple[str, web.Response]:
        try:
            body = await read_body(request, limit=MAX_BODY_BYTES, within=self._body_timeout)
            signature = request.headers.get(SIGNATURE_HEADER)
            if not any(signature_valid(key, body, signature) for key in self._secret_keys):
                log.warning("Webex delivery refused: missing or wrong signature")
                return "bad_signature", web.json_response({"error": "invalid signature"}, status=401)
            envelope = parse_json(body)
        except BodyRefused as refused:
            return refused.outcome, web.json_response({"error": refused.error}, status=refused.status)
        inbound = parse_envelope(envelope)
        outcome = "accepted"
        if inbound is None:
            log.info("Webex delivery ignored: not an event the bot handles")
            outcome = "ignored"
        elif self.me.id in (inbound.person_id, inbound.actor_id):  # the bot's own post would loop
            outcome = "own"
        elif not await self._accept(inbound):
            return "unavailable", web.json_response({"error": "try again later"}, status=503)
        return outcome, web.Response(body=_ACCEPTED, content_type="application/json")

    async def _accept(self, inbound: WebexInbound) -> bool:
        assert self._queue is not None
        key = job_key(inbound)
        bind_request(key)
        accepted = await self._queue.accept(key, vars(inbound))
        if accepted:
            log.debug("Webex %s delivery accepted", inbound.resource)
        return accepted
