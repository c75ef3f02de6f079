"""Webex: signed webhooks in, the Webex SDK out (``contracts/webex.md``).

``POST /webex/events`` does only what must come before the answer: size limit, signature on the
raw body, envelope, and a job written to the store (``bot.services.inbound_jobs``; a redelivery
adds none). Then it answers 200, however busy the bot is. A bounded set of workers takes the
jobs from the store: look up the sender, check the allowlist, fetch the message or card
submission by id, let the bot answer, post the replies. The SDK is synchronous, so every call
runs in a pool of threads as large as the set of workers, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from aiohttp import web
from webexpythonsdk import WebexAPI
from webexpythonsdk.exceptions import ApiError, MalformedResponse

from bot.app import BOT, SERVICES
from bot.config import ConfigError, Settings
from bot.core import Actor, Conversation, Event, Platform, Reply
from bot.dispatcher import Bot
from bot.logs import bind_request
from bot.metrics import INBOUND_REQUESTS, PLATFORM_SECONDS, timed
from bot.platforms.http import BODY_TIMEOUT_SECONDS, BodyRefused, parse_json, read_body
from bot.runtime import Services
from bot.services.inbound_jobs import GiveUp, InboundJobs, Job, JobWorkers, RetryLater
from bot.services.reminders import SEND_TIMEOUT, DeliveryError, DeliveryFailed, DeliveryGone
from cards import texts

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webex/events"
SIGNATURE_HEADER = "X-Spark-Signature"
MAX_BODY_BYTES = 64 * 1024  # envelopes carry ids only; anything this big is not Webex
MAX_TEXT_BYTES = 7439
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
WEBHOOK_EVENTS = (("messages", "created"), ("attachmentActions", "created"))
WEBHOOK_CHECK_SECONDS = 600.0
PERSON_CACHE_TTL = timedelta(minutes=10)
PERSON_CACHE_SIZE = 1000
# A reply that Webex does not take after the client's retries is tried again after these waits,
# while its job stays leased: handing the job back would run the handler again, and its effect
# (a room created) is recorded already. Then the job fails, never done.
REPLY_RETRY_WAITS = (15.0, 60.0)
_ACCEPTED = b'{"status":"accepted"}'
# Webex ids are base64 of "ciscospark://…" (about 100 characters). Anything else in a signed
# envelope (a NUL byte, a lone surrogate, an id of kilobytes) is ignored, never stored.
_WEBEX_ID = re.compile(r"[A-Za-z0-9+/=_-]{1,200}")
MAX_EMAIL = 254

# Everything a Webex call can fail with, after the client's own retries.
WEBEX_ERRORS = (ApiError, MalformedResponse, requests.RequestException)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


def webex_credentials(settings: Settings) -> tuple[str, str]:
    """The bot token and the webhook secret; without a secret nothing inbound can be trusted."""
    token = settings.webex_token.get_secret_value().strip() if settings.webex_token else ""
    secret = settings.webex_webhook_secret.get_secret_value().strip() if settings.webex_webhook_secret else ""
    if not token:
        raise ConfigError("DISTANSMOTE_WEBEX_TOKEN: required for Webex")
    if not secret:
        raise ConfigError("DISTANSMOTE_WEBEX_WEBHOOK_SECRET: required when DISTANSMOTE_WEBEX_TOKEN is set "
                          "(webhook signatures cannot be checked without it)")
    return token, secret


def require_allowlist(settings: Settings) -> None:
    if not settings.allowed_webex_org_ids and not settings.allowed_email_domains:
        raise ConfigError("DISTANSMOTE_ALLOWED_WEBEX_ORG_IDS or DISTANSMOTE_ALLOWED_EMAIL_DOMAINS: set at least "
                          "one when Webex is configured, otherwise anyone on Webex could use the bot")


def signature_valid(secret: bytes, body: bytes, signature: str | None) -> bool:
    """``X-Spark-Signature`` is hex HMAC-SHA1 of the exact bytes received."""
    # A hex digest is ASCII; a forged header may hold anything (bytes that are not UTF-8 arrive
    # as lone surrogates), and compare_digest refuses non-ASCII str.
    if not signature or not signature.isascii():
        return False
    expected = hmac.new(secret, body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


_COMMAND_AT = re.compile(r"/distansm(?:ö|o)te\b", re.IGNORECASE)


def strip_mention(text: str, names: Sequence[str]) -> str:
    """The command in a group-space message, without the @mention of the bot.

    Webex puts the mention into ``text`` as the bot's plain (first) name. A command written
    after other words still counts, as in other Webex bots.
    """
    command = unicodedata.normalize("NFC", text).strip()
    for name in sorted(filter(None, names), key=len, reverse=True):
        if command[:len(name)].casefold() == name.casefold():
            command = command[len(name):].lstrip(" ,:\u00a0")
            break
    found = _COMMAND_AT.search(command)
    return command[found.start():] if found and found.start() > 0 else command


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


def describe_error(exc: BaseException) -> str:
    """An error for the log: status and tracking id, never a message text or token."""
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code}, trackingId {exc.tracking_id}"
    return type(exc).__name__


def _retry_after(value: str | None, *, cap: float) -> float:
    """``Retry-After`` in seconds, bounded; a malformed value (seen in production) means 15 s."""
    try:
        seconds = float(value) if value is not None else 15.0
    except ValueError:
        seconds = 15.0
    if seconds != seconds:  # NaN
        seconds = 15.0
    return min(max(seconds, 1.0), cap)


def transient(exc: BaseException) -> bool:
    """Worth trying again later: rate limited or locked (429, 423), a 5xx, no connection or answer."""
    if isinstance(exc, ApiError):
        return exc.status_code in (423, 429) or exc.status_code >= 500
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def server_wait(exc: BaseException, *, cap: float) -> float | None:
    """The wait Webex asks for with a 429 or 423 (``Retry-After``), if it asked."""
    if isinstance(exc, ApiError) and exc.status_code in (423, 429):
        return _retry_after(exc.response.headers.get("Retry-After"), cap=cap)
    return None


def retry_later(what: str, exc: BaseException) -> RetryLater:
    """A transient Webex failure as the job queue takes it: the job runs again, after Retry-After."""
    return RetryLater(f"Webex {what}: {describe_error(exc)}", after=server_wait(exc, cap=3600.0))


def _environment_read_once(session: requests.Session, base_url: str) -> None:
    """Proxy and CA settings from the environment, read once instead of on every request.

    With ``trust_env`` requests re-reads the proxy variables (and looks for ~/.netrc) for each
    call: about a fifth of the CPU of a Webex call. The outcome is the same, NO_PROXY included.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


