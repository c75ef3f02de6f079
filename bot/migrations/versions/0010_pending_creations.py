"""pending room creations: a create queued or unanswered stays pending and its creator is told later

``room_creation.promised_at``: when the creator was told that the room is being created and that a
message follows. ``room_creation.doubt_since``: when a create went out and got no answer, so that
the room may still appear on the CMS; the pass looks it up by its cdrTag until it is found or the
CMS has shown it absent for a while.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("room_creation", sa.Column("promised_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True))
    op.add_column("room_creation", sa.Column("doubt_since", bot.store.schema.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("room_creation") as batch:
        batch.drop_column("doubt_since")
        batch.drop_column("promised_at")
