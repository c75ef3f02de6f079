"""Conversation references: the address each platform needs to write to a person first.

The dispatcher stores the reference an adapter puts on each inbound event, with the person's
display name and address (a colleague is found by them for a hand-over); an adapter reads it
back when the bot writes first (a reminder, an admin alert). The reference is opaque here. A
reference that has not changed since this process last stored it is not written again: one
row write per person and change, not per event.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.core import PersonKey
from bot.store.engine import insert_on_conflict
from bot.store.queues import ConversationReference

KNOWN_SIZE = 10_000  # references this process remembers having stored
FOUND_MAX = 10  # colleagues a search offers

class ConversationReferences:
    def __init__(self, sessions: async_sessionmaker, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._known: OrderedDict[tuple[str, str], tuple[str, str | None, str | None]] = OrderedDict()

    async def remember(self, person: PersonKey, reference: str, *, name: str | None = None,
                       address: str | None = None) -> None:
        key = (person.platform, str(person)[:255])  # the stored form of the key
        stored = (reference, name[:255] if name else None, address.strip().casefold()[:255] if address else None)
        if self._known.get(key) == stored:
            self._known.move_to_end(key)
            return
        row = {"platform": key[0], "person_key": key[1], "reference": stored[0], "name": stored[1],
               "address": stored[2], "updated_at": self._clock.now()}
        async with self._sessions() as session, session.begin():
            statement = insert_on_conflict(session, ConversationReference).values(row)
            await session.execute(statement.on_conflict_do_update(
                index_elements=["platform", "person_key"],
                set_={column: getattr(statement.excluded, column)
                      for column in ("reference", "name", "address", "updated_at")}))
        self._known[key] = stored
        self._known.move_to_end(key)
        if len(self._known) > KNOWN_SIZE:
            self._known.popitem(last=False)

    async def find(self, person: PersonKey) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(ConversationReference.reference).where(
                    ConversationReference.platform == person.platform,
                    ConversationReference.person_key == str(person)[:255]))

    async def colleagues(self, platform: str, wanted: str) -> list[tuple[str, str, str | None]]:
        """``(person key, name, address)`` of the people on ``platform`` who have written to the bot, by
        address or by a part of their name."""
        wanted = " ".join(wanted.split()).casefold()
        if not wanted:
            return []
        named = ConversationReference.name.is_not(None)
        by = (ConversationReference.address == wanted if "@" in wanted
              else or_(func.lower(ConversationReference.name).contains(wanted, autoescape=True),
                       ConversationReference.address.startswith(wanted + "@", autoescape=True)))
        async with self._sessions() as session:
            rows = await session.execute(
                select(ConversationReference.person_key, ConversationReference.name, ConversationReference.address)
                .where(ConversationReference.platform == platform, named, by)
                .order_by(ConversationReference.name).limit(FOUND_MAX))
        return [(key, name, address) for key, name, address in rows]

    async def colleague(self, key: str) -> tuple[str, str | None] | None:
        """The name and address of a person who has written to the bot."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(ConversationReference.name, ConversationReference.address).where(
                    ConversationReference.platform == key.partition(":")[0], ConversationReference.person_key == key,
                    ConversationReference.name.is_not(None)))).first()
        return (row[0], row[1]) if row else None
