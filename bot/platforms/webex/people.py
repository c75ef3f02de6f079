"""Webex: the people it knows. A sender looked up (cached a while: ``people/{id}`` is rate-limited), whether the
allowlist lets them in, and the people search a meeting is handed over through (``bot.core.adapter.PeopleSearch``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from webexpythonsdk.exceptions import ApiError

from bot.clock import Clock
from bot.core import Actor
from bot.core.adapter import PeopleSearchUnavailable
from bot.core.inbound import Allowlist, TtlCache
from bot.platforms.webex.translate import actor, org_key
from bot.platforms.webex.transport import WEBEX_ERRORS, WebexClient, describe_error

log = logging.getLogger(__name__)

PERSON_CACHE_TTL = timedelta(minutes=10)
PERSON_CACHE_SIZE = 1000
PEOPLE_FOUND = 10  # people a search offers to hand a meeting over to


class WebexPeople:
    """People as Webex knows them, for the adapter's jobs and its people search."""

    def __init__(self, client: WebexClient, allowlist: Allowlist, clock: Clock) -> None:
        self.allowlist = allowlist
        self._client = client
        self._clock = clock
        self._people: TtlCache[str, Actor] = TtlCache(PERSON_CACHE_TTL, PERSON_CACHE_SIZE)

    def allowed(self, person: Actor) -> bool:
        return self.allowlist.allows(org_key(person.org) if person.org else None, person.email)

    async def actor(self, person_id: str) -> Actor:
        """The person as Webex knows them, cached for a while."""
        now = self._clock.now()
        cached = self._people.get(person_id, now)
        if cached is not None:
            return cached
        sender = actor(await self._client.person(person_id))
        self._people.put(person_id, sender, now)
        return sender

    async def find(self, wanted: str) -> Sequence[Actor]:
        """Webex's people search: by address, else by the start of a display name; only people the allowlist
        lets in."""
        try:
            found = await self._client.people(PEOPLE_FOUND, **{"email" if "@" in wanted else "displayName": wanted})
        except WEBEX_ERRORS as exc:
            log.warning("Webex people search failed: %s", describe_error(exc))
            raise PeopleSearchUnavailable from None
        return [person for person in map(actor, found) if self.allowed(person)]

    async def person(self, person_id: str) -> Actor | None:
        try:
            person = await self.actor(person_id)
        except WEBEX_ERRORS as exc:
            if isinstance(exc, ApiError) and exc.status_code in (400, 404):
                return None
            raise PeopleSearchUnavailable from None
        return person if self.allowed(person) else None
