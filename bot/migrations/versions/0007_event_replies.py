"""inbound event replies: kept until posted, so a job run again after a crash sends them

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inbound_event", sa.Column("replies", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_event") as batch:
        batch.drop_column("replies")
