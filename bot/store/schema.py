"""The store's schema: its column types and the tables of a meeting's life (SQLAlchemy 2 models); the
tables of queued and once-only work are in ``bot/store/queues.py``."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    false,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every back end (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The states of a job or reminder still to be done ("running" rows are leases that may end).
OPEN_STATES = ("pending", "running")
OPEN_SQL = "state IN ('pending', 'running')"


def in_open_states(column: Any) -> ColumnElement[bool]:
    """``column IN ('pending', 'running')`` written out: SQLite and PostgreSQL use a partial index
    on these states only when the query names them literally (bound values do not prove the
    index's condition), otherwise a claim scans the whole table and sorts what it found."""
    return column.in_([literal_column(f"'{state}'") for state in OPEN_STATES])


class Base(DeclarativeBase):
    pass


class MeetingState(enum.StrEnum):
    CREATED = "created"
    INVITED = "invited"
    ENDED = "ended"
    DELETED = "deleted"


# The states in which the meeting's room is on the CMS.
LIVE_STATES = (MeetingState.CREATED, MeetingState.INVITED, MeetingState.ENDED)


class Channel(enum.StrEnum):
    LINK = "link"
    MESSENGER = "messenger"
    PHONE = "phone"


class PatientJoins(enum.StrEnum):
    """Where the patient takes part: a room type chosen by staff, never patient data (0004)."""

    VIDEO_ROOM = "video_room"
    BROWSER = "browser"
    PHONE = "phone"


class UnitCounter(Base):
    """Last room number handed out per unit; only ever goes up, so names are never reused."""

    __tablename__ = "unit_counter"
    unit_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


class UsedCallId(Base):
    """Every call ID ever handed out; a call ID is never reused."""

    __tablename__ = "used_call_id"
    call_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    reserved_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


# ``Meeting.deleted_by`` (and the audit record's detail) when the deadline rule deleted the room.
AUTO_DELETE_RULE = "auto_delete_deadline"
# ... when the room was found gone from the CMS: its owner deleted it in Cisco Meeting.
CISCO_MEETING_RULE = "deleted_in_cisco_meeting"


class AskedFor:
    """What the person asked for with the new-meeting card: a room's creation records it before the
    CMS is asked, and the meeting carries it on."""

    # The new-meeting card's own id: a card submitted twice creates one room.
    request_key: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    creator_id: Mapped[str] = mapped_column(String(255), nullable=False)
    creator_name: Mapped[str] = mapped_column(String(255), nullable=False)
    unit: Mapped[str] = mapped_column(String(80), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    patient_joins: Mapped[str | None] = mapped_column(String(16))
    # The creator's Cisco Meeting user, the room's owner (its ``ownerJid``), when the CMS has one (0013).
    owner_jid: Mapped[str | None] = mapped_column(String(255))


class Meeting(AskedFor, Base):
    __tablename__ = "meeting"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    room_name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    uri: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    call_id: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    space_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    secret: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_by: Mapped[str | None] = mapped_column(String(255))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # "Ställ in mötet" (0014)

    recipients: Mapped[list[Recipient]] = relationship(
        back_populates="meeting", order_by="Recipient.position", lazy="selectin",
        cascade="all, delete-orphan",
    )

    __table_args__ = (Index("ix_meeting_creator_state", "creator_id", "state"),)


class Recipient(Base):
    __tablename__ = "recipient"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meeting.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    label: Mapped[str] = mapped_column(String(60), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Told of the meeting before it was moved: needs a new word (0014).
    retell: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    meeting: Mapped[Meeting] = relationship(back_populates="recipients")


class AuditRecord(Base):
    """Who did what to which room, when. Codes only: never free text from chat.

    History only, written only by appends: no routine reads it to decide what to do
    (``tests/services/test_ledger.py``)."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    meeting_id: Mapped[str | None] = mapped_column(String(36), index=True)
    space_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    detail: Mapped[str | None] = mapped_column(String(255))
    # The key of the event that made the change (0008), as history; ``OperationChange`` is the ledger.
    operation: Mapped[str | None] = mapped_column(String(255), index=True)

    __table_args__ = (Index("ix_audit_action", "action", "meeting_id"),)


class RoomCreation(AskedFor, Base):
    """A room the bot is about to create on the CMS, recorded before it asks (0005).

    Written before the first CMS call, and its number and call ID before each further one, so that
    a process that dies or a CMS that answers too late leaves a record to finish (adopt the room and
    record the meeting) or to give up. ``meeting_id`` is the id the meeting gets; the room carries it
    in its cdrTag. ``creating`` rows are leases, renewed while the work runs: one whose lease ran out
    is finished by the next pass (``MeetingService.finish_interrupted``), at once when its creator
    was told to wait for a message (``promised_at``), and not created again while a create of it
    that went unanswered may still be carried out (``doubt_since``).
    """

    __tablename__ = "room_creation"
    meeting_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    call_id: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # creating, created, abandoned
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    operation: Mapped[str | None] = mapped_column(String(255))  # the event that asked for it (0008)
    # (0010) When its creator was told that a message follows (a create queued, or in doubt) ...
    promised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # ... and when a create went out and got no answer: the room may appear on the CMS after that.
    doubt_since: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_room_creation_state", "state", "lease_until"),)


class RoomDeletion(Base):
    """A room the bot is about to delete on the CMS, recorded before it asks (0011): the mirror of
    ``RoomCreation``.

    One row per meeting, holding its newest deletion: ``deleting`` (intended; the CMS may or may
    not have deleted the room), ``withdrawn`` (the CMS refused or was never asked: the meeting stays
    live) or ``deleted``. A ``deleting`` row is a lease: one whose lease ran out had its process die
    or its CMS not answer, and the deletions pass finishes it in the name of ``actor``
    (``MeetingService.finish_interrupted_deletions``). The audit trail keeps each step as history.
    """

    __tablename__ = "room_deletion"
    meeting_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)  # who asked, or "system" for a rule
    detail: Mapped[str | None] = mapped_column(String(255))  # the rule, or "cancelled" and/or "calls_ended"
    operation: Mapped[str | None] = mapped_column(String(255))  # the event that asked for it
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # deleting, withdrawn, deleted
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_room_deletion_state", "state", "lease_until"),)


class Preference(Base):
    """The unit a person last used, to prefill the next card."""

    __tablename__ = "preference"
    actor_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_unit: Mapped[str] = mapped_column(String(80), nullable=False)


class Reminder(Base):
    __tablename__ = "reminder"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meeting.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))
    # When it was first due; retries move ``due_at``, lateness is measured from this (0002).
    planned_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False,
        default=lambda context: context.get_current_parameters()["due_at"],
    )

    __table_args__ = (
        # "running" rows are leases (see bot.services.reminders); both states are claimed.
        Index(
            "ix_reminder_due", "due_at",
            postgresql_where=text(OPEN_SQL), sqlite_where=text(OPEN_SQL),
        ),
    )


class ReminderAttempt(Base):
    """One row per send attempt, committed before the send (0002).

    More attempts logged than recorded on the reminder means a process died between sending and
    committing: the person may have got that reminder twice.
    """

    __tablename__ = "reminder_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reminder_id: Mapped[str] = mapped_column(ForeignKey("reminder.id"), nullable=False, index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
