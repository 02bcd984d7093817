"""the reports' stored per-conversation message counts (conversation_stats, conversation_operator_stats),
filled for every closed conversation already there; an outbox index for the visitors' transcript cap

Revision ID: 0006_report_stats
Revises: 0005_departments
Create Date: 2026-11-30 15:00:00
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0006_report_stats'
down_revision = '0005_departments'
branch_labels = None
depends_on = None

# the same statements as actions/reports.py refresh_stats, for every closed conversation (frozen here)
_FILL = """
INSERT INTO conversation_stats (conversation_id, site_id, created_at, last_seq, visitor_messages, operator_messages,
                                computed_at)
SELECT c.id, c.site_id, c.created_at, c.last_seq,
       SUM(CASE WHEN m.kind = 'visitor' THEN 1 ELSE 0 END), SUM(CASE WHEN m.kind = 'operator' THEN 1 ELSE 0 END), :now
FROM conversations c
LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq <= c.last_seq AND m.kind IN ('visitor', 'operator')
WHERE c.status = 'closed' AND c.last_seq > 0
GROUP BY c.id, c.site_id, c.created_at, c.last_seq"""
_FILL_OPERATORS = """
INSERT INTO conversation_operator_stats (conversation_id, operator_id, site_id, created_at, messages)
SELECT s.conversation_id, m.author_operator_id, s.site_id, s.created_at, COUNT(*)
FROM conversation_stats s JOIN messages m ON m.conversation_id = s.conversation_id AND m.seq <= s.last_seq
WHERE m.kind = 'operator' AND m.author_operator_id IS NOT NULL
GROUP BY s.conversation_id, m.author_operator_id, s.site_id, s.created_at"""


def upgrade() -> None:
    op.create_table(
        'conversation_stats',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.Column('visitor_messages', sa.Integer(), nullable=False),
        sa.Column('operator_messages', sa.Integer(), nullable=False),
        sa.Column('computed_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_conversation_stats_conversation_id_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_conversation_stats_site_id_sites'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_stats')),
    )
    with op.batch_alter_table('conversation_stats', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_stats_site_created', ['site_id', 'created_at'], unique=False)
    op.create_table(
        'conversation_operator_stats',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('messages', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation_stats.conversation_id'],
                                name=op.f('fk_conversation_operator_stats_conversation_id_conversation_stats'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'],
                                name=op.f('fk_conversation_operator_stats_operator_id_operators'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_conversation_operator_stats_site_id_sites'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('conversation_id', 'operator_id', name=op.f('pk_conversation_operator_stats')),
    )
    with op.batch_alter_table('conversation_operator_stats', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_operator_stats_site_created', ['site_id', 'created_at'], unique=False)
    # the per-site hourly cap of the visitors' own transcripts from the widget (actions/transcripts.py)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_site_kind_created', ['site_id', 'kind', 'created_at'], unique=False)
    bind = op.get_bind()
    now = sa.bindparam('now', type_=UTCDateTime())
    bind.execute(sa.text(_FILL).bindparams(now), {'now': datetime.now(UTC)})
    bind.execute(sa.text(_FILL_OPERATORS))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_site_kind_created')
    with op.batch_alter_table('conversation_operator_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_operator_stats_site_created')
    op.drop_table('conversation_operator_stats')
    with op.batch_alter_table('conversation_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_stats_site_created')
    op.drop_table('conversation_stats')
