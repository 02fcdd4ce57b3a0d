"""Quality gate: `qc_results` (a build's automated QC) and `feedback` (human decisions with the QC scores they
were made against).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'qc_results',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('unit', sa.String(length=300), nullable=False),
        sa.Column('build_digest', sa.String(length=64), nullable=False),
        sa.Column('verdict', sa.String(length=24), nullable=False),
        sa.Column('findings', sa.Text(), nullable=False),
        sa.Column('scores', sa.Text(), nullable=False),
        sa.Column('thresholds', sa.Text(), nullable=False),
        sa.Column('sampled', sa.Boolean(), nullable=False),
        sa.Column('risk', sa.Float(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_qc_results')),
    )
    op.create_index('ix_qc_results_unit_digest', 'qc_results', ['unit', 'build_digest'], unique=True)
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('unit', sa.String(length=300), nullable=False),
        sa.Column('brand', sa.String(length=200), nullable=False),
        sa.Column('build_digest', sa.String(length=64), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=True),
        sa.Column('decision', sa.String(length=24), nullable=False),
        sa.Column('reasons', sa.Text(), nullable=False),
        sa.Column('qc_verdict', sa.String(length=24), nullable=True),
        sa.Column('qc_scores', sa.Text(), nullable=False),
        sa.Column('qc_findings', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_feedback_review_id_reviews')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    )
    op.create_index('ix_feedback_unit_digest', 'feedback', ['unit', 'build_digest'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_feedback_unit_digest', table_name='feedback')
    op.drop_table('feedback')
    op.drop_index('ix_qc_results_unit_digest', table_name='qc_results')
    op.drop_table('qc_results')
