"""conversation references: where a platform can write to a person first

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_reference",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("person_key", sa.String(length=255), nullable=False),
        sa.Column("reference", sa.String(length=4000), nullable=False),
        sa.Column("updated_at", bot.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "person_key"),
    )


def downgrade() -> None:
    op.drop_table("conversation_reference")
