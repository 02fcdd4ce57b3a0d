from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class PublishIn(BaseModel):
    format: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    replace: bool = False
    # Schedule: when the new upload goes public, RFC 3339 with an offset (the page sends UTC, "...Z"); at least
    # 10 minutes ahead. A publish with a publish_at needs a dry run with the same publish_at first.
    publish_at: str | None = Field(default=None, max_length=40,
                                   pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


class DryRunOut(BaseModel):
    unit: str
    status: str                 # dry-run | up-to-date | not-approved | refused | failed
    message: str = ""           # why not (with the hint), when it would not publish
    lines: list[str] = Field(default_factory=list)   # what `doit publish --dry-run` prints
    calls: list[dict[str, Any]] = Field(default_factory=list)  # the API calls, exactly as they would be sent
    warnings: list[str] = Field(default_factory=list)
    publish_at: str = ""        # the explicit publishAt this dry run shows (UTC, RFC 3339), when one was asked


class JobOut(BaseModel):
    id: str
    unit: str
    state: Literal["running", "done", "failed"]
    fraction: float | None = None
    lines: list[str] = Field(default_factory=list)
    status: str = ""            # the publisher's outcome
    video_id: str | None = None
    url: str = ""
    message: str = ""
