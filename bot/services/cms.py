"""Async client for the Cisco Meeting Server REST API: the calls the bot makes.

As the Cisco Meeting Server API Reference Guide describes it (cisco.com, CMS 3.x); the requests themselves (Basic
auth, form-encoded, XML answers, errors as ``<failureDetails>`` bodies) are ``bot/services/cms_transport.py``'s.
Exception texts and logs never carry credentials or a room's secret.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from yarl import URL

from bot.config import DEFAULT_WORKERS, ENV_PREFIX, ConfigError
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
from bot.services.cms_transport import CmsTransport
from bot.services.cms_xml import OBJECT_ID, object_id, way_of, xml_text, xml_total

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


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


class CmsClient(CmsTransport):
    """One CMS API account: its coSpaces, calls and users. Create it once, share it, ``await close()`` at shutdown."""

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
