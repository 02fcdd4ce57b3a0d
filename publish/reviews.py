"""Studio reviews: a verdict with reasons from a fixed vocabulary, bound to one build.

Approving or rejecting also records the decision the publish gate reads, through `record_decision`, so
`doit approve` and the studio write the same `approvals` rows; a change request is recorded as a rejection
there too (the build is not approved) with the reasons as its text.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select

from core.qc import REASON_CODES, REASONS, reason_label  # noqa: F401  (re-exported: the vocabulary lives in core)

from .approval import record_decision
from .ledger import Ledger
from .models import Approval, Review
from .qcstore import record_feedback

Verdict = Literal["approve", "request-changes", "reject"]
VERDICTS: tuple[str, ...] = ("approve", "request-changes", "reject")


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    unit: str
    build_digest: str
    verdict: str
    reviewer: str
    reasons: list[str]
    scene_index: int | None
    timecode_s: float | None
    note: str
    created_at: dt.datetime
    approval_id: int | None = None
    warnings: list[str] = field(default_factory=list)


def _record(row: Review) -> ReviewRecord:
    return ReviewRecord(row.id, row.unit, row.build_digest, row.verdict, row.reviewer, json.loads(row.reasons or "[]"),
                        row.scene_index, row.timecode_s, row.note, row.created_at, row.approval_id)


def describe(verdict: str, reasons: list[str], scene_index: int | None, timecode_s: float | None, note: str) -> str:
    parts = [", ".join(reason_label(r) for r in reasons)] if reasons else []
    if scene_index is not None:
        parts.append(f"scene {scene_index + 1}" + (f" at {timecode_s:.1f}s" if timecode_s is not None else ""))
    elif timecode_s is not None:
        parts.append(f"at {timecode_s:.1f}s")
    if note.strip():
        parts.append(note.strip())
    text = "; ".join(parts)
    return f"changes requested: {text}" if verdict == "request-changes" else text


def record_review(ledger: Ledger, unit: str, build_digest: str, *, verdict: str, reviewer: str,
                  reasons: list[str] = (), scene_index: int | None = None, timecode_s: float | None = None,
                  note: str = "", publish_state: dict | None = None) -> ReviewRecord:
    """Validate, record the gate's decision (approve / reject / request changes), then the review itself, then the
    feedback record (the decision with the QC scores of this build: what `doit calibrate` learns from)."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict '{verdict}' (one of {', '.join(VERDICTS)})")
    bad = [r for r in reasons if r not in REASON_CODES]
    if bad:
        raise ValueError(f"unknown reason(s) {', '.join(bad)} (one of {', '.join(REASON_CODES)})")
    if verdict != "approve" and not reasons and not note.strip():
        raise ValueError("say why: give at least one reason or a note")
    reasons = list(dict.fromkeys(reasons))
    decision_text = describe(verdict, reasons, scene_index, timecode_s, note)
    record_decision(ledger, unit, build_digest, reviewer=reviewer, approved=verdict == "approve",
                    reason=decision_text, publish_state=publish_state if verdict == "approve" else None)
    with ledger.session() as s:
        approval_id = s.scalars(select(Approval.id).where(Approval.unit == unit, Approval.build_digest == build_digest)
                                .order_by(Approval.id.desc()).limit(1)).first()
        row = Review(unit=unit, build_digest=build_digest, verdict=verdict, reviewer=reviewer.strip(),
                     reasons=json.dumps(reasons), scene_index=scene_index, timecode_s=timecode_s, note=note.strip(),
                     approval_id=approval_id)
        s.add(row)
        s.flush()
        rec = _record(row)
    record_feedback(ledger, unit, brand_of(unit), build_digest, decision=verdict, reasons=reasons, review_id=rec.id)
    return rec


def brand_of(unit: str) -> str:
    """The brand of a unit key ("<brand>/<slug>" or "<brand>/<slug>@<format>")."""
    return unit.split("/", 1)[0]


def review_history(ledger: Ledger, unit: str) -> list[ReviewRecord]:
    """Every review of the unit, newest first (all builds)."""
    with ledger.session() as s:
        rows = s.scalars(select(Review).where(Review.unit == unit).order_by(Review.created_at.desc(), Review.id.desc()))
        return [_record(r) for r in rows]
