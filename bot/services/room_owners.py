"""Whose Cisco Meeting a new room appears in: the creator's CMS user, found by their address."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.services.cms import CmsClient, CmsError

log = logging.getLogger(__name__)


class RoomOwners:
    def __init__(self, cms: CmsClient, settings: Settings) -> None:
        self._cms = cms
        self._on = settings.cms_room_owner == "email"

    @property
    def looked_up(self) -> bool:
        """Whether rooms get an owner at all (``DISTANSMOTE_CMS_ROOM_OWNER``)."""
        return self._on

    async def jid(self, address: str | None) -> str | None:
        """The CMS user with the staff member's e-mail address or UPN; None when there is none, or
        the CMS could not say (the room is then made without an owner, as it is never worth failing for)."""
        if not self._on or not address:
            return None
        try:
            return await self._cms.user_jid(address)
        except CmsError as exc:
            log.warning("a room owner could not be looked up on the CMS: %s", type(exc).__name__)
            return None
