"""proactive invitations: rules, their shown/accepted/dismissed records, manual invitations,
and the origin of a conversation (incoming / proactive, with the rule)

Revision ID: 0005_invitations
Revises: 0004_team
Create Date: 2026-11-30 12:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0005_invitations'
down_revision = '0005_phrases2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invitation_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('action', sa.JSON(), nullable=False),
        sa.Column('caps', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_invitation_rules_site_id', 'invitation_rules', ['site_id'])
    op.create_table(
        'invitation_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('visitor_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rule_id'], ['invitation_rules.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_invitation_events_rule_kind', 'invitation_events', ['rule_id', 'kind'])
    op.create_index('ix_invitation_events_visitor_id', 'invitation_events', ['visitor_id'])
    op.create_table(
        'manual_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('visitor_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('shown_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('accepted_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('dismissed_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_manual_invitations_visitor', 'manual_invitations', ['visitor_id', 'created_at'])
    # plain ADD COLUMN (no table copy on SQLite: the conversations table is the big one)
    op.add_column('conversations', sa.Column('origin', sa.String(length=16), nullable=False,
                                             server_default='incoming'))
    op.add_column('conversations', sa.Column('invitation_rule_id', sa.Integer(), nullable=True))
    op.add_column('conversations', sa.Column('invitation_name', sa.String(length=200), nullable=False,
                                             server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('invitation_name')
        batch.drop_column('invitation_rule_id')
        batch.drop_column('origin')
    op.drop_index('ix_manual_invitations_visitor', table_name='manual_invitations')
    op.drop_table('manual_invitations')
    op.drop_index('ix_invitation_events_visitor_id', table_name='invitation_events')
    op.drop_index('ix_invitation_events_rule_kind', table_name='invitation_events')
    op.drop_table('invitation_events')
    op.drop_index('ix_invitation_rules_site_id', table_name='invitation_rules')
    op.drop_table('invitation_rules')
