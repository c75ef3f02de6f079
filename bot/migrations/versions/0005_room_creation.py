"""room creations: a room the bot is about to create, recorded before the CMS is asked

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_creation",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("request_key", sa.String(length=300), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("creator_id", sa.String(length=255), nullable=False),
        sa.Column("creator_name", sa.String(length=255), nullable=False),
        sa.Column("unit", sa.String(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=16), nullable=False),
        sa.Column("starts_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("patient_joins", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", bot.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("meeting_id"),
        sa.UniqueConstraint("request_key"),
    )
    with op.batch_alter_table("room_creation", schema=None) as batch_op:
        batch_op.create_index("ix_room_creation_state", ["state", "lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("room_creation", schema=None) as batch_op:
        batch_op.drop_index("ix_room_creation_state")
    op.drop_table("room_creation")
