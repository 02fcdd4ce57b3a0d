"""The publisher's reads and writes of the ledger, named by what they mean.

A `PublishRepository` works inside one SQLAlchemy `Session`, so the caller decides the unit of work.
The publisher commits each step on its own (`transaction(ledger)`): an intent must be in the
database before the first byte is sent, a session URI before the upload goes on, a step's result
before the next step starts; a crash then leaves a ledger the next run can settle.
"""
from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .ledger import Ledger
from .models import Hold, PublishedVideo, PublishRecord, VideoStep, utcnow
from .plan import Desired, StepState, canonical
from .units import BuildUnit

UNFINISHED = ("intent", "uploading", "uploaded")  # a record whose run has not completed
UPLOAD_PENDING = ("intent", "uploading")  # an upload that has no video id yet


def parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@contextmanager
def transaction(ledger: Ledger) -> Iterator["PublishRepository"]:
    """One committed unit of work on the ledger (rolled back on any exception)."""
    with ledger.session() as s:
        yield PublishRepository(s)


class PublishRepository:
    def __init__(self, session: Session):
        self.session = session

    # ---------------------------------------------------------- videos --

    def live_video(self, unit: str) -> PublishedVideo | None:
        """The unit's newest video that is live on YouTube (not superseded by a --replace)."""
        s = self.session
        return s.scalars(select(PublishedVideo).where(PublishedVideo.unit == unit, PublishedVideo.status == "live")
                         .order_by(PublishedVideo.created_at.desc())).first()

    def any_live_video(self, unit: str) -> PublishedVideo | None:
        """A live video of the unit, in no particular order (the one an adopted --replace supersedes).

        Only one video of a unit is live at a time (registering a replacement supersedes the old
        one), so this and `live_video` agree; kept as its own query so the ledger reads stay as they were.
        """
        return self.session.scalars(select(PublishedVideo).where(PublishedVideo.unit == unit,
                                                                 PublishedVideo.status == "live")).first()

    def register_video(self, rec: PublishRecord, video: dict, unit: BuildUnit, *,
                       replaced: PublishedVideo | None) -> PublishedVideo:
        """The video an upload created becomes the unit's live video; the one it replaces is superseded.

        Privacy and publishAt are what YouTube reports for the video (a locked-private upload is
        private whatever was asked); only a video resource without its status part falls back to
        what the intent requested.
        """
        s = self.session
        status = video.get("status")
        if not status or "privacyStatus" not in status:
            status = json.loads(rec.request_json or "{}").get("status", {})
        row = s.get(PublishedVideo, video["id"])
        if row is None:
            row = PublishedVideo(youtube_video_id=video["id"], unit=rec.unit, brand=rec.brand,
                                 channel_id=rec.channel_id or "", format=unit.format,
                                 video_sha256=rec.video_sha256, marker=rec.marker or "", record_id=rec.id,
                                 privacy=status.get("privacyStatus", "private"),
                                 publish_at=parse_time(status.get("publishAt")),
                                 duration_s=unit.metadata.get("duration_s"), status="live")
            s.add(row)
        if replaced is not None and replaced.youtube_video_id != video["id"]:
            old = s.get(PublishedVideo, replaced.youtube_video_id)
            old.status, old.superseded_by = "superseded", video["id"]
        s.flush()
        return row

    def record_upload_status(self, video_id: str, status: dict, warning: str | None) -> PublishedVideo:
        """What YouTube said about the video right after the upload (rejected, locked private): its
        upload status, and the privacy and publishAt it really has."""
        row = self.session.get(PublishedVideo, video_id)
        row.upload_status = status.get("uploadStatus")
        if status.get("privacyStatus"):
            row.privacy = status["privacyStatus"]
            row.publish_at = parse_time(status.get("publishAt"))
        row.warning = warning
        self.session.flush()
        return row

    def taken_slots(self, channel_id: str, fmt: str, *, exclude_record: int | None = None) -> set[dt.datetime]:
        """Publish times already used on the channel: live videos of the format and pending uploads."""
        s = self.session
        taken = {r for r in s.scalars(select(PublishedVideo.publish_at).where(
            PublishedVideo.channel_id == channel_id, PublishedVideo.format == fmt,
            PublishedVideo.status == "live", PublishedVideo.publish_at.is_not(None)))}
        for body in s.scalars(select(PublishRecord.request_json).where(
                PublishRecord.channel_id == channel_id, PublishRecord.state.in_(UPLOAD_PENDING),
                PublishRecord.id != (exclude_record or -1))):
            at = json.loads(body or "{}").get("status", {}).get("publishAt")
            if at:
                taken.add(parse_time(at))
        return {t for t in taken if t is not None}

    # --------------------------------------------------------- records --

    def pending_uploads(self, unit: str) -> list[PublishRecord]:
        """Uploads (new or --replace) an earlier run started and did not see through, oldest first."""
        return list(self.session.scalars(select(PublishRecord).where(
            PublishRecord.unit == unit, PublishRecord.action.in_(("upload", "replace")),
            PublishRecord.state.in_(UPLOAD_PENDING)).order_by(PublishRecord.id)))

    def open_record(self, unit: str, video_id: str) -> PublishRecord | None:
        """The newest record of the video whose changes were not all applied yet."""
        return self.session.scalars(select(PublishRecord).where(
            PublishRecord.unit == unit, PublishRecord.youtube_video_id == video_id,
            PublishRecord.state.in_(("uploaded", "intent"))).order_by(PublishRecord.id.desc())).first()

    def add_intent(self, unit: BuildUnit, desired: Desired, action: str, *,
                   video_id: str | None = None) -> PublishRecord:
        """Write down what is about to happen, before anything is sent."""
        rec = PublishRecord(unit=unit.key, brand=unit.brand, channel_id=desired.channel_id,
                            build_digest=unit.build_digest, video_sha256=desired.video_sha,
                            metadata_sha256=desired.metadata_sha, marker=desired.marker, action=action,
                            state="intent", youtube_video_id=video_id, bytes_sent=0,
                            total_bytes=unit.video.stat().st_size,
                            request_json=canonical(desired.insert_body()) if action != "update" else None)
        self.session.add(rec)
        self.session.flush()
        return rec

    def update_record(self, record_id: int, **values) -> None:
        rec = self.session.get(PublishRecord, record_id)
        for k, v in values.items():
            setattr(rec, k, v)
        rec.updated_at = utcnow()

    def note_error(self, unit: str, message: str) -> None:
        """Keep the reason on the unit's unfinished records, for whoever looks at the ledger later."""
        for rec in self.session.scalars(select(PublishRecord).where(
                PublishRecord.unit == unit, PublishRecord.state.in_(UNFINISHED))):
            rec.last_error = message

    # ----------------------------------------------------------- steps --

    def steps(self, video_id: str) -> dict[str, StepState]:
        """What is applied to the video on YouTube, per step (metadata, thumbnail, captions, playlist:<id>)."""
        rows = self.session.scalars(select(VideoStep).where(VideoStep.youtube_video_id == video_id))
        return {r.step: StepState(r.state, r.digest, json.loads(r.detail or "{}")) for r in rows}

    def set_step(self, video_id: str, step: str, state: str, digest: str | None, *, detail: dict | None = None,
                 message: str | None = None) -> None:
        s = self.session
        row = s.get(VideoStep, (video_id, step))
        if row is None:
            row = VideoStep(youtube_video_id=video_id, step=step)
            s.add(row)
        old = json.loads(row.detail or "{}")
        row.state, row.digest, row.message = state, digest, message
        row.detail = json.dumps({**old, **(detail or {})}, sort_keys=True)
        row.updated_at = utcnow()

    # ----------------------------------------------------------- holds --

    def hold(self, scope: str) -> Hold | None:
        return self.session.get(Hold, scope)

    def set_hold(self, scope: str, until: dt.datetime | None, reason: str) -> None:
        s = self.session
        row = s.get(Hold, scope) or Hold(scope=scope)
        row.until, row.reason, row.created_at = until, reason, utcnow()
        s.merge(row)

    def clear_hold(self, scope: str) -> None:
        row = self.session.get(Hold, scope)
        if row is not None:
            self.session.delete(row)