class WebexClient:
    """The synchronous SDK behind a bounded thread pool, with retries.

    Each worker thread gets its own ``WebexAPI``: the SDK's requests session is not known
    to be thread-safe. The SDK's own rate-limit wait is off (it would sleep in the thread
    without bound); 429 and 423 are retried here after ``Retry-After`` (at most
    ``max_retry_after``), 5xx and connection errors with exponential backoff.
    """

    def __init__(self, token: str, base_url: str, *, workers: int = 8, timeout: int = 20,
                 attempts: int = 6, max_retry_after: float = 30.0, backoff: float = 0.5,
                 sleep: Sleep = asyncio.sleep) -> None:
        self._token = token
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._attempts = attempts
        self._max_retry_after = max_retry_after
        self._backoff = backoff
        self._sleep = sleep
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webex")
        self._local = threading.local()
        self._apis: list[WebexAPI] = []
        self._lock = threading.Lock()

    async def call(self, what: str, operation: Callable[[WebexAPI], T]) -> T:
        """Run ``operation`` in a worker thread; retry what Webex says is worth retrying."""
        loop = asyncio.get_running_loop()
        attempt = 1
        while True:
            try:
                with timed(PLATFORM_SECONDS, platform=Platform.WEBEX, operation=what) as outcome:
                    try:
                        return await loop.run_in_executor(self._pool, self._run, operation)
                    except ApiError as exc:
                        outcome.value = str(exc.status_code)
                        raise
            except WEBEX_ERRORS as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None or attempt >= self._attempts:
                    raise
                log.warning("Webex %s failed with %s; retry %d in %.1f s", what, describe_error(exc), attempt, delay)
            await self._sleep(delay)
            attempt += 1

    def _retry_delay(self, exc: BaseException, attempt: int) -> float | None:
        if not transient(exc):
            return None
        wait = server_wait(exc, cap=self._max_retry_after)
        # A POST that timed out may have arrived: a rare duplicate beats a lost reply.
        return wait if wait is not None else min(self._backoff * 2 ** (attempt - 1), self._max_retry_after)

    def _run(self, operation: Callable[[WebexAPI], T]) -> T:
        api = getattr(self._local, "api", None)
        if api is None:
            api = WebexAPI(access_token=self._token, base_url=self._base_url,
                           single_request_timeout=self._timeout, wait_on_rate_limit=False)
            _environment_read_once(api._session._req_session, self._base_url)
            with self._lock:
                self._apis.append(api)
            self._local.api = api
        return operation(api)

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
        with self._lock:
            for api in self._apis:
                api._session._req_session.close()  # the SDK offers no close of its own
            self._apis.clear()

    # -- the calls the bot makes ------------------------------------------------------------

    async def me(self) -> dict[str, Any]:
        return await self.call("people/me", lambda api: api.people.me().to_dict())

    async def person(self, person_id: str) -> dict[str, Any]:
        return await self.call("people/{id}", lambda api: api.people.get(person_id).to_dict())

    async def message(self, message_id: str) -> dict[str, Any]:
        return await self.call("GET messages/{id}", lambda api: api.messages.get(message_id).to_dict())

    async def attachment_action(self, action_id: str) -> dict[str, Any]:
        return await self.call("attachment/actions/{id}",
                               lambda api: api.attachment_actions.get(action_id).to_dict())

    async def post_message(self, **fields: Any) -> dict[str, Any]:
        return await self.call("POST messages", lambda api: api.messages.create(**fields).to_dict())

    async def delete_message(self, message_id: str) -> None:
        await self.call("DELETE messages/{id}", lambda api: api.messages.delete(message_id))

    async def webhooks(self) -> list[dict[str, Any]]:
        return await self.call("GET webhooks", lambda api: [w.to_dict() for w in api.webhooks.list()])

    async def create_webhook(self, **fields: Any) -> dict[str, Any]:
        return await self.call("POST webhooks", lambda api: api.webhooks.create(**fields).to_dict())

    async def update_webhook(self, webhook_id: str, **fields: Any) -> dict[str, Any]:
        return await self.call("PUT webhooks/{id}", lambda api: api.webhooks.update(webhook_id, **fields).to_dict())


