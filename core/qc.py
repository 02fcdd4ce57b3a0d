"""Quality control records: what a QC step finds, what a build's verdict is, and the review vocabulary.

The vocabulary is shared by machines and people: a QC finding's `reason` and a studio review's reasons are
codes from `REASON_CODES` ("<area>.<reason>" or "other"), so calibration can compare them.

Every QC step (renderer kind `qc.<name>`) writes one `findings.json`, a `QCFindings`. The `qc.verdict` step
reads all of them with the brand's `qc:` thresholds and writes `qc.json`, a `QCReport`, which is materialized
as build/<brand>/<slug>[/<format>]/qc.json. `qc.json` is left out of the build digest: a QC threshold change
re-judges a build without invalidating its human approval.

A finding names where it comes from by scene index and a spec field path (`field`), never by file:line: lines
move when a spec is edited, and a QC step's key must not change with them. Readers (`doit qc`, the studio)
map (scene, field) to file:line:col through the loaded project at read time.
"""
from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import Field

from .records import Record

# The fixed vocabulary (issue 10): area -> reason -> label. Codes are "<area>.<reason>" plus "other".
REASONS: dict[str, dict[str, str]] = {
    "audio": {"mispronunciation": "mispronunciation", "pacing": "pacing", "loudness": "loudness", "music": "music"},
    "visual": {"text_overflow": "text overflow", "off_topic_image": "off-topic image", "low_quality": "low quality",
               "glitch": "glitch"},
    "script": {"factual_error": "factual error", "off_brand_tone": "off-brand tone", "too_long": "too long",
               "too_short": "too short", "weak_hook": "weak hook"},
    "metadata": {"title": "title", "thumbnail": "thumbnail"},
}
REASON_CODES: tuple[str, ...] = tuple(f"{a}.{r}" for a, rs in REASONS.items() for r in rs) + ("other",)


def reason_label(code: str) -> str:
    if code == "other":
        return "other"
    area, _, r = code.partition(".")
    return f"{area}: {REASONS[area][r]}"


Severity = Literal["info", "warning", "error"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
QCVerdict = Literal["auto-approve", "flag", "reject"]


class Finding(Record):
    """One thing a check found. `scene` is the 0-based scene index (None: the whole video); `at_s` the time in
    the final video (None: not tied to a time); `field` the spec field path it comes from, relative to the scene
    when `scene` is set (e.g. ["visual", "bullets", 1]) or to the video spec (e.g. ["title"]); `value` and
    `limit` the measurement and the threshold it was judged against (for people and for calibration)."""

    check: str  # "<step kind minus qc.>.<check>", e.g. "audio.silence", "text.overflow", "script.title_length"
    scene: int | None = None
    at_s: float | None = None
    severity: Severity = "warning"
    reason: str = "other"  # one of REASON_CODES
    message: str = ""
    field: list[str | int] | None = None
    value: float | None = None
    limit: float | None = None


class QCFindings(Record):
    """The output of one QC step (`findings.json`). `scores` are the raw measurements keyed by check name
    (e.g. {"audio.max_silence_s": 6.2, "audio.integrated_lufs": -13.8}): what calibration fits thresholds to."""

    findings: list[Finding] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)


class QCReport(Record):
    """A build's QC result (`qc.json`): the verdict, every finding, every score, and the thresholds used."""

    video: str = ""
    format: str = ""
    verdict: QCVerdict = "auto-approve"
    findings: list[Finding] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)
    thresholds: dict[str, Any] = Field(default_factory=dict)


def verdict_of(findings: list[Finding]) -> QCVerdict:
    """Any error -> reject; any warning -> flag; otherwise auto-approve."""
    worst = max((SEVERITY_RANK[f.severity] for f in findings), default=0)
    return "reject" if worst >= 2 else "flag" if worst == 1 else "auto-approve"


def sample_fraction(build_digest: str) -> float:
    """A number in [0, 1) fixed by the build digest: a build is sampled for human review when this is below
    the brand's share, so the same build is always (or never) sampled, on every machine."""
    return int(hashlib.sha256(f"qc-sample:{build_digest}".encode()).hexdigest()[:13], 16) / float(1 << 52)


def risk_of(report: QCReport) -> float:
    """Order of the review queue: rejects first, then flags, more and worse findings higher."""
    base = {"reject": 2.0, "flag": 1.0, "auto-approve": 0.0}[report.verdict]
    weight = sum({"error": 0.1, "warning": 0.03, "info": 0.0}[f.severity] for f in report.findings)
    return round(base + min(weight, 0.99), 4)
