"""notices: what the bot says on its own outside the reminders, stored and retried until delivered

Admin alerts and a person's notices (a creation or deletion that finished later) were sent once, best
effort: a 5xx dropped them. Now each is a row first, once per recipient and cause.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("platforms", sa.String(200), nullable=False),
        sa.Column("cause", sa.String(200), nullable=False),
        sa.Column("replies", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(64), nullable=True),
        sa.UniqueConstraint("recipient", "cause", name="uq_notice_recipient_cause"),
    )
    op.create_index("ix_notice_due", "notice", ["due_at"], postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_notice_due", "notice", postgresql_where=PENDING, sqlite_where=PENDING)
    op.drop_table("notice")
