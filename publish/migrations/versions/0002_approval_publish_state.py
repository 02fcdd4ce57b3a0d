"""Approvals cover the publish settings: approvals.publish_digest and approvals.publish_state.

An approval now records everything publishing sends (the build plus the brand's channel settings:
privacy, schedule, made for kids, AI-content disclosure, playlists, ...). Rows from before this
migration keep NULL in both columns and never count as covering the current settings: the gate
asks for a new approval instead of publishing under an approval that did not see them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publish_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('publish_state', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_column('publish_state')
        batch_op.drop_column('publish_digest')
