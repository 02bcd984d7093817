"""quick phrases, their usage and hotkeys; spell-check dictionaries (issue 9)

Revision ID: 0004_phrases
Revises: 0003
Create Date: 2026-11-30 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import frontdesk.models.base

revision = '0004_phrases'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('phrases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('group_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(operator_id IS NULL) <> (site_id IS NULL)', name=op.f('ck_phrases_one_owner')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_phrases_operator_id_operators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_phrases_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phrases'))
    )
    with op.batch_alter_table('phrases', schema=None) as batch_op:
        batch_op.create_index('ix_phrases_operator_id', ['operator_id'], unique=False)
        batch_op.create_index('ix_phrases_site_id', ['site_id'], unique=False)

    op.create_table('phrase_usage',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('phrase_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_phrase_usage_operator_id_operators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['phrase_id'], ['phrases.id'], name=op.f('fk_phrase_usage_phrase_id_phrases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operator_id', 'phrase_id', name=op.f('pk_phrase_usage'))
    )
    op.create_table('phrase_hotkeys',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('digit', sa.Integer(), nullable=False),
    sa.Column('phrase_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('digit BETWEEN 1 AND 9', name=op.f('ck_phrase_hotkeys_digit')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_phrase_hotkeys_operator_id_operators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['phrase_id'], ['phrases.id'], name=op.f('fk_phrase_hotkeys_phrase_id_phrases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operator_id', 'digit', name=op.f('pk_phrase_hotkeys'))
    )
    op.create_table('spell_words',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('word', sa.String(length=64), nullable=False),
    sa.Column('created_at', frontdesk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(operator_id IS NULL) <> (site_id IS NULL)', name=op.f('ck_spell_words_one_owner')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_spell_words_operator_id_operators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_spell_words_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spell_words')),
    sa.UniqueConstraint('operator_id', 'site_id', 'word', name='uq_spell_words_owner_word')
    )
    with op.batch_alter_table('spell_words', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spell_words_operator_id'), ['operator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spell_words_site_id'), ['site_id'], unique=False)


def downgrade() -> None:
    op.drop_table('spell_words')
    op.drop_table('phrase_hotkeys')
    op.drop_table('phrase_usage')
    op.drop_table('phrases')
