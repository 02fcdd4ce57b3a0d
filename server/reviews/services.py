"""Reviews through the publish services: the studio writes the records `doit approve` writes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from litestar.exceptions import ClientException

from publish.channels import Channels
from publish.errors import PublishError
from publish.ledger import Ledger
from publish.plan import approval_state
from publish.publisher import check_publish_at
from publish.reviews import ReviewRecord, record_review, review_history
from publish.units import load_unit
from .schemas import ReviewIn, ReviewOut


class ReviewConflict(Exception):
    """The review cannot be recorded as asked (no build, the build changed, not publishable); `str` says why."""


def unit_key(video: str, fmt: str | None = None) -> str:
    return f"{video}@{fmt}" if fmt else video


def out(rec: ReviewRecord, current_digest: str = "") -> ReviewOut:
    return ReviewOut(id=rec.id, unit=rec.unit, build_digest=rec.build_digest, verdict=rec.verdict,
                     reviewer=rec.reviewer, reasons=rec.reasons, scene_index=rec.scene_index,
                     timecode_s=rec.timecode_s, note=rec.note, created_at=rec.created_at,
                     current=bool(current_digest) and rec.build_digest == current_digest)


def approved_time(text: str) -> dt.datetime:
    """The review's explicit publish time as aware UTC (the publisher's own check); 400 when it is not one."""
    try:
        return check_publish_at(dt.datetime.fromisoformat(text.replace("Z", "+00:00")), dt.datetime.now(dt.timezone.utc))
    except ValueError:
        raise ClientException(f"publish_at: {text!r} is not an RFC 3339 time") from None
    except PublishError as exc:
        raise ClientException(f"publish_at: {exc.message}") from None


def submit(root: Path, ledger: Ledger, video: str, data: ReviewIn) -> ReviewOut:
    unit = unit_key(video, data.format)
    try:
        built = load_unit(root, unit)
    except PublishError as exc:
        raise ReviewConflict(exc.render()) from None
    if built.build_digest != data.build_digest:
        raise ReviewConflict(f"{unit}: the build changed while you watched (now {built.build_digest[:12]}, "
                             f"you reviewed {data.build_digest[:12]}): reload and review the new build")
    state = None
    at = approved_time(data.publish_at) if data.publish_at and data.verdict == "approve" else None
    if data.verdict == "approve":
        try:
            state = approval_state(built, Channels(root, ledger).channel_of(built.brand), publish_at=at)
        except PublishError as exc:  # what cannot be published cannot be approved
            raise ReviewConflict(exc.render()) from None
    try:
        rec = record_review(ledger, unit, built.build_digest, verdict=data.verdict, reviewer=data.reviewer,
                            reasons=list(data.reasons), scene_index=data.scene_index, timecode_s=data.timecode_s,
                            note=data.note, publish_state=state)
    except ValueError as exc:
        raise ReviewConflict(str(exc)) from None
    return out(rec, built.build_digest)


def history(ledger: Ledger, unit: str, current_digest: str = "") -> list[ReviewOut]:
    return [out(r, current_digest) for r in review_history(ledger, unit)]
