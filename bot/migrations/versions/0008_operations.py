"""operations: an event whose run did not finish is run again, and each change is made once

``inbound_event.handled_at`` is set when the event's replies are stored; a record without it is an
earlier run that died or failed, and the event is handled again. The audit record and the room
creation carry the event's key (``operation``), so that the run again finds a change it made
before instead of making it twice. The audit trail gets an index for the deletions pass, which
reads it every 15 s.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inbound_event", sa.Column("handled_at", bot.store.schema.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE inbound_event SET handled_at = received_at")  # recorded before: handled
    op.add_column("audit", sa.Column("operation", sa.String(length=255), nullable=True))
    op.create_index("ix_audit_operation", "audit", ["operation"])
    op.create_index("ix_audit_action", "audit", ["action", "meeting_id"])  # the deletions pass, every 15 s
    op.add_column("room_creation", sa.Column("operation", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("room_creation") as batch:
        batch.drop_column("operation")
    op.drop_index("ix_audit_action", table_name="audit")
    op.drop_index("ix_audit_operation", table_name="audit")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("operation")
    with op.batch_alter_table("inbound_event") as batch:
        batch.drop_column("handled_at")
