"""team work: panel tabs per node (presence across nodes), transfers between operators

Revision ID: 0004_team
Revises: 0003
Create Date: 2026-11-30 10:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0004_team'
down_revision = '0004_visits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'operator_presence',
        sa.Column('node_id', sa.String(length=64), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('sockets', sa.Integer(), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('node_id', 'operator_id'),
    )
    op.create_table(
        'transfers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('from_operator_id', sa.Integer(), nullable=True),
        sa.Column('to_operator_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['from_operator_id'], ['operators.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['to_operator_id'], ['operators.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_transfers_conversation_id', 'transfers', ['conversation_id'])
    op.create_index('ix_transfers_status_expires', 'transfers', ['status', 'expires_at'])


def downgrade() -> None:
    op.drop_index('ix_transfers_status_expires', table_name='transfers')
    op.drop_index('ix_transfers_conversation_id', table_name='transfers')
    op.drop_table('transfers')
    op.drop_table('operator_presence')
