"""A colleague to hand a meeting over to: found by the platform's people search where it has one,
else among the people who have written to the bot there (``bot.services.references``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core import PersonKey, Platform, Problem, Refused
from bot.core.adapter import Adapter, PeopleSearch, PeopleSearchUnavailable
from bot.services.references import FOUND_MAX, ConversationReferences


@dataclass(frozen=True)
class Colleague:
    key: str  # the person key, ``"<platform>:<id>"``
    name: str
    address: str | None = None  # their e-mail address or UPN, where known: their Cisco Meeting user's


class Colleagues:
    def __init__(self, references: ConversationReferences, adapters: Iterable[Adapter]) -> None:
        self._references = references
        self._search = {str(adapter.platform): adapter for adapter in adapters if isinstance(adapter, PeopleSearch)}

    async def find(self, platform: str, wanted: str) -> list[Colleague]:
        """At most ``FOUND_MAX`` people on ``platform`` matching an address or a part of a name."""
        wanted = " ".join(wanted.split())
        search = self._search.get(platform)
        if search is None:
            return [Colleague(*row) for row in await self._references.colleagues(platform, wanted)]
        try:
            found = await search.find_people(wanted)
        except PeopleSearchUnavailable:
            raise Refused(Problem.PEOPLE_SEARCH_UNAVAILABLE) from None
        return [Colleague(str(PersonKey(Platform(platform), person.id)), person.name, person.email)
                for person in found if person.name][:FOUND_MAX]

    async def get(self, key: str) -> Colleague | None:
        """The colleague a card offered, if there is such a person (a submission can say anything)."""
        person = PersonKey.parse(key)
        search = self._search.get(person.platform)
        if search is None:
            known = await self._references.colleague(key)
            return Colleague(key, *known) if known else None
        try:
            actor = await search.person(person.id) if person.id else None
        except PeopleSearchUnavailable:
            raise Refused(Problem.PEOPLE_SEARCH_UNAVAILABLE) from None
        return Colleague(key, actor.name, actor.email) if actor and actor.name else None
