"""Database engine, schema (SQLAlchemy 2 models) and migrations."""

from __future__ import annotations

import asyncio
import enum
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.pool import PoolResetState
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from bot.config import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"
Parameters = Callable[[Mapping[str, Any]], tuple[Any, ...]]
# At start-up: a database that has not answered by then is taken as a wrong or unreachable URL.
OPEN_SECONDS = 10.0
# The PostgreSQL advisory lock that migrations run under (its key is the bytes "dm:migra").
MIGRATION_LOCK = int.from_bytes(b"dm:migra", "big", signed=True)


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
_OPEN_SQL = "state IN ('pending', 'running')"


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


class OperationChange(Base):
    """Each change an event made, under the event's key (0011): the event run again finds it made.

    ``operation`` is the event's key (``bot.core.inbound.event_key``), ``change`` the audit action
    it made; one row per pair, so a change is recorded once however often its event runs.
    """

    __tablename__ = "operation_change"
    operation: Mapped[str] = mapped_column(String(255), primary_key=True)
    change: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DailyRun(Base):
    """A once-per-cluster job that ran on a local day (0011; ``bot.services.once``)."""

    __tablename__ = "daily_run"
    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # the local date, ISO
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class InboundEvent(Base):
    """Platform event ids seen, so a redelivered event changes nothing.

    ``handled_at`` (0008) is set once the handler has finished; a record without it is a run that
    died or failed, and the event is handled again (each change finds itself made by its
    ``operation``). ``replies`` (0007): the replies of a handled event (JSON) until the adapter has
    posted them, so that a job run again after a crash sends them instead of nothing. They hold no
    patient data: the privacy guard refused such input before any handler ran.
    """

    __tablename__ = "inbound_event"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    replies: Mapped[str | None] = mapped_column(Text, nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InboundJob(Base):
    """A verified webhook delivery waiting to be processed (0003; see bot.services.inbound_jobs).

    Written before the webhook is answered, so nothing accepted is lost. ``payload`` holds ids and
    the sender's e-mail address, never message text nor anything the privacy guard flags, and is
    cleared (``{}``) when the job finishes. ``running`` rows are leases: claimable again after
    ``lease_until``.
    """

    __tablename__ = "inbound_job"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    payload: Mapped[str] = mapped_column(String(2000), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index(
            "ix_inbound_job_open", "platform", "received_at",
            postgresql_where=text(_OPEN_SQL), sqlite_where=text(_OPEN_SQL),
        ),
        Index("ix_inbound_job_finished", "finished_at"),
    )


class ConversationReference(Base):
    """Where a platform can write to a person first (0006; see bot.services.references).

    ``reference`` is the adapter's own opaque address (a Webex person id, a Teams conversation
    reference), stored from the person's latest inbound event.
    """

    __tablename__ = "conversation_reference"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    reference: Mapped[str] = mapped_column(String(4000), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # The person's display name and address as the platform gave them, to find a colleague by (0014).
    name: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_reference_address", "platform", "address"),)


class Notice(Base):
    """A message the bot sends on its own outside the reminders: to a person (``admin`` false:
    ``recipient`` is a person key) or to an admin (``recipient`` as listed in DISTANSMOTE_ADMINS,
    tried on ``platforms`` in turn). Stored before the first attempt, retried until delivered,
    once per recipient and ``cause`` (0012; bot.services.notice_outbox)."""

    __tablename__ = "notice"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(255), nullable=False)
    admin: Mapped[bool] = mapped_column(Boolean, nullable=False)
    platforms: Mapped[str] = mapped_column(String(200), nullable=False)  # comma-separated
    cause: Mapped[str] = mapped_column(String(200), nullable=False)
    replies: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: [{"text", "card"}]
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("recipient", "cause", name="uq_notice_recipient_cause"),
        Index("ix_notice_due", "due_at", postgresql_where=text("state = 'pending'"),
              sqlite_where=text("state = 'pending'")),
    )


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
            postgresql_where=text(_OPEN_SQL), sqlite_where=text(_OPEN_SQL),
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


