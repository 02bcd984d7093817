"""greeting and holding phrases: the automatic holding line claimed once per waiting stretch
(conversations.assigned_at, conversations.auto_hold_seq) and the operators' phrase settings

Revision ID: 0005_phrases2
Revises: 0004_team
Create Date: 2026-11-30 12:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0005_phrases2'
down_revision = '0005_escalation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.add_column(sa.Column('assigned_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('auto_hold_seq', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'operator_phrase_settings',
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('spell_warn', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('operator_id'),
    )


def downgrade() -> None:
    op.drop_table('operator_phrase_settings')
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.drop_column('auto_hold_seq')
        batch_op.drop_column('assigned_at')
