"""visitors.fields: custom key/values a site gives with window.frontdesk.setUser

Revision ID: 0005_context
Revises: 0004_team
Create Date: 2026-11-30 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_context'
down_revision = '0005_bans'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('visitors') as batch:
        batch.add_column(sa.Column('fields', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('visitors') as batch:
        batch.drop_column('fields')