def create_engine(url: str) -> AsyncEngine:
    """The engine for ``url``; a URL the bot cannot use is a ConfigError that names the setting
    (never the URL: it may hold a password)."""
    try:
        return _create_engine(url)
    except ImportError:
        driver = make_url(url).get_driver_name()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: its driver {driver} is not installed; for PostgreSQL "
                          "write postgresql+asyncpg://... (the driver the bot installs)") from None
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: not a database URL the bot can use ({_reason(exc)})") from None


def _create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection: SQLite has one writer anyway, and this turns "database is locked"
        # into orderly waiting. Several instances need PostgreSQL.
        # The pool's own reset rolls back at every return: a hop to aiosqlite's thread each time,
        # most of a short read's CPU. Only a connection left in a transaction needs it.
        engine = create_async_engine(
            url, pool_size=1, max_overflow=0, connect_args={"timeout": 30}, pool_reset_on_return=None
        )

        @event.listens_for(engine.sync_engine, "reset")
        def _roll_back_if_open(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
            driver = record.driver_connection
            if state.asyncio_safe and (driver is None or driver.in_transaction):
                dbapi_connection.rollback()

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    # No pre-ping: it costs a round trip and about 0.2 ms of CPU per checkout, a third of a short
    # transaction. A connection the server dropped fails one statement instead, and SQLAlchemy then
    # replaces the whole pool; recycling keeps connections younger than typical firewall timeouts.
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


# SQLSTATE classes about the state of the server or the connection, not the statement:
# connection exception, transaction rollback (deadlock, serialisation), insufficient resources,
# object not in prerequisite state (lock timeout, database not accepting connections), operator
# intervention (shutdown, terminated backend), system error.
T = TypeVar("T")
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "55", "57", "58")
_SQLITE_BUSY_OR_LOCKED = (5, 6)


def is_transient(exc: BaseException) -> bool:
    """A database failure that the same work may not meet a little later: the connection lost or
    refused, the server restarting or overloaded, a deadlock, SQLite busy. Such work is retried;
    any other error is the work's own and would fail again."""
    for current in _causes(exc):
        if isinstance(current, (OSError, TimeoutError, PoolTimeout)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES:
            return True
        if getattr(current, "sqlite_errorcode", 0) & 0xFF in _SQLITE_BUSY_OR_LOCKED:
            return True
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, innermost last (the driver's error under SQLAlchemy's), each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.orig if isinstance(current, DBAPIError) else current.__cause__


async def sqlite_driver(connection: AsyncConnection) -> Any:
    """aiosqlite's own connection under ``connection``, in the same transaction. A statement sent
    there takes one hop to aiosqlite's thread where SQLAlchemy's execution takes four (cursor,
    execute, fetch, close): for the few statements every command runs. It takes driver values
    (:func:`bind_processors`) and ``?`` parameters, and answers plain tuples."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    return driver


async def sqlite_run(connection: AsyncConnection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` on the sqlite3 connection under ``connection``, in aiosqlite's thread: a whole
    transaction in one hop, where aiosqlite's public calls take one each (it has no public way to
    run a function there, so this uses its ``_execute``, pinned by requirements.lock and covered
    by every test that stores a webhook). ``work`` commits or rolls back what it began."""
    driver = await sqlite_driver(connection)
    return cast(T, await driver._execute(work, driver._conn))



async def sqlite_transaction(connection: AsyncConnection, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]],
                             query: tuple[str, Sequence[Any]] | None = None) -> list[Any]:
    """A whole transaction in one hop (:func:`sqlite_run`): each statement with each of its parameter
    sets, then ``query``, whose rows are returned; committed, or rolled back on any error."""
    def work(database: sqlite3.Connection) -> list[Any]:
        try:  # the driver begins the transaction at the first statement
            for sql, parameter_sets in statements:
                database.executemany(sql, parameter_sets)
            rows = database.execute(*query).fetchall() if query else []
            database.commit()
        except BaseException:
            database.rollback()
            raise
        return rows

    return await sqlite_run(connection, work)


