"""bans: a visitor, an address or a subnet that may not chat on a site (issue 17)

Revision ID: 0005_bans
Revises: 0004_team
Create Date: 2026-11-30 12:10:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0005_bans'
down_revision = '0005_quality'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('value', sa.String(length=256), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author_name', sa.String(length=200), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('lifted_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.Column('lifted_by_name', sa.String(length=200), nullable=True),
        sa.Column('visitor_id', sa.Integer(), nullable=True),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['operators.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['lifted_by_id'], ['operators.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bans_site_created', 'bans', ['site_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_bans_site_created', table_name='bans')
    op.drop_table('bans')
