"""What the bot keeps about people, and for how long (docs/privacy.md): the daily ``purge``, and ``export`` and
``erase`` for one person (``distansmote privacy export|erase``). People become placeholders that keep the county
report's figures whole; the audit trail is kept as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import PersonKey
from bot.store.queues import ConversationReference, InboundJob, Notice
from bot.store.schema import (
    LIVE_STATES,
    AuditRecord,
    Meeting,
    MeetingState,
    Preference,
    Recipient,
    Reminder,
    ReminderAttempt,
    RoomCreation,
    RoomDeletion,
)

# A person no longer named: a creator, and someone else who deleted the room (an admin; the colon
# keeps bot.services.report.deleted_how's "someone else's key").
GONE = "removed"
GONE_ADMIN = "removed:admin"


@dataclass(frozen=True)
class Purged:
    meetings: int
    room_creations: int
    conversation_references: int
    preferences: int
    room_deletions: int = 0
    notices: int = 0


def _forget_people(cutoff_meetings: ColumnElement[bool]) -> list[Any]:
    """The statements that make the meetings ``cutoff_meetings`` selects anonymous, in order."""
    meeting_ids = select(Meeting.id).where(cutoff_meetings).scalar_subquery()
    reminder_ids = select(Reminder.id).where(Reminder.meeting_id.in_(meeting_ids)).scalar_subquery()
    return [
        delete(ReminderAttempt).where(ReminderAttempt.reminder_id.in_(reminder_ids)),
        delete(Reminder).where(Reminder.meeting_id.in_(meeting_ids)),
        delete(Recipient).where(Recipient.meeting_id.in_(meeting_ids)),
        # Who deleted it, in the report's three kinds: the creator, someone else, or a rule (kept).
        update(Meeting).where(cutoff_meetings, Meeting.deleted_by == Meeting.creator_id).values(deleted_by=GONE),
        update(Meeting).where(cutoff_meetings, Meeting.deleted_by.contains(":")).values(deleted_by=GONE_ADMIN),
        update(Meeting).where(cutoff_meetings).values(
            creator_id=GONE, creator_name="", secret=None, owner_jid=None, request_key="removed:" + Meeting.id),
    ]


async def purge(sessions: async_sessionmaker, now: datetime, days: int,
                is_admin: Callable[[str], bool] = lambda key: False) -> Purged:
    """Forget the people of meetings deleted more than ``days`` ago, and whatever else of a person
    has gone unused as long (but the addresses of admins, for their alerts); the report's figures
    stay as they were."""
    cutoff = now - timedelta(days=days)
    old = (Meeting.state == MeetingState.DELETED) & (Meeting.deleted_at < cutoff) & (Meeting.creator_id != GONE)
    async with sessions() as session, session.begin():
        meetings = len(list(await session.scalars(select(Meeting.id).where(old))))
        for statement in _forget_people(old):
            await session.execute(statement)
        creations = await session.execute(delete(RoomCreation).where(
            RoomCreation.state != "creating", RoomCreation.created_at < cutoff))
        # Who asked for a deletion is kept until it is done, and as long as the meeting's people.
        deletions = await session.execute(delete(RoomDeletion).where(
            RoomDeletion.state != "deleting", RoomDeletion.finished_at < cutoff))
        # Someone with a live room may be written to: their address stays until the room is gone.
        live_creators = select(Meeting.creator_id).where(Meeting.state.in_(LIVE_STATES))
        unused = [key for key in await session.scalars(select(ConversationReference.person_key).where(
            ConversationReference.updated_at < cutoff, ConversationReference.person_key.not_in(live_creators)))
            if not is_admin(key)]
        references = await session.execute(delete(ConversationReference).where(
            ConversationReference.person_key.in_(unused)))
        recent_creators = select(Meeting.creator_id).where(Meeting.created_at >= cutoff)
        preferences = await session.execute(delete(Preference).where(Preference.actor_key.not_in(recent_creators)))
        told = await session.execute(delete(Notice).where(Notice.state != "pending", Notice.created_at < cutoff))
    return Purged(meetings, creations.rowcount, references.rowcount, preferences.rowcount, deletions.rowcount,
                  told.rowcount)


# -- one person's data (`distansmote privacy export|erase`) -----------------------------------------

class PersonHasLiveRooms(Exception):
    """Erasing now would leave live rooms without anyone to remind or tell."""


def _row(item: Any) -> dict[str, Any]:
    return {column.key: _plain(getattr(item, column.key)) for column in item.__table__.columns}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _mentions(person_key: str) -> ColumnElement[bool]:
    """Waiting webhooks of the person: their payload holds the sender's platform id."""
    platform_id = PersonKey.parse(person_key).id
    return InboundJob.payload.contains(json.dumps(platform_id)) if platform_id else InboundJob.key == ""


