"""Calls to the Bot Framework connector (the activity's ``serviceUrl``) through the SDK's client, which does not retry.

:meth:`Connector.call` makes one attempt and classifies the failure as Teams asks (msteams-docs
``bots/how-to/rate-limit.md``): retry 429, 412, 502 and 504, stop on 403 and 404; :meth:`Connector.retrying` adds
the retries for replies to a person who is waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import aiohttp
from microsoft_agents.hosting.core import (
    AuthenticationConstants,
    ClaimsIdentity,
    Connections,
    OutboundHostValidator,
)
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from bot.core.delivery import DeliveryError, DeliveryFailed, DeliveryGone
from bot.outbound import client_session

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

RETRIED = frozenset({412, 429, 502, 503, 504})
GONE = frozenset({403, 404})
CALL_TIMEOUT = 8.0  # seconds per call: below the delivery contract's SEND_TIMEOUT


def retry_after(headers: object, *, cap: float) -> float | None:
    """``Retry-After`` in seconds, bounded; ``None`` when absent or not a number of seconds."""
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


def classify(exc: BaseException, *, cap: float = 3600.0) -> DeliveryError:
    """A failed connector call in the terms of the delivery contract; never with message text."""
    if isinstance(exc, aiohttp.ClientResponseError):
        code = f"teams_http_{exc.status}"
        if exc.status in GONE:
            return DeliveryGone(code)
        return DeliveryFailed(code, retry_after=retry_after(exc.headers or {}, cap=cap))
    if isinstance(exc, DeliveryError):
        return exc
    return DeliveryFailed(f"teams_{type(exc).__name__}")


def _retryable(failure: DeliveryFailed) -> bool:
    """Network errors and the statuses Teams says to retry; not a refused request (400, 401, 413)."""
    status = failure.code.removeprefix("teams_http_")
    return not status.isdigit() or int(status) in RETRIED


class Connector:
    """The bot's way out to Teams: a connector client per conversation's service, with its token."""

    def __init__(self, connections: Connections, *, validate_hosts: bool, attempts: int = 5,
                 backoff: float = 0.5, max_retry_after: float = 30.0, sleep: Sleep = asyncio.sleep) -> None:
        self._connections = connections
        # In production the bot's token only ever goes to Microsoft's connector hosts.
        self._hosts = OutboundHostValidator(enabled=validate_hosts)
        self._attempts = attempts
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep

    def allowed(self, service_url: str) -> bool:
        return not self._hosts.enabled or self._hosts.is_allowed(service_url)

    @asynccontextmanager
    async def client(self, service_url: str, *, anonymous: bool,
                     app_id: str | None) -> AsyncIterator[ConnectorClientBase]:
        """A connector client for ``service_url``; anonymous ones send no token."""
        if not self.allowed(service_url):
            raise DeliveryGone("teams_service_url_not_allowed")
        identity = ClaimsIdentity() if anonymous else ClaimsIdentity(
            {AuthenticationConstants.AUDIENCE_CLAIM: app_id, AuthenticationConstants.APP_ID_CLAIM: app_id})
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                token = "" if anonymous else await self._connections.get_token_provider(
                    identity, service_url).get_access_token(AuthenticationConstants.AGENTS_SDK_SCOPE,
                                                            identity.get_token_scope())
        except DeliveryError:
            raise
        except Exception as exc:  # noqa: BLE001 - no token (Entra down, wrong secret) is a failed delivery
            log.error("Teams token could not be obtained: %s", type(exc).__name__)
            raise DeliveryFailed(f"teams_token_{type(exc).__name__}") from None
        # The SDK's factory makes the same client on a session that ignores the proxy variables.
        endpoint = service_url if service_url.endswith("/") else service_url + "/"
        client = TeamsConnectorClient(endpoint, token, session=client_session(base_url=endpoint))
        try:
            yield client
        finally:
            await client.close()

    async def call(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """One attempt within ``CALL_TIMEOUT``; a failure as ``DeliveryFailed`` or ``DeliveryGone``."""
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                return await operation()
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = classify(exc)
            log.warning("Teams %s failed: %s", what, failure.code)
            raise failure from None

    async def retrying(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """:meth:`call`, retried with backoff on 429, 412, 502, 503, 504 and network errors."""
        attempt = 1
        while True:
            try:
                return await self.call(what, operation)
            except DeliveryFailed as failure:
                if attempt >= self._attempts or not _retryable(failure):
                    raise
                delay = failure.retry_after
                if delay is None:
                    delay = min(self._backoff * 2 ** (attempt - 1), self._max_retry_after) * random.uniform(0.8, 1.2)
                delay = min(delay, self._max_retry_after)
            await self._sleep(delay)
            attempt += 1
