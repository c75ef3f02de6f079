"""meeting changes: a moved meeting's recipients need a new word, a cancelled meeting says so, and
the people who have written to the bot can be found for a hand-over (name and address)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recipient", sa.Column("retell", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("meeting", sa.Column("cancelled_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True))
    op.add_column("conversation_reference", sa.Column("name", sa.String(255), nullable=True))
    op.add_column("conversation_reference", sa.Column("address", sa.String(255), nullable=True))
    op.create_index("ix_reference_address", "conversation_reference", ["platform", "address"])


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), as in 0013.
    op.drop_index("ix_reference_address", "conversation_reference")
    op.drop_column("conversation_reference", "address")
    op.drop_column("conversation_reference", "name")
    op.drop_column("meeting", "cancelled_at")
    op.drop_column("recipient", "retell")
