"""room owner: the creator's Cisco Meeting user owns the room (``ownerJid``), when the CMS has one

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("room_creation", "meeting")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("owner_jid", sa.String(255), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy would drop ``meeting``, which the
    # recipients' and reminders' foreign keys refuse.
    for table in TABLES:
        op.drop_column(table, "owner_jid")
