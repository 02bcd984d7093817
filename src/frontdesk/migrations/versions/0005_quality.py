"""the quality coach: scores per closed conversation and criterion, per-site coach settings

Revision ID: 0005_quality
Revises: 0004_team
Create Date: 2026-11-30 12:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0005_quality'
down_revision = '0005_invitations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversation_quality',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=True),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('applied_mask', sa.Integer(), server_default='0', nullable=False),
        sa.Column('passed_mask', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('closed_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('scored_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_conversation_quality_conversation_id_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'],
                                name=op.f('fk_conversation_quality_operator_id_operators'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
                                name=op.f('fk_conversation_quality_site_id_sites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_quality')),
    )
    with op.batch_alter_table('conversation_quality', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_quality_operator_id'), ['operator_id'], unique=False)
        batch_op.create_index('ix_conversation_quality_site_created', ['site_id', 'created_at'], unique=False)
    op.create_table(
        'quality_criteria',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('criterion', sa.String(length=32), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=True),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.Column('message_ids', sa.JSON(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation_quality.conversation_id'],
                                name=op.f('fk_quality_criteria_conversation_id_conversation_quality'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('conversation_id', 'criterion', name=op.f('pk_quality_criteria')),
    )
    op.create_table(
        'site_quality_settings',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_quality_settings_site_id_sites'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('site_id', name=op.f('pk_site_quality_settings')),
    )
    # the coach's "closed and not scored yet" scan
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_status_closed', ['status', 'closed_at'], unique=False)
    # the reports: a period's messages per kind and author, counted from the index alone (bench/reports.py)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_conversation_kind', ['conversation_id', 'kind', 'author_operator_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_conversation_kind')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_status_closed')
    op.drop_table('site_quality_settings')
    op.drop_table('quality_criteria')
    with op.batch_alter_table('conversation_quality', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_quality_site_created')
        batch_op.drop_index(batch_op.f('ix_conversation_quality_operator_id'))
    op.drop_table('conversation_quality')
