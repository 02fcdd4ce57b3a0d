"""What the QC API answers (pydantic models: they are the OpenAPI schema too)."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["auto-approve", "flag", "reject"]
VERDICT_LABEL: dict[str, str] = {"auto-approve": "auto-approve", "flag": "flagged", "reject": "rejected"}


class QCBadge(BaseModel):
    """A build's QC verdict in one word, with its counts (the Home page's badge)."""
    verdict: Verdict
    label: str = Field(description="auto-approve, flagged or rejected")
    errors: int = 0
    warnings: int = 0
    sampled: bool = Field(False, description="the build is in (or was in) the human review queue")


class FindingView(BaseModel):
    check: str
    severity: Literal["info", "warning", "error"]
    reason: str = Field(description="a code of the review vocabulary (GET /api/reasons)")
    reason_label: str
    message: str = ""
    scene: int | None = Field(None, description="0-based scene index; null: the whole video")
    at_s: float | None = Field(None, description="time in the final video")
    seek_s: float | None = Field(None, description="where the player goes: at_s, else the scene's start")
    where: str = Field("", description="the spec location the finding comes from, file:line:col")
    value: float | None = None
    limit: float | None = None


class QCView(BaseModel):
    """One build's QC as the Video page shows it: the verdict and every finding, worst first."""
    unit: str
    build_digest: str
    verdict: Verdict
    label: str
    sampled: bool = False
    reviewed: bool = Field(False, description="a person has reviewed this build")
    risk: float = 0.0
    findings: list[FindingView] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict, description="severity -> number of findings")
    checked_at: dt.datetime | None = None


class PublishGate(BaseModel):
    """What the QC verdict means for publishing (the gate itself is the publisher's; this presents it)."""
    state: Literal["none", "human", "rejected", "autopublish"] = Field(
        "none", description="none: no QC; human: a person approves; rejected: QC refuses the build; "
                            "autopublish: auto-approved and the brand publishes without a person")
    message: str = ""
    reasons: list[str] = Field(default_factory=list, description="the reason labels of the errors, when rejected")


class QueueItem(BaseModel):
    unit: str = Field(description="<brand>/<slug> or <brand>/<slug>@<format>")
    video: str
    format: str = ""
    title: str = ""
    thumbnail: str = ""
    build_digest: str
    verdict: Verdict
    label: str
    risk: float
    counts: dict[str, int] = Field(default_factory=dict)
    top_findings: list[FindingView] = Field(default_factory=list, description="the worst three findings")
    review_url: str = Field(description="the Video page, where the build is reviewed")
    checked_at: dt.datetime


class ReviewQueue(BaseModel):
    """Sampled builds no person has reviewed yet, riskiest first."""
    count: int
    items: list[QueueItem] = Field(default_factory=list)