def sqlite_statement(statement: ClauseElement, dialect: Dialect) -> tuple[str, Parameters]:
    """``statement`` compiled once to SQLite's own SQL, and a function from its bind values (by
    name; those the statement fixes itself are filled in) to the driver's ``?`` parameters, each
    converted as its column's type does: for statements run in one hop (:func:`sqlite_run`)."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = compiled.positiontup or []
    fixed = compiled.params
    convert = {name: compiled.binds[name].type.bind_processor(dialect) for name in names}

    def parameters(values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name in names:
            value = values[name] if name in values else fixed[name]
            process = convert[name]
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)

    return str(compiled), parameters

def bind_processors(table: Table, dialect: Dialect) -> dict[str, Callable[[Any], Any] | None]:
    """Each column's conversion of a value into the driver's (a datetime into SQLite's text)."""
    return {column.name: column.type.bind_processor(dialect) for column in table.columns}


def driver_values(processors: dict[str, Callable[[Any], Any] | None], row: dict[str, Any],
                  columns: Sequence[str]) -> list[Any]:
    values = []
    for column in columns:
        process = processors[column]
        values.append(process(row[column]) if process else row[column])
    return values


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def insert_on_conflict(session: AsyncSession, table: type[Base]) -> Any:
    """An INSERT that can take ON CONFLICT, in the session's dialect (PostgreSQL or SQLite)."""
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply all migrations (`distansmote db upgrade`, and at start-up).

    On PostgreSQL under a transaction advisory lock: replicas starting at once wait for the first,
    which migrates; the others then find the schema at head. PostgreSQL's DDL is transactional, so
    the lock lasts exactly as long as the migration.
    """
    await _migrate(engine, lambda config: command.upgrade(config, revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Undo migrations down to ``revision`` (`distansmote db downgrade`), under the same lock."""
    await _migrate(engine, lambda config: command.downgrade(config, revision))


async def _migrate(engine: AsyncEngine, step: Callable[[Config], None]) -> None:
    def run(connection: Connection) -> None:
        config = _alembic_config()
        config.attributes["connection"] = connection
        step(config)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        await connection.run_sync(run)


async def open_engine(url: str, *, within: float = OPEN_SECONDS) -> AsyncEngine:
    """The engine for ``url`` with the schema upgraded (start-up of ``serve`` and the other commands).

    A URL that is wrong, or a database that refuses or does not answer within ``within`` seconds,
    stops start-up with one line that names the setting (never the URL: it may hold a password).
    """
    engine = await reach(url, within=within)
    try:
        await upgrade(engine)  # no deadline: a long migration may take its time
    except (OSError, DBAPIError) as exc:
        await engine.dispose()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: the database could not be opened ({_reason(exc)})") from None
    return engine


async def reach(url: str, *, within: float = OPEN_SECONDS) -> AsyncEngine:
    """The engine for ``url`` once a connection has been made, the schema as it is; errors as
    :func:`open_engine`'s."""
    engine = create_engine(url)
    try:
        async with asyncio.timeout(within), engine.connect():
            pass
    except TimeoutError:
        await engine.dispose()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: the database did not answer within {within:.0f} s") from None
    except (OSError, DBAPIError) as exc:
        await engine.dispose()
        raise ConfigError(f"DISTANSMOTE_DATABASE_URL: the database could not be opened ({_reason(exc)})") from None
    return engine


def _reason(exc: BaseException) -> str:
    """The innermost cause, on one line: what the driver or the server said."""
    *_, exc = _causes(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def head_revision() -> str | None:
    """The migration the code needs."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


async def schema_revisions(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """The migration the database is at and the one the code needs (``distansmote check``)."""
    from alembic.runtime.migration import MigrationContext

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        at = await connection.run_sync(current)
    return at, head_revision()
