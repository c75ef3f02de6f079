"""The tables of work queued and done once: inbound events and jobs, conversation references,
notices, and the ledgers of changes made and daily runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.schema import OPEN_SQL, Base, UtcDateTime


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
            postgresql_where=text(OPEN_SQL), sqlite_where=text(OPEN_SQL),
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
