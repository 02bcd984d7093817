"""visits and page views; visitors.visit_count

Revision ID: 0004_visits
Revises: 0003
Create Date: 2026-11-30 10:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0004_visits'
down_revision = '0004_ratings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('visitor_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('page_count', sa.Integer(), nullable=False),
        sa.Column('landing_url', sa.String(length=2048), nullable=False),
        sa.Column('referrer', sa.String(length=2048), nullable=False),
        sa.Column('source', sa.JSON(), nullable=False),
        sa.Column('device', sa.JSON(), nullable=False),
        sa.Column('location', sa.JSON(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_visits_site_id_sites'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], name=op.f('fk_visits_visitor_id_visitors'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    )
    op.create_index('ix_visits_visitor_started', 'visits', ['visitor_id', 'started_at'], unique=False)
    op.create_index('ix_visits_site_last_seen', 'visits', ['site_id', 'last_seen_at'], unique=False)
    op.create_table(
        'page_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('visitor_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('referrer', sa.String(length=2048), nullable=False),
        sa.Column('viewed_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_page_views_visit_id_visits'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], name=op.f('fk_page_views_visitor_id_visitors'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_views')),
    )
    op.create_index('ix_page_views_visit', 'page_views', ['visit_id', 'viewed_at'], unique=False)
    op.create_index(op.f('ix_page_views_visitor_id'), 'page_views', ['visitor_id'], unique=False)
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_count', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'operator_card_fields',
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('order', sa.JSON(), nullable=False),
        sa.Column('hidden', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'],
                                name=op.f('fk_operator_card_fields_operator_id_operators'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('operator_id', name=op.f('pk_operator_card_fields')),
    )


def downgrade() -> None:
    op.drop_table('operator_card_fields')
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_column('visit_count')
    op.drop_index(op.f('ix_page_views_visitor_id'), table_name='page_views')
    op.drop_index('ix_page_views_visit', table_name='page_views')
    op.drop_table('page_views')
    op.drop_index('ix_visits_site_last_seen', table_name='visits')
    op.drop_index('ix_visits_visitor_started', table_name='visits')
    op.drop_table('visits')
