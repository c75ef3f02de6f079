"""The Cisco Meeting Server API's transport: Basic auth, form-encoded requests, XML answers, retries while CMS is
busy or unreachable, paging, and errors as ``<failureDetails>`` bodies, through the ``CmsGuard``; the calls
themselves are ``CmsClient``'s (``bot/services/cms.py``). Logs name the method, the path (never query values) and
the status, never credentials.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

from bot.metrics import CMS_SECONDS, status_class, timed
from bot.outbound import client_session
from bot.services.cms_errors import (
    CmsAuthError,
    CmsErrorStatus,
    CmsProtocolError,
    CmsUnanswered,
    CmsUnavailable,
)
from bot.services.cms_guard import CmsGuard
from bot.services.cms_xml import failure_of, parse_xml, xml_total

log = logging.getLogger(__name__)

# CMS pages are small; a much larger answer is not CMS and must not fill memory.
_MAX_BODY = 4 * 1024 * 1024


class CmsTransport:
    """One CMS API account's requests. Create it once, share it, ``await close()`` at shutdown."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 20.0,
        retry_for: float = 15.0,
        max_attempts: int = 5,
        backoff: float = 0.2,
        page_limit: int = 50,
        session: aiohttp.ClientSession | None = None,
        guard: CmsGuard | None = None,
    ) -> None:
        url = URL(base_url)
        if url.user or url.password:
            raise ValueError("the CMS URL must not contain credentials; pass username and password")
        if not base_url.endswith("/"):
            raise ValueError("the CMS URL must end with /api/v1/")
        self.base_url = url
        if ":" in username:
            raise ValueError("a CMS username cannot contain ':'")
        # Built by hand: aiohttp.BasicAuth is deprecated and its replacement is too new (3.14).
        credentials = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {credentials}"}
        # sock_connect raises ConnectionTimeoutError, which proves the request was never sent.
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self.timeout = timeout
        self.guard = guard or CmsGuard()
        self._retry_for = retry_for
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._page_limit = page_limit
        self._session = session
        self._owns_session = session is None

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    # -- transport -----------------------------------------------------------------------------

    async def _pages(self, path: str, item_tag: str, params: Mapping[str, str]) -> AsyncIterator[ET.Element]:
        # The server may cap a page below our limit: advance by what actually came back.
        offset = 0
        seen: set[str] = set()
        while True:
            page = {**params, "offset": str(offset), "limit": str(self._page_limit)}
            root = await self._get_xml(path, path.rsplit("/", 1)[-1], page)
            items = root.findall(item_tag)
            for item in items:
                # Paging can repeat an item when objects are deleted between pages.
                if item.get("id") not in seen:
                    seen.add(item.get("id", ""))
                    yield item
            offset += len(items)
            if not items or offset >= xml_total(root):
                return

    async def _get_xml(self, path: str, root_tag: str, params: Mapping[str, str] | None = None) -> ET.Element:
        root = (await self._request("GET", path, params=params)).root
        if root is None or root.tag != root_tag:
            found = "an empty body" if root is None else f"<{root.tag}>"
            raise CmsProtocolError(
                f"CMS answered GET {path} with {found} instead of <{root_tag}>; "
                "is the URL a CMS API address ending in /api/v1/?"
            )
        return root

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> _Answer:
        async with self.guard.turn():
            try:
                answer = await self._answered(method, path, params, data)
            except CmsUnavailable:
                self.guard.failed()
                raise
            self.guard.succeeded()
        return answer.raise_forfailure_of(method, path)

    async def _answered(
        self, method: str, path: str, params: Mapping[str, str] | None, data: Mapping[str, str] | None
    ) -> _Answer:
        """CMS's answer, retried while it is busy or unreachable; CmsUnavailable if it never came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_for
        url = self.base_url.join(URL(path))
        for attempt in range(1, self._max_attempts + 1):
            try:
                answer = await self._send(method, url, params, data)
            except aiohttp.ClientConnectorCertificateError:
                raise CmsUnavailable(
                    f"The TLS certificate of CMS at {url.host} is not trusted."
                ) from None
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                # The request never left: safe to repeat, also a POST.
                why = getattr(exc, "strerror", None) or type(exc).__name__
                problem = f"Could not connect to CMS at {url.host}:{url.port} ({why})"
            except (TimeoutError, aiohttp.ClientError) as exc:
                problem = f"CMS did not answer {method} {path} in time or dropped it ({type(exc).__name__})"
                if method == "POST":
                    # The server may have acted on it; a blind retry could clash with our own new space.
                    raise CmsUnanswered(f"{problem}; it may or may not have been carried out.") from None
            else:
                if answer.status != 503:
                    return answer
                problem = f"CMS is busy (HTTP 503) for {method} {path}"
            delay = self._backoff * 2 ** (attempt - 1)
            if attempt == self._max_attempts or loop.time() + delay > deadline:
                break
            log.warning("CMS %s %s: %s; retrying in %.1f s", method, path, problem, delay)
            await asyncio.sleep(delay)
        raise CmsUnavailable(f"{problem}, also after {attempt} attempts.")

    async def _send(
        self, method: str, url: URL, params: Mapping[str, str] | None, data: Mapping[str, str] | None
    ) -> _Answer:
        if self._session is None:
            self._session = client_session()  # the proxy and CA bundle of the environment
        with timed(CMS_SECONDS, method=method) as outcome:
            async with self._session.request(
                method, url, params=params, data=data, headers=self._headers,
                allow_redirects=False, timeout=self._timeout,
            ) as response:
                outcome.value = status_class(response.status)
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > _MAX_BODY:
                        raise CmsProtocolError(f"CMS answered {method} {url.path} with an oversized body.")
                log.debug("CMS %s %s -> %s", method, url.path, response.status)
                return _Answer(response.status, response.headers.copy(), bytes(body))


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    root: ET.Element | None = None

    def raise_forfailure_of(self, method: str, path: str) -> _Answer:
        """Return the answer with its parsed body, or raise the error it carries."""
        if 300 <= self.status < 400:
            raise CmsProtocolError(
                f"CMS answered {method} {path} with a redirect (HTTP {self.status}); "
                "the CMS URL is probably wrong (it should end in /api/v1/)."
            )
        if self.status == 401:
            raise CmsAuthError("CMS refused the login (HTTP 401): the API username or password is wrong.")
        root = parse_xml(self.body, method, path) if self.body.strip() else None
        # Some CMS answers carry failureDetails with status 200, so look whatever the status.
        failure = root if root is None or root.tag == "failureDetails" else root.find(".//failureDetails")
        if failure is not None:
            raise failure_of(failure, self.status)
        if not 200 <= self.status < 300:
            raise CmsErrorStatus(f"CMS answered {method} {path} with an unexpected HTTP {self.status}.")
        return _Answer(self.status, self.headers, self.body, root)
