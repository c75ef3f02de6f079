"""Conversation references: the address each platform needs to write to a person first.

The dispatcher stores the reference an adapter puts on each inbound event; an adapter reads it
back when the bot writes first (a reminder, an admin alert). The reference is opaque here. A
reference that has not changed since this process last stored it is not written again: one
row write per person and change, not per event.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.core import PersonKey
from bot.db import ConversationReference, insert_on_conflict

KNOWN_SIZE = 10_000  # references this process remembers having stored


class ConversationReferences:
    def __init__(self, sessions: async_sessionmaker, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._known: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def remember(self, person: PersonKey, reference: str) -> None:
        key = (person.platform, str(person)[:255])  # the stored form of the key
        if self._known.get(key) == reference:
            self._known.move_to_end(key)
            return
        row = {"platform": key[0], "person_key": key[1], "reference": reference, "updated_at": self._clock.now()}
        async with self._sessions() as session, session.begin():
            statement = insert_on_conflict(session, ConversationReference).values(row)
            await session.execute(statement.on_conflict_do_update(
                index_elements=["platform", "person_key"],
                set_={"reference": statement.excluded.reference, "updated_at": statement.excluded.updated_at}))
        self._known[key] = reference
        self._known.move_to_end(key)
        if len(self._known) > KNOWN_SIZE:
            self._known.popitem(last=False)

    async def find(self, person: PersonKey) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(ConversationReference.reference).where(
                    ConversationReference.platform == person.platform,
                    ConversationReference.person_key == str(person)[:255]))