# -- webhook set-up --------------------------------------------------------------------------

async def setup_webhooks(client: WebexClient, target_url: str, secret: str) -> list[str]:
    """Create or repair the bot's two webhooks for ``target_url``; one line per webhook.

    Idempotent: an active webhook with our secret is left alone, an inactive one is
    reactivated, a missing one created. Webhooks for other URLs are never touched.
    """
    hooks = await client.webhooks()
    report = []
    for resource, event in WEBHOOK_EVENTS:
        ours = [h for h in hooks if (h.get("resource"), h.get("event")) == (resource, event)
                and h.get("targetUrl") == target_url]
        for hook in ours:
            report.append(await _repair(client, hook, secret))
        if not ours:
            await client.create_webhook(name=f"Distansmöte {resource}/{event}", targetUrl=target_url,
                                        resource=resource, event=event, secret=secret)
            report.append(f"created {resource}/{event} -> {target_url}")
    return report


async def setup_from_settings(settings: Settings, target_url: str) -> list[str]:
    """``distansmote webex setup``: :func:`setup_webhooks` with the configured token and secret."""
    token, secret = webex_credentials(settings)
    client = WebexClient(token, settings.webex_api_url, workers=1)
    try:
        return await setup_webhooks(client, target_url, secret)
    finally:
        await client.close()


