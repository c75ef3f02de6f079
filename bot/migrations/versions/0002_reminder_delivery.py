"""reminder delivery: planned time, lease state index, send-attempt log

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")
CLAIMABLE = sa.text("state IN ('pending', 'running')")


def upgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE reminder SET planned_at = due_at")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.alter_column("planned_at", existing_type=bot.store.schema.UtcDateTime(timezone=True), nullable=False)
        batch_op.drop_index("ix_reminder_pending_due", postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.create_index("ix_reminder_due", ["due_at"], unique=False,
                              postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE)

    op.create_table(
        "reminder_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reminder_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminder.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reminder_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_attempt_reminder_id"), ["reminder_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminder_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_attempt_reminder_id"))
    op.drop_table("reminder_attempt")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_due", postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE)
        batch_op.create_index("ix_reminder_pending_due", ["due_at"], unique=False,
                              postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.drop_column("planned_at")
