"""the background loops read only what is due: conversations.next_offer_at (the next offer repeat), indexed
with (status, assignee_id) for the waiting conversations, and an index of conversations by (status, last message)

Revision ID: 0007_loops
Revises: 0006_report_stats
Create Date: 2026-11-30 16:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0007_loops'
down_revision = '0006_report_stats'
branch_labels = None
depends_on = None

def upgrade() -> None:
    # next_offer_at stays NULL: the repeat loop schedules every waiting conversation it finds without one
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_offer_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_conversations_waiting_offer', ['status', 'assignee_id', 'next_offer_at'],
                              unique=False)
        batch_op.create_index('ix_conversations_open_last_message', ['status', 'last_message_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_open_last_message')
        batch_op.drop_index('ix_conversations_waiting_offer')
        batch_op.drop_column('next_offer_at')
