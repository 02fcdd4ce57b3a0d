"""Studio reviews: the `reviews` table (verdict, reasons, scene, timecode, note), bound to a build digest.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reviews',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('unit', sa.String(length=300), nullable=False),
        sa.Column('build_digest', sa.String(length=64), nullable=False),
        sa.Column('verdict', sa.String(length=24), nullable=False),
        sa.Column('reviewer', sa.String(length=200), nullable=False),
        sa.Column('reasons', sa.Text(), nullable=False),
        sa.Column('scene_index', sa.Integer(), nullable=True),
        sa.Column('timecode_s', sa.Float(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('approval_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_reviews_approval_id_approvals')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    )
    op.create_index('ix_reviews_unit_digest', 'reviews', ['unit', 'build_digest'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reviews_unit_digest', table_name='reviews')
    op.drop_table('reviews')
