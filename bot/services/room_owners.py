"""Whose Cisco Meeting a new room appears in: the creator's CMS user, found by their address."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.services.cms import CmsClient, CmsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Owner:
    """``jid`` None: the room is made without an owner; ``no_user`` says the CMS answered that it
    has no user with the address, ``unknown`` that it could not be asked."""

    jid: str | None
    no_user: bool = False
    unknown: bool = False


class RoomOwners:
    def __init__(self, cms: CmsClient, settings: Settings) -> None:
        self._cms = cms
        self._on = settings.cms_room_owner == "email"

    async def owner(self, address: str | None) -> Owner:
        """The CMS user with the staff member's e-mail address or UPN (``DISTANSMOTE_CMS_ROOM_OWNER``).
        A CMS that cannot say is never worth failing the room for: it is then made without an owner."""
        if not self._on:
            return Owner(None)
        if not address:
            return Owner(None, no_user=True)
        try:
            jid = await self._cms.user_jid(address)
        except CmsError as exc:
            log.warning("a room owner could not be looked up on the CMS: %s", type(exc).__name__)
            return Owner(None, unknown=True)
        return Owner(jid, no_user=jid is None)
