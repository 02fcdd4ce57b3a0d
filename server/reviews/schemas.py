from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from publish.reviews import REASON_CODES

Reason = Literal[REASON_CODES]  # type: ignore[valid-type]


class ReviewIn(BaseModel):
    verdict: Literal["approve", "request-changes", "reject"]
    build_digest: str = Field(min_length=1, max_length=64, description="the build the reviewer watched")
    reviewer: str = Field(default="studio", min_length=1, max_length=200)
    reasons: list[Reason] = Field(default_factory=list, max_length=len(REASON_CODES))
    scene_index: int | None = Field(default=None, ge=0, le=10_000)
    timecode_s: float | None = Field(default=None, ge=0, le=86_400)
    note: str = Field(default="", max_length=4000)
    format: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                               description="a further format's unit (<brand>/<slug>@<format>)")
    publish_at: str | None = Field(default=None, max_length=40,
                                   description="approve: also this explicit publish time (RFC 3339, at least 10 "
                                               "minutes ahead); a Schedule for another time is then refused")


class ReviewOut(BaseModel):
    id: int
    unit: str
    build_digest: str
    verdict: str
    reviewer: str
    reasons: list[str]
    scene_index: int | None = None
    timecode_s: float | None = None
    note: str = ""
    created_at: dt.datetime
    current: bool = False  # about the build in build/ now


class ReasonOut(BaseModel):
    code: str
    label: str
