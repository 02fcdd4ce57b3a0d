"""What the previews API answers (pydantic models: they are the OpenAPI schema too)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..qc.schemas import PublishGate, QCBadge, QCView

BuildState = Literal["unknown", "not-built", "queued", "building", "built", "error", "failed", "pending"]


class VideoState(BaseModel):
    """One video's live state. `state` is what the worker last did; `build_digest` names the last good build in
    build/, which stays viewable when a later save has a spec error or a failed step."""

    video: str
    state: BuildState = "unknown"
    fraction: float | None = None      # building: 0..1
    stale: bool = False                # build/ holds an older build than the specs describe
    error: str = ""                    # error / failed / pending: the rendered diagnostic (file:line:col, excerpt)
    build_digest: str = ""
    profile: str = ""                  # the profile being or last built
    updated_at: float = 0.0


class ReviewBadge(BaseModel):
    verdict: Literal["approved", "changes-requested", "rejected"] | None = None
    reviewer: str = ""
    current: bool = False  # the decision is about the build in build/


class PublishBadge(BaseModel):
    youtube_video_id: str = ""
    url: str = ""
    privacy: str = ""
    publish_at: str = ""


class VideoSummary(BaseModel):
    video: str
    brand: str
    slug: str
    title: str = ""
    duration_s: float | None = None
    thumbnail: str = ""     # URL
    build: VideoState
    review: ReviewBadge = Field(default_factory=ReviewBadge)
    published: PublishBadge | None = None
    qc: QCBadge | None = None  # the QC verdict of the build in build/, when it has a QC report
    badge: str = ""         # the one word the home page shows
    shown: Literal["final", "preview", ""] = ""  # which build the player shows: the preview while it is newer
    preview_label: str = ""  # e.g. "preview (540p)" when the preview is shown


class BrandSummary(BaseModel):
    brand: str
    name: str = ""
    videos: list[VideoSummary] = Field(default_factory=list)


class Overview(BaseModel):
    brands: list[BrandSummary] = Field(default_factory=list)
    project_errors: dict[str, str] = Field(default_factory=dict)  # file -> rendered diagnostic


class RetentionNote(BaseModel):
    """What the audience did during a scene of the published video (the ledger's retention, mapped to scenes)."""
    retention_start: float | None = None
    retention_end: float | None = None
    drop: float = Field(description="retention_start - retention_end, in watch ratio (0.12: 12 points lost)")
    drop_per_s: float | None = None
    weakest: bool = Field(False, description="one of the scenes that lose viewers fastest")
    from_published: bool = Field(False, description="the build on disk is no longer the published one: the scene "
                                                    "is the published version's scene with this index")
    text: str = ""


class SceneView(BaseModel):
    index: int
    start_s: float = 0.0
    end_s: float = 0.0
    title: str | None = None
    narration: str = ""
    visual_kind: str = ""
    chapter: str | None = None
    thumb_url: str = ""      # a small JPEG frame of the scene (made once per video digest, off the request)
    retention: RetentionNote | None = None  # published with analytics: the scene's retention drop


class StepTiming(BaseModel):
    step: str
    kind: str | None = None
    seconds: float | None = None
    version: int | None = None
    key: str = ""            # the action key, short (12 hex digits)


class LlmCost(BaseModel):
    """The script's LLM use (the lock's `generated.usage`) priced at the brand's current price per 1M tokens."""
    provider: str = ""
    model: str = ""
    calls: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    price_input_per_1m: float = 0.0
    price_output_per_1m: float = 0.0
    cost_usd: float | None = None      # tokens x the brand's price (the recorded cost when no price is set)
    recorded_usd: float | None = None  # what the script step recorded when it ran (the price then)


class AvatarUse(BaseModel):
    step: str
    scene: int | None = None
    seconds: float = 0.0


class CostView(BaseModel):
    """What the video cost: LLM tokens x price, and avatar minutes (HeyGen bills by the minute)."""
    llm: LlmCost | None = None
    avatar: list[AvatarUse] = Field(default_factory=list)
    avatar_minutes: float = 0.0
    total_usd: float | None = None     # the priced part (the LLM); avatar minutes are shown as minutes


class AssetProvenance(BaseModel):
    """Where one file of the build came from, readable: the step, its renderer and tools, its key and timing."""
    name: str
    digest: str = ""         # short
    size: int | None = None
    step: str = ""
    kind: str | None = None
    version: int | None = None
    key: str = ""            # short
    tools: list[str] = Field(default_factory=list)  # "name version" lines from the tool fingerprint
    seconds: float | None = None
    started: str = ""        # UTC, "YYYY-MM-DD HH:MM:SS"


class ExplainView(BaseModel):
    step: str
    status: str
    key: str = ""
    why: str = ""


class ChangeView(BaseModel):
    """One input that changed since the previous build (an explain miss): which scene, which step, what."""
    step: str
    scene: int | None = None  # 0-based scene index, when the step belongs to one scene
    input: str = ""           # the step's kind of input: narration, slide, segment, scriptfiles, ...
    why: str = ""             # e.g. "params.text: old -> new"


class BuildLogView(BaseModel):
    """The last build of a video as the studio ran it (a save's preview then final): what changed, and its log."""
    video: str
    profiles: list[str] = Field(default_factory=list)
    state: str = "building"   # building | built | failed | error | interrupted (the server stopped during it)
    started_at: float = 0.0
    finished_at: float | None = None
    changes: list[ChangeView] = Field(default_factory=list)
    log: list[str] = Field(default_factory=list)


class UnitBuild(BaseModel):
    """One format's build of the video: a publish unit that is reviewed (and QC-checked) on its own."""
    unit: str                 # "<brand>/<slug>" (the first format) or "<brand>/<slug>@<format>"
    format: str = ""
    build_digest: str = ""


class VideoDetail(BaseModel):
    summary: VideoSummary
    unit: str = ""                      # the publish unit of the first format
    formats: list[str] = Field(default_factory=list)
    video_url: str = ""                 # the shown build's video (summary.shown: the final or the preview)
    captions_url: str = ""              # WebVTT
    final_url: str = ""                 # the final build's video, when there is one
    scenes: list[SceneView] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    assets: dict[str, str] = Field(default_factory=dict)  # file -> sha256
    steps: list[StepTiming] = Field(default_factory=list)
    explain: list[ExplainView] = Field(default_factory=list)
    cost: CostView = Field(default_factory=CostView)
    provenance: list[AssetProvenance] = Field(default_factory=list)
    spec: str = ""
    last_build: BuildLogView | None = None  # the studio's last build of this video (kept across restarts)
    units: list[UnitBuild] = Field(default_factory=list)  # every format's build (reviews name one)
    qc: QCView | None = None            # the final build's QC: verdict and findings (issue 11)
    other_qc: list[QCView] = Field(default_factory=list)  # the QC of the further formats' builds
    publish_gate: PublishGate = Field(default_factory=PublishGate)  # what the QC verdict means for publishing


class BuildAccepted(BaseModel):
    video: str
    queued: bool
    superseded: bool = False
