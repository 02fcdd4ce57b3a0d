"""Ledger tables (SQLAlchemy 2.0 ORM). The Alembic migrations in publish/migrations create them.

A test compares these models with the migrated database, so a column added here without a
migration fails CI rather than a user's run.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text,
                        TypeDecorator)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite has no time zones; PostgreSQL would convert)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; use an aware UTC datetime")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PublishRecord(Base):
    """One publishing attempt of one unit's build: written as an intent *before* anything is sent.

    state: intent -> uploading (session saved) -> uploaded (video id known) -> complete,
    or abandoned (an unfinished upload of a build that no longer exists, proven never to have
    created a video). `session_json` is googleapiclient's HttpRequest.to_json() of the resumable
    upload, so a killed process resumes from the server's Range instead of from zero.
    """

    __tablename__ = "publish_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(300), index=True)
    brand: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    build_digest: Mapped[str] = mapped_column(String(64))
    video_sha256: Mapped[str] = mapped_column(String(64))
    metadata_sha256: Mapped[str | None] = mapped_column(String(64))
    marker: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # upload | update | replace
    state: Mapped[str] = mapped_column(String(16), index=True)
    youtube_video_id: Mapped[str | None] = mapped_column(String(32), index=True)
    session_json: Mapped[str | None] = mapped_column(Text)
    bytes_sent: Mapped[int] = mapped_column(Integer, default=0)
    total_bytes: Mapped[int] = mapped_column(Integer, default=0)
    request_json: Mapped[str | None] = mapped_column(Text)  # the videos.insert body, for audit
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PublishedVideo(Base):
    """A video that exists on YouTube because of us. `status`: live, or superseded by a --replace."""

    __tablename__ = "published_videos"

    youtube_video_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit: Mapped[str] = mapped_column(String(300), index=True)
    brand: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(32))
    video_sha256: Mapped[str] = mapped_column(String(64))
    marker: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("publish_records.id"))
    privacy: Mapped[str] = mapped_column(String(16))
    publish_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="live")
    upload_status: Mapped[str | None] = mapped_column(String(32))
    warning: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_by: Mapped[str | None] = mapped_column(String(32))


class VideoStep(Base):
    """What has been applied to a published video: metadata, thumbnail, captions, playlist:<id>.

    `digest` is the digest of what was applied, so a later build only re-sends what changed.
    `state` is started before a non-idempotent call (captions.insert, playlistItems.insert) and
    done after it, so a crash in between is checked against YouTube instead of repeated blindly.
    """

    __tablename__ = "video_steps"

    youtube_video_id: Mapped[str] = mapped_column(ForeignKey("published_videos.youtube_video_id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # started | done | failed
    digest: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: caption track id, playlist item id
    message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Approval(Base):
    """A reviewer's decision on one build of one unit. Only the latest decision per build counts.

    `publish_state` is the canonical JSON of everything publishing sends (publish.plan
    `Desired.approval_state()`), `publish_digest` its sha256; an approval covers exactly that.
    Both are NULL for decisions recorded before migration 0002: those cover no publish settings.
    """

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_unit_digest", "unit", "build_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(300))
    build_digest: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    publish_digest: Mapped[str | None] = mapped_column(String(64))
    publish_state: Mapped[str | None] = mapped_column(Text)


class QuotaUsage(Base):
    """Units (or calls) spent per Google Cloud project per Pacific day per quota bucket."""

    __tablename__ = "quota_usage"

    project: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    units: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Hold(Base):
    """Something learned from YouTube that stops work until a time or a user action (re-auth)."""

    __tablename__ = "holds"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)  # auth:<brand>, uploads:<channel>
    until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # None: until the user acts
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lock(Base):
    """A per-unit lease so two `doit publish` runs never upload the same unit at once."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    heartbeat: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnalyticsDaily(Base):
    """One day of one video's numbers. Upserted: YouTube revises the last few days."""

    __tablename__ = "analytics_daily"

    youtube_video_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    unit: Mapped[str] = mapped_column(String(300), index=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    estimated_minutes_watched: Mapped[float] = mapped_column(Float, default=0.0)
    average_view_duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    average_view_percentage: Mapped[float] = mapped_column(Float, default=0.0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    subscribers_gained: Mapped[int] = mapped_column(Integer, default=0)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RetentionPoint(Base):
    """Audience retention at one elapsed-time ratio (in 1/1000ths), mapped onto the build's scenes."""

    __tablename__ = "retention_points"

    youtube_video_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ratio_permille: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit: Mapped[str] = mapped_column(String(300), index=True)
    elapsed_ratio: Mapped[float] = mapped_column(Float)
    audience_watch_ratio: Mapped[float] = mapped_column(Float)
    relative_retention_performance: Mapped[float | None] = mapped_column(Float)
    at_s: Mapped[float | None] = mapped_column(Float)
    scene_index: Mapped[int | None] = mapped_column(Integer)
    scene_title: Mapped[str | None] = mapped_column(String(300))
    start_day: Mapped[dt.date] = mapped_column(Date)
    end_day: Mapped[dt.date] = mapped_column(Date)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(Base):
    """A studio review of one build: the verdict, the reasons (the fixed vocabulary of `publish.reviews.REASONS`),
    optionally a scene and a timecode, and free text. An approval or rejection also writes the `approvals` row
    the publish gate reads (`approval_id`), exactly as `doit approve` does; a rebuild invalidates both."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_unit_digest", "unit", "build_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(300))
    build_digest: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(24))  # approve | request-changes | reject
    reviewer: Mapped[str] = mapped_column(String(200))
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of reason codes
    scene_index: Mapped[int | None] = mapped_column(Integer)
    timecode_s: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class QCResult(Base):
    """The automated QC of one build (`core.qc.QCReport`, from build/.../qc.json): verdict, findings and scores,
    whether it was sampled for human review and its risk (the review queue's order). One row per (unit, digest)."""

    __tablename__ = "qc_results"
    __table_args__ = (Index("ix_qc_results_unit_digest", "unit", "build_digest", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(300))
    build_digest: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(24))  # auto-approve | flag | reject
    findings: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of core.qc.Finding
    scores: Mapped[str] = mapped_column(Text, default="{}")  # JSON {check: number}
    thresholds: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the brand's qc settings used
    sampled: Mapped[bool] = mapped_column(Boolean, default=False)  # in the human review queue
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(Base):
    """A human decision stored with the QC it was made against: what calibration learns from. Written beside
    every studio review (and `doit approve`) of a build that has a QC result."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_unit_digest", "unit", "build_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str] = mapped_column(String(200))
    build_digest: Mapped[str] = mapped_column(String(64))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    decision: Mapped[str] = mapped_column(String(24))  # approve | request-changes | reject
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of reason codes
    qc_verdict: Mapped[str | None] = mapped_column(String(24))
    qc_scores: Mapped[str] = mapped_column(Text, default="{}")  # JSON {check: number} at decision time
    qc_findings: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of findings at decision time
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