async def reactivate_webhooks(client: WebexClient, secret: str) -> list[str]:
    """Reactivate the bot's disabled webhooks (Webex never does it by itself)."""
    hooks = await client.webhooks()
    return [await _repair(client, hook, secret) for hook in hooks
            if (hook.get("resource"), hook.get("event")) in WEBHOOK_EVENTS and hook.get("status") != "active"]


async def _repair(client: WebexClient, hook: Mapping[str, Any], secret: str) -> str:
    label = f"{hook['resource']}/{hook['event']} -> {hook['targetUrl']}"
    if hook.get("status") == "active" and hook.get("secret") == secret:
        return f"unchanged {label} (active)"
    await client.update_webhook(hook["id"], name=hook["name"], targetUrl=hook["targetUrl"],
                                secret=secret, status="active")
    if hook.get("status") != "active":
        return f"reactivated {label}"
    return f"updated the secret of {label}"


# -- the adapter -----------------------------------------------------------------------------

@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is on Webex: its id, and the names a mention of it may read as."""

    id: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Inbound:
    """The parts of a webhook envelope the bot uses; the content is fetched by ``data_id``."""

    resource: str
    data_id: str
    person_id: str
    actor_id: str | None
    person_email: str | None = None  # messages only; signed with the envelope


def _webex_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _WEBEX_ID.fullmatch(value) else None


def _email(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_EMAIL or "@" not in value:
        return None
    return value if value.isprintable() and not any(c.isspace() for c in value) else None


def parse_envelope(envelope: Any) -> Inbound | None:
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
    return Inbound(envelope["resource"], data_id, person_id, actor_id, _email(data.get("personEmail")))


def inbound_job(inbound: Inbound) -> Job:
    """The stored job for an event: keyed on what Webex redelivers, so a redelivery adds none.

    Not ``Event.dedupe_key``: the bot records that one itself when it handles the event.
    """
    return Job(f"{inbound.resource}:{inbound.data_id}", dict(vars(inbound)), attempts=1)


class WebexAdapter:
    """The Webex platform: the webhook route, its workers, and replies through the Webex API."""

    platform = Platform.WEBEX

    def __init__(self, settings: Settings, *, workers: int | None = None, webhook_check_seconds: float | None = None,
                 sleep: Sleep = asyncio.sleep, shutdown_grace: float = 10.0,
                 body_timeout: float = BODY_TIMEOUT_SECONDS) -> None:
        token, secret = webex_credentials(settings)
        require_allowlist(settings)
        self._secret = secret
        self._secret_key = secret.encode()
        self._allowed_orgs = frozenset(org_key(org) for org in settings.allowed_webex_org_ids)
        self._allowed_domains = frozenset(d.casefold().lstrip("@") for d in settings.allowed_email_domains)
        # One SDK thread per worker: a job never waits for a thread, and no more run than the pool.
        self._workers_size = workers or settings.webex_workers
        self.client = WebexClient(token, settings.webex_api_url, workers=self._workers_size, sleep=sleep)
        self._sleep = sleep
        # Reminders have their own retry schedule and give a send SEND_TIMEOUT: no retries here,
        # and a request timeout below it, so that no send finishes after it was given up.
        self._reminder_client = WebexClient(token, settings.webex_api_url, workers=settings.reminder_sends_per_platform,
                                            attempts=1, timeout=max(1, int(SEND_TIMEOUT) - 2))
        self._webhook_check_seconds = webhook_check_seconds
        self._shutdown_grace = shutdown_grace
        self._body_timeout = body_timeout
        self._watcher: asyncio.Task[None] | None = None
        self._jobs: InboundJobs | None = None
        self._workers: JobWorkers | None = None
        self._people: dict[str, tuple[datetime, Actor]] = {}
        self._me: BotIdentity | None = None
        self._bot: Bot | None = None
        self._services: Services | None = None

    def install(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self._receive)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    async def send_direct(self, person_id: str, reply: Reply) -> None:
        """Post ``reply`` 1:1 (reminders): one attempt; the reminder service retries on failure."""
        # Admins may be listed by e-mail address rather than person id.
        target = {"toPersonEmail": person_id} if "@" in person_id else {"toPersonId": person_id}
        try:
            await self._reminder_client.post_message(**target, **_content(reply))
        except WEBEX_ERRORS as exc:
            raise delivery_error(exc) from None

    async def drain(self) -> None:
        """Wait until no accepted event is pending in the store or being handled here (tests)."""
        if self._workers is not None:
            await self._workers.drain()

    @property
    def ready(self) -> bool:
        return self._me is not None

    @property
    def me(self) -> BotIdentity:
        if self._me is None:
            raise RuntimeError("the Webex adapter has not started")
        return self._me

    # -- lifecycle ------------------------------------------------------------------------

    async def _start(self, app: web.Application) -> None:
        self._bot, self._services = app[BOT], app[SERVICES]
        try:
            me = await self.client.me()
        except WEBEX_ERRORS as exc:
            raise ConfigError("DISTANSMOTE_WEBEX_TOKEN: the bot's identity could not be read from Webex "
                              f"({describe_error(exc)})") from None
        names = (me.get("displayName"), me.get("firstName"), me.get("nickName"))
        self._me = BotIdentity(me["id"], tuple(dict.fromkeys(n.strip() for n in names if n and n.strip())))
        log.info("Webex bot identity read; webhook endpoint %s", WEBHOOK_PATH)
        self._jobs = InboundJobs(self._services.engine, self._services.clock, Platform.WEBEX)
        # Started before anything else can fail: jobs left by a previous run are picked up now.
        self._workers = JobWorkers(self._jobs, self._process, size=self._workers_size)
        self._workers.start()
        if self._webhook_check_seconds:
            await self.check_webhooks()
            self._watcher = asyncio.create_task(self._watch_webhooks(self._webhook_check_seconds))

    async def _stop(self, app: web.Application) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self._workers is not None:
            await self._workers.stop(self._shutdown_grace)
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
        INBOUND_REQUESTS.labels(Platform.WEBEX, outcome).inc()
        return response

    async def _answer(self, request: web.Request) -> tuple[str, web.Response]:
        try:
            body = await read_body(request, limit=MAX_BODY_BYTES, timeout=self._body_timeout)
            if not signature_valid(self._secret_key, body, request.headers.get(SIGNATURE_HEADER)):
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

    async def _accept(self, inbound: Inbound) -> bool:
        """Store the job (a redelivery adds none); to a free worker at once, else it waits in the store."""
        assert self._jobs is not None and self._workers is not None
        job = inbound_job(inbound)
        bind_request(job.key)
        leased = self._workers.reserve()
        try:
            added = await self._jobs.add(job.key, job.payload, leased=leased)
        except Exception as exc:  # noqa: BLE001 - not stored means not accepted: Webex delivers it again
            # The error's name only: a database error may quote the row, and it has an e-mail address.
            log.error("Webex delivery could not be stored: %s", describe_error(exc))
            added = None
        if leased:
            self._workers.run(job if added else None)
        elif added:
            self._workers.notify()
        if added is not None:
            log.debug("Webex %s delivery accepted%s", inbound.resource, "" if added else " again (a redelivery)")
        return added is not None

    async def _process(self, job: Job) -> None:
        """One event. Transient failures raise :class:`RetryLater`, so the job runs again later;
        the workers record it as failed for anything else that escapes."""
        await self._handle(Inbound(**job.payload))

    async def _handle(self, inbound: Inbound) -> None:
        try:
            actor = self._by_signed_email(inbound) or await self._actor(inbound.person_id)
        except WEBEX_ERRORS as exc:
            if transient(exc):
                raise retry_later("people lookup", exc) from None
            log.error("Webex sender could not be looked up: %s", describe_error(exc))
            return
        if not self._allowed(actor):
            await self._refuse(inbound, actor)
            return
        try:
            found = await self._event(inbound, actor)
        except WEBEX_ERRORS as exc:
            if transient(exc):
                raise retry_later(f"{inbound.resource} fetch", exc) from None
            log.error("Webex %s could not be fetched: %s", inbound.resource, describe_error(exc))
            await self._send({"toPersonId": actor.id}, Reply(texts.INTERNAL_ERROR))
            return
        if found is not None:
            event, submitted_card = found
            assert self._bot is not None
            await self._deliver(event, await self._bot.handle(event), submitted_card)

    def _by_signed_email(self, inbound: Inbound) -> Actor | None:
        """The sender of a typed message whose signed ``personEmail`` is in an allowed domain.

        Saves a ``people/{id}`` call (a round trip to Webex, and its rate limit) for every new
        sender. Typed commands never need the display name: meetings, which record it, are only
        created from card submissions, and those carry no e-mail, so their sender is looked up.
        """
        email = inbound.person_email
        if inbound.resource != "messages" or email is None:
            return None
        if email.rpartition("@")[2].casefold() not in self._allowed_domains:
            return None
        return Actor(id=inbound.person_id, name="", email=email)

    async def _actor(self, person_id: str) -> Actor:
        """The sender as Webex knows them, cached for a while (``people/{id}`` is rate-limited)."""
        assert self._services is not None
        now = self._services.clock.now()
        cached = self._people.get(person_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        person = await self.client.person(person_id)
        emails = person.get("emails") or [None]
        actor = Actor(id=person["id"], name=person.get("displayName") or "", email=emails[0], org=person.get("orgId"))
        self._people.pop(person_id, None)
        self._people[person_id] = (now + PERSON_CACHE_TTL, actor)
        if len(self._people) > PERSON_CACHE_SIZE:  # dicts keep insertion order: the first is the oldest
            del self._people[next(iter(self._people))]
        return actor

    def _allowed(self, actor: Actor) -> bool:
        """The person's own org (never the envelope's: that is the webhook owner's) or e-mail domain."""
        if actor.org and org_key(actor.org) in self._allowed_orgs:
            return True
        domain = actor.email.rpartition("@")[2].casefold() if actor.email else ""
        return bool(domain) and domain in self._allowed_domains

    async def _refuse(self, inbound: Inbound, actor: Actor) -> None:
        log.info("Webex person outside the allowed organisations refused")
        assert self._services is not None
        # The key Event.dedupe_key would give: a redelivery gets no second refusal.
        if await self._services.events.first_time(f"{Platform.WEBEX}:{inbound.data_id}"):
            await self._send({"toPersonId": actor.id}, Reply(texts.NOT_ALLOWED))

    async def _event(self, inbound: Inbound, actor: Actor) -> tuple[Event, str | None] | None:
        """The neutral event, and the id of the card message that was submitted (if any)."""
        if inbound.resource == "messages":
            return await self._message_event(inbound, actor)
        return await self._submit_event(inbound, actor)

    async def _message_event(self, inbound: Inbound, actor: Actor) -> tuple[Event, None] | None:
        message = await self.client.message(inbound.data_id)
        text = message.get("text")
        if message.get("personId") != actor.id or not isinstance(text, str) or not text.strip():
            return None  # not from the sender we checked, or a file without text
        is_direct = message.get("roomType") == "direct"
        if not is_direct:
            text = strip_mention(text, self.me.names)
        conversation = Conversation(message["roomId"], is_direct=is_direct)
        return Event(Platform.WEBEX, inbound.data_id, actor, conversation, text=text), None

    async def _submit_event(self, inbound: Inbound, actor: Actor) -> tuple[Event, str | None] | None:
        action = await self.client.attachment_action(inbound.data_id)
        if action.get("personId") != actor.id or not isinstance(action.get("messageId"), str):
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
        is_direct = card_message is not None and card_message.get("roomType") == "direct"
        conversation = Conversation(action["roomId"], is_direct=is_direct)
        event = Event(Platform.WEBEX, inbound.data_id, actor, conversation, inputs=_inputs(action.get("inputs")))
        # Only a card in the person's 1:1 space is theirs to replace; one in a group space is everyone's.
        return event, action["messageId"] if is_direct else None

    # -- outbound -------------------------------------------------------------------------

    async def _deliver(self, event: Event, replies: Sequence[Reply], submitted_card: str | None) -> None:
        """Post the replies in order. Webex cannot edit a message that has a card, so a reply
        that replaces the submitted card deletes the old one once the new one is there."""
        for reply in replies:
            posted = await self._send(_target(event, reply), reply)
            if posted and reply.replaces_card and submitted_card is not None:
                await self._delete(submitted_card)
                submitted_card = None

    async def _send(self, target: Mapping[str, str], reply: Reply) -> str | None:
        """Post one reply. Refused for good: logged (never its text), the others still go. A transient
        failure is tried again after each of ``REPLY_RETRY_WAITS``, then the job fails (:class:`GiveUp`)."""
        for wait in (*REPLY_RETRY_WAITS, None):
            try:
                message = await self.client.post_message(**target, **_content(reply))
            except WEBEX_ERRORS as exc:
                if not transient(exc):
                    log.error("Webex reply not delivered: %s", describe_error(exc))
                    return None
                if wait is None:
                    log.error("Webex reply not delivered, Webex kept failing: %s; the event failed", describe_error(exc))
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