async def export_person(sessions: async_sessionmaker, person_key: str) -> dict[str, list[dict[str, Any]]]:
    """Every row that holds ``person_key``, table by table (the meetings with their recipients)."""
    async with sessions() as session:
        meetings = list(await session.scalars(select(Meeting).where(
            or_(Meeting.creator_id == person_key, Meeting.deleted_by == person_key)).order_by(Meeting.created_at)))
        return {
            "meeting": [_row(m) for m in meetings],
            "recipient": [_row(r) for m in meetings for r in m.recipients],
            "room_creation": await _rows(session, RoomCreation, RoomCreation.creator_id == person_key),
            "room_deletion": await _rows(session, RoomDeletion, RoomDeletion.actor == person_key),
            "conversation_reference": await _rows(session, ConversationReference,
                                                  ConversationReference.person_key == person_key),
            "preference": await _rows(session, Preference, Preference.actor_key == person_key),
            "notice": await _rows(session, Notice, Notice.recipient == person_key),
            "inbound_job": await _rows(session, InboundJob, _mentions(person_key)),
            "audit": await _rows(session, AuditRecord, AuditRecord.actor == person_key),
        }


async def _rows(session: AsyncSession, table: Any, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    return [_row(item) for item in await session.scalars(select(table).where(where))]


async def erase_person(sessions: async_sessionmaker, person_key: str) -> dict[str, int]:
    """Remove ``person_key`` from every table but the audit trail; how many rows each lost or had
    the person replaced. Refused while the person has a live room."""
    mine = Meeting.creator_id == person_key
    async with sessions() as session, session.begin():
        live = await session.scalar(select(Meeting.id).where(mine, Meeting.state.in_(LIVE_STATES)).limit(1))
        if live is not None:
            raise PersonHasLiveRooms(live)
        counts = {"meeting": len(list(await session.scalars(select(Meeting.id).where(
            or_(mine, Meeting.deleted_by == person_key)))))}
        # Rooms they deleted for someone else keep counting as deleted by an admin.
        await session.execute(update(Meeting).where(Meeting.deleted_by == person_key, ~mine)
                              .values(deleted_by=GONE_ADMIN))
        for statement in _forget_people(mine):
            await session.execute(statement)
        for name, statement in (
            ("room_creation", delete(RoomCreation).where(RoomCreation.creator_id == person_key)),
            # An open deletion (of someone else's room) stays, for the pass to finish it.
            ("room_deletion", delete(RoomDeletion).where(RoomDeletion.actor == person_key,
                                                         RoomDeletion.state != "deleting")),
            ("conversation_reference", delete(ConversationReference).where(
                ConversationReference.person_key == person_key)),
            ("preference", delete(Preference).where(Preference.actor_key == person_key)),
            ("notice", delete(Notice).where(Notice.recipient == person_key)),
            ("inbound_job", delete(InboundJob).where(_mentions(person_key))),
        ):
            counts[name] = (await session.execute(statement)).rowcount
    return counts
