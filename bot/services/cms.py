"""Async client for the Cisco Meeting Server REST API.

As the Cisco Meeting Server API Reference Guide describes it (cisco.com, CMS 3.x): Basic auth,
form-encoded requests, XML answers, errors as ``<failureDetails>`` bodies. Exception texts and
logs never carry credentials or a room's secret; logs name the method, the path (never query
values) and the status.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from bot.config import DEFAULT_WORKERS, ENV_PREFIX, ConfigError
from bot.metrics import CMS_SECONDS, status_class, timed
from bot.outbound import client_session
from bot.services.cms_errors import CmsAuthError as CmsAuthError
from bot.services.cms_errors import CmsCrowded as CmsCrowded
from bot.services.cms_errors import CmsError as CmsError
from bot.services.cms_errors import CmsErrorStatus as CmsErrorStatus
from bot.services.cms_errors import CmsFailure as CmsFailure
from bot.services.cms_errors import CmsNotAsked as CmsNotAsked
from bot.services.cms_errors import CmsProtocolError as CmsProtocolError
from bot.services.cms_errors import CmsUnanswered as CmsUnanswered
from bot.services.cms_errors import CmsUnavailable as CmsUnavailable
from bot.services.cms_errors import DuplicateCallId as DuplicateCallId
from bot.services.cms_errors import DuplicateUri as DuplicateUri
from bot.services.cms_errors import SpaceNotFound as SpaceNotFound
from bot.services.cms_guard import CmsGuard
from bot.services.cms_xml import OBJECT_ID, failure_of, object_id, parse_xml, way_of, xml_text, xml_total

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

# CMS ids are lowercase GUIDs; anything else must never be pasted into a URL path.
# CMS pages are small; a much larger answer is not CMS and must not fill memory.
_MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class Space:
    id: str
    name: str
    uri: str
    call_id: str | None
    secret: str | None
    cdr_tag: str | None


@dataclass(frozen=True)
class SpaceSummary:
    id: str
    name: str
    uri: str | None
    call_id: str | None


def missing_settings(settings: Settings) -> list[str]:
    """The DISTANSMOTE_CMS_* variables that must still be set before CMS can be used."""
    values = {"cms_url": settings.cms_url, "cms_username": settings.cms_username,
              "cms_password": settings.cms_password}
    return [ENV_PREFIX + name.upper() for name, value in values.items() if not value]


class CmsClient:
    """One CMS API account. Create it once, share it, ``await close()`` at shutdown."""

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

    @classmethod
    def from_settings(
        cls, settings: Settings, *, retry_for: float = 15.0, max_attempts: int = 5, guard: CmsGuard | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> CmsClient:
        """``workers``: the platforms' workers that may wait for CMS at once, which size its bulkhead."""
        if missing := missing_settings(settings):
            raise ConfigError(f"CMS is not configured; set {', '.join(missing)}")
        assert settings.cms_url and settings.cms_username and settings.cms_password
        return cls(
            settings.cms_url,
            settings.cms_username,
            settings.cms_password.get_secret_value(),
            timeout=settings.cms_timeout_seconds,
            retry_for=retry_for,
            max_attempts=max_attempts,
            guard=guard or CmsGuard.for_workers(workers),
        )

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    # -- coSpaces ------------------------------------------------------------------------------

    async def create_space(self, *, name: str, uri: str, call_id: str, cdr_tag: str, owner_jid: str | None = None,
                           ) -> str:
        """Create a coSpace and return its id. Raises DuplicateUri/DuplicateCallId on a clash.

        ``owner_jid``: the CMS user whose Cisco Meeting app shows the room (and can delete it there).
        After a timeout CmsUnavailable does not say whether the space exists; look it up by uri.
        """
        data = {"name": name, "uri": uri, "callId": call_id, "cdrTag": cdr_tag}
        if owner_jid:
            data["ownerJid"] = owner_jid
        response = await self._request("POST", "coSpaces", data=data)
        location = response.headers.get("Location", "")
        space_id = URL(location).path.rstrip("/").rsplit("/", 1)[-1]
        if "/coSpaces/" not in location or not OBJECT_ID.fullmatch(space_id):
            raise CmsProtocolError("CMS created the coSpace but did not say its id in the Location header.")
        return space_id

    async def set_owner(self, space_id: str, owner_jid: str | None) -> None:
        """Give the coSpace to another CMS user (``None``: to nobody), as a room handed over."""
        await self._request("PUT", f"coSpaces/{object_id(space_id)}", data={"ownerJid": owner_jid or ""})

    async def get_space(self, space_id: str) -> Space:
        root = await self._get_xml(f"coSpaces/{object_id(space_id)}", "coSpace")
        return Space(
            id=root.get("id", space_id),
            name=xml_text(root, "name") or "",
            uri=xml_text(root, "uri") or "",
            call_id=xml_text(root, "callId"),
            secret=xml_text(root, "secret"),
            cdr_tag=xml_text(root, "cdrTag"),
        )

    async def delete_space(self, space_id: str) -> None:
        try:
            await self._request("DELETE", f"coSpaces/{object_id(space_id)}")
        except SpaceNotFound:
            log.info("CMS coSpace %s was already deleted", space_id)

    async def list_spaces(self, filter: str | None = None) -> list[SpaceSummary]:
        """All coSpaces whose name (and on CMS perhaps uri or callId) contains ``filter``."""
        params = {"filter": filter} if filter else {}
        return [
            SpaceSummary(
                id=item.get("id", ""),
                name=xml_text(item, "name") or "",
                uri=xml_text(item, "uri"),
                call_id=xml_text(item, "callId"),
            )
            async for item in self._pages("coSpaces", "coSpace", params)
        ]

    # -- calls ---------------------------------------------------------------------------------

    async def active_calls(self, space_id: str) -> int:
        """How many calls the space has on this Call Bridge (0 = no meeting in progress)."""
        root = await self._get_xml("calls", "calls", {"coSpaceFilter": object_id(space_id), "limit": "1"})
        return xml_total(root)

    async def user_jid(self, email: str) -> str | None:
        """The JID of the CMS user (imported from the directory) whose e-mail address or JID is
        ``email``, or None. Users are read-only over the API: the bot never creates one."""
        wanted = email.strip().casefold()
        # Which fields the CMS's filter searches is not documented: the address, then its local part.
        for term in dict.fromkeys([wanted, wanted.split("@", 1)[0]]):
            if not term:
                continue
            ids = [item.get("id", "") async for item in self._pages("users", "user", {"filter": term})]
            for user_id in ids:
                user = await self._get_xml(f"users/{object_id(user_id)}", "user")
                jid = xml_text(user, "userJid") or ""
                if wanted in (jid.casefold(), (xml_text(user, "email") or "").casefold()):
                    return jid
        return None

    async def ways_joined(self, space_id: str) -> Counter[str]:
        """How many are in the space's meeting now, by way (``video``, ``browser``, ``phone``).

        Read from the call legs (``GET calls/<id>/callLegs``, then each ``callLegs/<id>``); a leg's
        name and address (maybe a patient's) are read only to tell the way, never kept."""
        ways: Counter[str] = Counter()
        calls = [item.get("id", "") async for item in self._pages("calls", "call",
                                                                   {"coSpaceFilter": object_id(space_id)})]
        for call_id in calls:
            try:
                legs = [item.get("id", "") async for item in self._pages(
                    f"calls/{object_id(call_id)}/callLegs", "callLeg", {})]
                for leg_id in legs:
                    ways[way_of(await self._get_xml(f"callLegs/{object_id(leg_id)}", "callLeg"))] += 1
            except CmsFailure as exc:
                if exc.reason not in ("callDoesNotExist", "callLegDoesNotExist"):
                    raise  # ended or left meanwhile: not in the meeting any more
        return ways

    async def end_calls(self, space_id: str) -> int:
        """End every active call of the space (before a forced delete); returns how many were ended."""
        params = {"coSpaceFilter": object_id(space_id)}
        call_ids = [item.get("id", "") async for item in self._pages("calls", "call", params)]
        ended = 0
        for call_id in call_ids:
            try:
                await self._request("DELETE", f"calls/{object_id(call_id)}")
            except CmsFailure as exc:
                if exc.reason != "callDoesNotExist":
                    raise
                continue  # it ended by itself meanwhile
            ended += 1
        return ended

    async def check(self) -> None:
        """One cheap authenticated request; raises the typed errors when something is wrong."""
        await self._get_xml("coSpaces", "coSpaces", {"limit": "1"})

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