def delivery_error(exc: BaseException) -> DeliveryError:
    """A failed 1:1 send as the reminder service understands it (never with message text)."""
    if not isinstance(exc, ApiError):
        return DeliveryFailed(f"webex_{type(exc).__name__}")
    code = f"webex_http_{exc.status_code}"
    if exc.status_code in (400, 403, 404):
        return DeliveryGone(code)  # unknown person, or the organisation blocks the bot
    return DeliveryFailed(code, retry_after=server_wait(exc, cap=3600.0))


def _target(event: Event, reply: Reply) -> dict[str, str]:
    """Where a reply goes. Direct replies (the invitation) go to the person, never to a group."""
    if reply.direct or event.conversation.is_direct:
        return {"toPersonId": event.actor.id}
    return {"roomId": event.conversation.id}


def _content(reply: Reply) -> dict[str, Any]:
    content: dict[str, Any] = {"markdown": _fit(reply.text)}
    if reply.card is not None:
        content["attachments"] = [{"contentType": CARD_CONTENT_TYPE, "content": reply.card}]
    return content


def _fit(text: str) -> str:
    """Webex refuses text over 7439 bytes; cut at a character boundary rather than lose it."""
    encoded = text.encode()
    if len(encoded) <= MAX_TEXT_BYTES:
        return text
    return encoded[:MAX_TEXT_BYTES - 3].decode(errors="ignore") + "…"


def _inputs(raw: Any) -> dict[str, str]:
    """Card inputs as strings. Webex sends strings; anything else was forged through the API."""
    if not isinstance(raw, dict):
        return {}
    return {str(key): value if isinstance(value, str) else json.dumps(value)
            for key, value in raw.items() if isinstance(value, (str, int, float, bool))}
