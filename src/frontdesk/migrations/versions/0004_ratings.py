"""visitor ratings of conversations (CSAT); an index for the reports

Revision ID: 0004_ratings
Revises: 0003
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import frontdesk.models.base


revision = '0004_ratings'
down_revision = '0004_phrases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_ratings',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('scale', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_ratings_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_conversation_ratings_operator_id_operators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_conversation_ratings_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_ratings'))
    )
    with op.batch_alter_table('conversation_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_ratings_operator_id'), ['operator_id'], unique=False)
        batch_op.create_index('ix_conversation_ratings_site_created', ['site_id', 'created_at'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_site_created', ['site_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_site_created')
    with op.batch_alter_table('conversation_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_ratings_site_created')
        batch_op.drop_index(batch_op.f('ix_conversation_ratings_operator_id'))
    op.drop_table('conversation_ratings')
