"""missed-chat escalation: per-site steps and delays, the step each conversation reached, missed_at

Revision ID: 0005_escalation
Revises: 0004_team
Create Date: 2026-11-30 12:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0005_escalation'
down_revision = '0004_team'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'site_escalation',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('site_id'),
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_step', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('missed_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('missed_at')
        batch_op.drop_column('escalation_step')
    op.drop_table('site_escalation')
