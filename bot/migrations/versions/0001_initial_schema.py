"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
from alembic import op

import bot.store.schema

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', bot.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=True),
    sa.Column('space_id', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('inbound_event',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('received_at', bot.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('meeting',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('request_key', sa.String(length=300), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('creator_id', sa.String(length=255), nullable=False),
    sa.Column('creator_name', sa.String(length=255), nullable=False),
    sa.Column('unit', sa.String(length=80), nullable=False),
    sa.Column('room_name', sa.String(length=120), nullable=False),
    sa.Column('uri', sa.String(length=120), nullable=False),
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('space_id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=True),
    sa.Column('starts_at', bot.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', bot.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', bot.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id'),
    sa.UniqueConstraint('request_key'),
    sa.UniqueConstraint('room_name'),
    sa.UniqueConstraint('space_id'),
    sa.UniqueConstraint('uri')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_creator_state', ['creator_id', 'state'], unique=False)

    op.create_table('preference',
    sa.Column('actor_key', sa.String(length=300), nullable=False),
    sa.Column('last_unit', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('actor_key')
    )
    op.create_table('unit_counter',
    sa.Column('unit_key', sa.String(length=120), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit_key')
    )
    op.create_table('used_call_id',
    sa.Column('call_id', sa.String(length=16), nullable=False),
    sa.Column('reserved_at', bot.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('call_id')
    )
    op.create_table('recipient',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('sent_at', bot.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', bot.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipient_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('due_at', bot.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', bot.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index('ix_reminder_pending_due', ['due_at'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))



def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_pending_due', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_reminder_meeting_id'))

    op.drop_table('reminder')
    with op.batch_alter_table('recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipient_meeting_id'))

    op.drop_table('recipient')
    op.drop_table('used_call_id')
    op.drop_table('unit_counter')
    op.drop_table('preference')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_creator_state')

    op.drop_table('meeting')
    op.drop_table('inbound_event')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_meeting_id'))

    op.drop_table('audit')
