"""Initial publish ledger: records, published videos and their steps, approvals, quota, holds,
locks, analytics snapshots and retention points.

Datetimes are stored as naive UTC (publish.models.UTCDateTime adds the zone back on read).

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('analytics_daily',
    sa.Column('youtube_video_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('estimated_minutes_watched', sa.Float(), nullable=False),
    sa.Column('average_view_duration_s', sa.Float(), nullable=False),
    sa.Column('average_view_percentage', sa.Float(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('subscribers_gained', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('youtube_video_id', 'day', name=op.f('pk_analytics_daily'))
    )
    with op.batch_alter_table('analytics_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_daily_unit'), ['unit'], unique=False)

    op.create_table('approvals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('build_digest', sa.String(length=64), nullable=False),
    sa.Column('reviewer', sa.String(length=200), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index('ix_approvals_unit_digest', ['unit', 'build_digest'], unique=False)

    op.create_table('holds',
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('until', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_holds'))
    )
    op.create_table('locks',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('heartbeat', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_locks'))
    )
    op.create_table('publish_records',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=True),
    sa.Column('build_digest', sa.String(length=64), nullable=False),
    sa.Column('video_sha256', sa.String(length=64), nullable=False),
    sa.Column('metadata_sha256', sa.String(length=64), nullable=True),
    sa.Column('marker', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('youtube_video_id', sa.String(length=32), nullable=True),
    sa.Column('session_json', sa.Text(), nullable=True),
    sa.Column('bytes_sent', sa.Integer(), nullable=False),
    sa.Column('total_bytes', sa.Integer(), nullable=False),
    sa.Column('request_json', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publish_records'))
    )
    with op.batch_alter_table('publish_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publish_records_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_publish_records_unit'), ['unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_publish_records_youtube_video_id'), ['youtube_video_id'], unique=False)

    op.create_table('quota_usage',
    sa.Column('project', sa.String(length=100), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bucket', sa.String(length=100), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('project', 'day', 'bucket', name=op.f('pk_quota_usage'))
    )
    op.create_table('retention_points',
    sa.Column('youtube_video_id', sa.String(length=32), nullable=False),
    sa.Column('ratio_permille', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('elapsed_ratio', sa.Float(), nullable=False),
    sa.Column('audience_watch_ratio', sa.Float(), nullable=False),
    sa.Column('relative_retention_performance', sa.Float(), nullable=True),
    sa.Column('at_s', sa.Float(), nullable=True),
    sa.Column('scene_index', sa.Integer(), nullable=True),
    sa.Column('scene_title', sa.String(length=300), nullable=True),
    sa.Column('start_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('youtube_video_id', 'ratio_permille', name=op.f('pk_retention_points'))
    )
    with op.batch_alter_table('retention_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_points_unit'), ['unit'], unique=False)

    op.create_table('published_videos',
    sa.Column('youtube_video_id', sa.String(length=32), nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('video_sha256', sa.String(length=64), nullable=False),
    sa.Column('marker', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('privacy', sa.String(length=16), nullable=False),
    sa.Column('publish_at', sa.DateTime(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('upload_status', sa.String(length=32), nullable=True),
    sa.Column('warning', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_by', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['publish_records.id'], name=op.f('fk_published_videos_record_id_publish_records')),
    sa.PrimaryKeyConstraint('youtube_video_id', name=op.f('pk_published_videos'))
    )
    with op.batch_alter_table('published_videos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_videos_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_published_videos_unit'), ['unit'], unique=False)

    op.create_table('video_steps',
    sa.Column('youtube_video_id', sa.String(length=32), nullable=False),
    sa.Column('step', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['youtube_video_id'], ['published_videos.youtube_video_id'], name=op.f('fk_video_steps_youtube_video_id_published_videos')),
    sa.PrimaryKeyConstraint('youtube_video_id', 'step', name=op.f('pk_video_steps'))
    )


def downgrade() -> None:
    op.drop_table('video_steps')
    with op.batch_alter_table('published_videos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_videos_unit'))
        batch_op.drop_index(batch_op.f('ix_published_videos_channel_id'))

    op.drop_table('published_videos')
    with op.batch_alter_table('retention_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_points_unit'))

    op.drop_table('retention_points')
    op.drop_table('quota_usage')
    with op.batch_alter_table('publish_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publish_records_youtube_video_id'))
        batch_op.drop_index(batch_op.f('ix_publish_records_unit'))
        batch_op.drop_index(batch_op.f('ix_publish_records_state'))

    op.drop_table('publish_records')
    op.drop_table('locks')
    op.drop_table('holds')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index('ix_approvals_unit_digest')

    op.drop_table('approvals')
    with op.batch_alter_table('analytics_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_daily_unit'))

    op.drop_table('analytics_daily')
