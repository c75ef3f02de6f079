"""The Webex REST API through its synchronous SDK, in a bounded pool of threads, with retries.

Every call runs off the event loop (``asyncio`` never waits on ``requests``). What a failed 1:1
send means for the reminders is :func:`delivery_error` (``bot/core/delivery.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from webexpythonsdk import WebexAPI
from webexpythonsdk.exceptions import ApiError, MalformedResponse
from webexpythonsdk.response_codes import EXPECTED_RESPONSE_CODE
from webexpythonsdk.utils import check_response_code, extract_and_parse_json

from bot.core.adapter import RetryLater
from bot.core.delivery import DeliveryError, DeliveryFailed, DeliveryGone, DeliveryRefused
from bot.metrics import PLATFORM_SECONDS, timed
from bot.outbound import ca_bundle
from bot.platforms.webex import NAME

log = logging.getLogger(__name__)

# Everything a Webex call can fail with, after the client's own retries.
WEBEX_ERRORS = (ApiError, MalformedResponse, requests.RequestException)

T = TypeVar("T")
# A path the SDK's URL join and requests' quoting leave as it is (Webex ids are URL-safe base64).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/_=+-]+")
Sleep = Callable[[float], Awaitable[None]]


def describe_error(exc: BaseException) -> str:
    """An error for the log: status and tracking id, never a message text or token."""
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code}, trackingId {exc.tracking_id}"
    return type(exc).__name__


def retry_after(value: str | None, *, cap: float) -> float:
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
        return retry_after(exc.response.headers.get("Retry-After"), cap=cap)
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
    if bundle := ca_bundle():
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
                with timed(PLATFORM_SECONDS, platform=NAME, operation=what) as outcome:
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
        return await self.call("people/{id}", lambda api: self._request(api, "GET", f"people/{person_id}"))

    async def people(self, limit: int, **query: str) -> list[dict[str, Any]]:
        """``GET people`` by ``email`` or ``displayName`` (the start of a name): at most ``limit``."""
        return await self.call("GET people", lambda api: [
            person.to_dict() for person in itertools.islice(api.people.list(max=limit, **query), limit)])

    async def message(self, message_id: str) -> dict[str, Any]:
        return await self.call("GET messages/{id}", lambda api: self._request(api, "GET", f"messages/{message_id}"))

    async def attachment_action(self, action_id: str) -> dict[str, Any]:
        return await self.call("attachment/actions/{id}",
                               lambda api: self._request(api, "GET", f"attachment/actions/{action_id}"))

    async def post_message(self, **fields: Any) -> dict[str, Any]:
        body = {name: value for name, value in fields.items() if value is not None}  # as the SDK sends it
        return await self.call("POST messages", lambda api: self._request(api, "POST", "messages", body))

    def _request(self, api: WebexAPI, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``GET`` or ``POST`` of ``path`` as the SDK's ``RestSession`` makes it (the same headers,
        timeout, errors and parsed JSON), for the calls of every command and card submission, without
        requests' merge of the session's settings into each request: a third of a call's CPU. The
        request is a copy of one prepared once per thread. With cookies in the session (requests
        would merge them) or a path it would quote, the SDK makes the call."""
        session = api._session._req_session
        if session.cookies or not _PLAIN_PATH.fullmatch(path):
            if body is None:
                return dict(api._session.get(path))
            return dict(api._session.post(path, json=body))
        templates: dict[str, requests.PreparedRequest] = self._local.__dict__.setdefault("templates", {})
        template = templates.get(method)
        if template is None:
            template = templates[method] = session.prepare_request(requests.Request(method, self._base_url))
        prepared = template.copy()
        prepared.url = f"{template.url}{path}"
        if body is not None:
            prepared.body = json.dumps(body, allow_nan=False).encode()
            prepared.headers["Content-Length"] = str(len(prepared.body))
        response = session.send(prepared, timeout=self._timeout)
        check_response_code(response, EXPECTED_RESPONSE_CODE[method])
        return dict(extract_and_parse_json(response))

    async def delete_message(self, message_id: str) -> None:
        await self.call("DELETE messages/{id}", lambda api: api.messages.delete(message_id))

    async def webhooks(self) -> list[dict[str, Any]]:
        return await self.call("GET webhooks", lambda api: [w.to_dict() for w in api.webhooks.list()])

    async def create_webhook(self, **fields: Any) -> dict[str, Any]:
        return await self.call("POST webhooks", lambda api: api.webhooks.create(**fields).to_dict())

    async def update_webhook(self, webhook_id: str, **fields: Any) -> dict[str, Any]:
        return await self.call("PUT webhooks/{id}", lambda api: api.webhooks.update(webhook_id, **fields).to_dict())


def delivery_error(exc: BaseException) -> DeliveryError:
    """A failed 1:1 send as the reminder service understands it (never with message text)."""
    if not isinstance(exc, ApiError):
        return DeliveryFailed(f"webex_{type(exc).__name__}")
    code = f"webex_http_{exc.status_code}"
    if exc.status_code in (403, 404):
        return DeliveryGone(code)  # unknown person, or the organisation blocks the bot
    if exc.status_code == 400:
        return DeliveryRefused(code)  # this message, not the person: the others still go
    return DeliveryFailed(code, retry_after=server_wait(exc, cap=3600.0))
