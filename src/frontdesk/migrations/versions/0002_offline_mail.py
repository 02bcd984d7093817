"""offline mode and e-mail: site working hours, e-mail outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import frontdesk.models.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER TABLE … ADD most things in place; batch copies the table
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hours', sa.JSON(none_as_null=True), nullable=True))

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('to_addr', sa.String(length=320), nullable=False),
    sa.Column('to_name', sa.String(length=200), nullable=False),
    sa.Column('reply_to', sa.String(length=320), nullable=False),
    sa.Column('reply_to_name', sa.String(length=200), nullable=False),
    sa.Column('from_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('header_message_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_outbox_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_outbox_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_outbox_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_outbox_site_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_conversation_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('hours')
