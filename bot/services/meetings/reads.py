"""Reading meetings: one a person may act on, the live ones, the unit a person last used."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.core.problems import Problem
from bot.services.meetings.common import MeetingError, Person, allowed, looks_like_id
from bot.store.schema import LIVE_STATES, Meeting, Preference


class MeetingReads:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def get(self, meeting_id: str, person: Person) -> Meeting:
        """The meeting, if it exists and ``person`` may act on it (its creator or an admin)."""
        async with self._sessions() as session:
            meeting = await session.get(Meeting, meeting_id) if looks_like_id(meeting_id) else None
        return allowed(meeting, person)

    async def find_live_by_name(self, room: str, person: Person) -> Meeting:
        async with self._sessions() as session:
            meeting = await session.scalar(
                select(Meeting).where(func.lower(Meeting.room_name) == " ".join(room.split()).lower())
                .where(Meeting.state.in_(LIVE_STATES))
            )
        if meeting is None:
            raise MeetingError(Problem.NOT_FOUND)
        return await self.get(meeting.id, person)

    async def live_for(self, person: Person) -> list[Meeting]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Meeting).where(Meeting.creator_id == person.key)
                .where(Meeting.state.in_(LIVE_STATES)).order_by(Meeting.starts_at)
            )
            return list(rows)

    async def all_live(self) -> list[Meeting]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Meeting).where(Meeting.state.in_(LIVE_STATES)).order_by(Meeting.starts_at)
            )
            return list(rows)

    async def by_request(self, request_key: str) -> Meeting | None:
        """The meeting a new-meeting card made, if any."""
        async with self._sessions() as session:
            return await session.scalar(select(Meeting).where(Meeting.request_key == request_key))

    async def last_unit(self, actor_key: str) -> str | None:
        async with self._sessions() as session:
            preference = await session.get(Preference, actor_key)
            return preference.last_unit if preference else None
