"""state out of the audit trail: deletion intents, the ledger of changes, the daily-run ledger

``room_deletion``: each meeting's newest deletion (intended, withdrawn or done), the mirror of
``room_creation``; the deletions pass selects the intents whose lease ran out. ``operation_change``:
each change an event made under its key, so that the event run again finds it made.
``daily_run``: the once-per-cluster jobs that ran, by local day. Each is filled from the marks the
audit trail held. The audit rows stay, as history: the code after this migration still appends the
same ones, so the downgrade drops the new tables and the code before it reads the same state from
the audit trail.

Revision ID: 0011
Revises: 0010
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The deletion marks of 0008 and the state each leaves the deletion in (bot.services.meetings).
MARKS = {"deleting": "deleting", "delete_withdrawn": "withdrawn", "deleted": "deleted"}
DELETION_GRACE = timedelta(minutes=2)

audit = sa.table(
    "audit", sa.column("id", sa.Integer()), sa.column("at", bot.store.schema.UtcDateTime()),
    sa.column("meeting_id", sa.String()), sa.column("actor", sa.String()), sa.column("action", sa.String()),
    sa.column("detail", sa.String()), sa.column("operation", sa.String()),
)
meeting = sa.table("meeting", sa.column("id", sa.String()))


def upgrade() -> None:
    room_deletion = op.create_table(
        "room_deletion",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.Column("operation", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", bot.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    op.create_index("ix_room_deletion_state", "room_deletion", ["state", "lease_until"])
    operation_change = op.create_table(
        "operation_change",
        sa.Column("operation", sa.String(length=255), nullable=False),
        sa.Column("change", sa.String(length=40), nullable=False),
        sa.Column("at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("operation", "change"),
    )
    daily_run = op.create_table(
        "daily_run",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("ran_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "day"),
    )
    connection = op.get_bind()
    # Each meeting's newest deletion mark is its deletion's state (what the deletions pass read).
    newest = (sa.select(sa.func.max(audit.c.id)).where(audit.c.action.in_(MARKS), audit.c.meeting_id.in_(
        sa.select(meeting.c.id))).group_by(audit.c.meeting_id))
    deletions = [
        {"meeting_id": mark.meeting_id, "actor": mark.actor, "detail": mark.detail, "operation": mark.operation,
         "state": MARKS[mark.action], "requested_at": mark.at,
         "lease_until": mark.at + DELETION_GRACE if mark.action == "deleting" else None,
         "finished_at": None if mark.action == "deleting" else mark.at}
        for mark in connection.execute(sa.select(audit).where(audit.c.id.in_(newest)))]
    if deletions:
        op.bulk_insert(room_deletion, deletions)
    changes = connection.execute(
        sa.select(audit.c.operation, audit.c.action, sa.func.min(audit.c.at))
        .where(audit.c.operation.is_not(None)).group_by(audit.c.operation, audit.c.action)).all()
    if changes:
        op.bulk_insert(operation_change, [{"operation": operation, "change": action, "at": at}
                                          for operation, action, at in changes])
    runs = connection.execute(
        sa.select(audit.c.action, audit.c.detail, sa.func.min(audit.c.at))
        .where(audit.c.actor == "system", audit.c.action.like("daily:%"), audit.c.detail.is_not(None))
        .group_by(audit.c.action, audit.c.detail)).all()
    if runs:
        op.bulk_insert(daily_run, [{"job": action.removeprefix("daily:"), "day": day, "ran_at": at}
                                   for action, day, at in runs])


def downgrade() -> None:
    op.drop_table("daily_run")
    op.drop_table("operation_change")
    op.drop_index("ix_room_deletion_state", table_name="room_deletion")
    op.drop_table("room_deletion")
