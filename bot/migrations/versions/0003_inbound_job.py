"""inbound jobs: verified webhook deliveries waiting in the store for a worker

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('pending', 'running')")


def upgrade() -> None:
    op.create_table(
        "inbound_job",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.String(length=2000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", bot.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("inbound_job", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_job_open", ["platform", "received_at"], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index("ix_inbound_job_finished", ["finished_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_job", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_job_finished")
        batch_op.drop_index("ix_inbound_job_open", postgresql_where=OPEN, sqlite_where=OPEN)
    op.drop_table("inbound_job")
