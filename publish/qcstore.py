"""QC results and human feedback in the ledger: the database half of the quality gate.

`save_qc` stores a build's `core.qc.QCReport` (one row per unit and build digest, idempotent) with whether it is
sampled for human review: every flagged or rejected build, plus the brand's share of auto-approved ones, chosen
by `core.qc.sample_fraction(build_digest)` so the choice is the same on every run and machine. `review_queue`
lists what people should look at, riskiest first. `record_feedback` keeps a human decision with the QC it was
made against (what `doit calibrate` learns from).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select

from core.qc import Finding, QCReport, risk_of, sample_fraction

from .ledger import Ledger, upsert
from .models import Feedback, QCResult, Review


@dataclass(frozen=True)
class QCRecord:
    unit: str
    build_digest: str
    verdict: str
    findings: list[Finding]
    scores: dict[str, float]
    thresholds: dict
    sampled: bool
    risk: float
    created_at: dt.datetime


def _qc(row: QCResult) -> QCRecord:
    return QCRecord(row.unit, row.build_digest, row.verdict, [Finding(**f) for f in json.loads(row.findings or "[]")],
                    json.loads(row.scores or "{}"), json.loads(row.thresholds or "{}"), bool(row.sampled), row.risk,
                    row.created_at)


def is_sampled(report: QCReport, build_digest: str, sample_share: float) -> bool:
    return report.verdict != "auto-approve" or sample_fraction(build_digest) < sample_share


def save_qc(ledger: Ledger, unit: str, build_digest: str, report: QCReport, *, sample_share: float = 0.1) -> QCRecord:
    """Store (or replace) the QC of one build; returns what is stored."""
    row = {"unit": unit, "build_digest": build_digest, "verdict": report.verdict,
           "findings": json.dumps([f.to_json() for f in report.findings], sort_keys=True),
           "scores": json.dumps(report.scores, sort_keys=True), "thresholds": json.dumps(report.thresholds, sort_keys=True),
           "sampled": is_sampled(report, build_digest, sample_share), "risk": risk_of(report),
           "created_at": dt.datetime.now(dt.timezone.utc)}
    with ledger.session() as s:
        upsert(s, QCResult, [row], ["unit", "build_digest"])
    got = get_qc(ledger, unit, build_digest)
    assert got is not None
    return got


def get_qc(ledger: Ledger, unit: str, build_digest: str) -> QCRecord | None:
    with ledger.session() as s:
        row = s.scalars(select(QCResult).where(QCResult.unit == unit, QCResult.build_digest == build_digest)).first()
        return _qc(row) if row else None


def review_queue(ledger: Ledger, current: dict[str, str] | None = None) -> list[QCRecord]:
    """Sampled builds that no person has reviewed yet, riskiest first. `current` (unit -> build digest of what is
    in build/ now) keeps only the builds that still exist."""
    with ledger.session() as s:
        reviewed = {(u, d) for u, d in s.execute(select(Review.unit, Review.build_digest))}
        rows = s.scalars(select(QCResult).where(QCResult.sampled.is_(True))
                         .order_by(QCResult.risk.desc(), QCResult.created_at.asc(), QCResult.id.asc()))
        out = [_qc(r) for r in rows if (r.unit, r.build_digest) not in reviewed]
    if current is not None:
        out = [r for r in out if current.get(r.unit) == r.build_digest]
    return out


def record_feedback(ledger: Ledger, unit: str, brand: str, build_digest: str, *, decision: str, reasons: list[str],
                    review_id: int | None = None) -> int:
    """Keep a human decision with the QC scores of that build (none yet: stored without); returns the row id."""
    qc = get_qc(ledger, unit, build_digest)
    with ledger.session() as s:
        row = Feedback(unit=unit, brand=brand, build_digest=build_digest, review_id=review_id, decision=decision,
                       reasons=json.dumps(list(reasons)), qc_verdict=qc.verdict if qc else None,
                       qc_scores=json.dumps(qc.scores if qc else {}, sort_keys=True),
                       qc_findings=json.dumps([f.to_json() for f in qc.findings] if qc else []))
        s.add(row)
        s.flush()
        return row.id


@dataclass(frozen=True)
class FeedbackRecord:
    unit: str
    brand: str
    build_digest: str
    decision: str
    reasons: list[str]
    qc_verdict: str | None
    qc_scores: dict[str, float]
    created_at: dt.datetime


def feedback(ledger: Ledger, brand: str | None = None) -> list[FeedbackRecord]:
    """Every stored decision (of one brand), oldest first: calibration's training data."""
    with ledger.session() as s:
        q = select(Feedback).order_by(Feedback.created_at.asc(), Feedback.id.asc())
        if brand is not None:
            q = q.where(Feedback.brand == brand)
        return [FeedbackRecord(r.unit, r.brand, r.build_digest, r.decision, json.loads(r.reasons or "[]"), r.qc_verdict,
                               json.loads(r.qc_scores or "{}"), r.created_at) for r in s.scalars(q)]
