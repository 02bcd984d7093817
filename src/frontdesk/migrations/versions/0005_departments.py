"""departments per site with members, routing settings per site, chat limits per operator,
conversations.department_id

Revision ID: 0005_departments
Revises: 0004_team
Create Date: 2026-11-30 12:00:00
"""
import sqlalchemy as sa
from alembic import op

from frontdesk.models.base import UTCDateTime

revision = '0005_departments'
down_revision = '0005_context'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'departments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_departments_site_id', 'departments', ['site_id'])
    op.create_table(
        'department_members',
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('department_id', 'operator_id'),
    )
    op.create_index('ix_department_members_operator_id', 'department_members', ['operator_id'])
    op.create_table(
        'site_routing',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('choose_department', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('site_id'),
    )
    op.create_table(
        'operator_routing',
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('chat_limit', sa.Integer(), nullable=False),
        sa.Column('routed_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('operator_id'),
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_conversations_department_id', ['department_id'])
        batch_op.create_foreign_key('fk_conversations_department_id', 'departments', ['department_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_conversations_department_id', type_='foreignkey')
        batch_op.drop_index('ix_conversations_department_id')
        batch_op.drop_column('department_id')
    op.drop_table('operator_routing')
    op.drop_table('site_routing')
    op.drop_index('ix_department_members_operator_id', table_name='department_members')
    op.drop_table('department_members')
    op.drop_index('ix_departments_site_id', table_name='departments')
    op.drop_table('departments')
