"""Typed records that cross layers as JSON: what the engine writes, what publish/ and the server read.

`ActionManifest` is cache/actions/<key>.json (one finished step); `BuildManifest` is
build/<brand>/<slug>[/<format>]/manifest.json (one materialized video format, with provenance).
Every field has a default and unknown fields are kept, so manifests written by older versions
still parse; `to_json()` writes back exactly the fields that were set, so a record built by the
engine serialises to the same keys and values as the plain dicts it replaces.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict of the fields that were set (explicit None included)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Timing(Record):
    started: float = 0.0  # unix time the step started, rounded to ms
    seconds: float = 0.0  # how long it ran


class OutputEntry(Record):
    digest: str  # sha256 of the blob in cache/blobs/
    size: int = 0


class ActionManifest(Record):
    """A finished step: blobs first, this file last, so its existence means the step is done."""

    key: str = ""
    step: str = ""
    kind: str = ""
    version: int = 0
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, Any] = Field(default_factory=dict)  # input name -> digest or list of digests
    fingerprint: dict[str, Any] = Field(default_factory=dict)  # the renderer's tool fingerprint
    salt: str = ""
    outputs: dict[str, OutputEntry] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict)  # what the renderer reported (durations, usage...)
    timing: Timing | None = None


class StepEntry(Record):
    """A step in a build's dependency closure; fields are None when its manifest is gone."""

    key: str = ""
    kind: str | None = None
    version: int | None = None
    params: dict[str, Any] | None = None
    tools: dict[str, Any] | None = None
    timing: Timing | None = None
    facts: dict[str, Any] | None = None


class Asset(StepEntry):
    """One file of a build (video.mp4, thumbnail.jpg...) and the step that made it."""

    digest: str = ""
    size: int | None = None
    step: str = ""
    inputs: dict[str, Any] | None = None


class SceneEntry(Record):
    index: int
    start_s: float = 0.0
    end_s: float = 0.0
    title: str | None = None
    segment: str | None = None  # the segment step id


class QCSummary(Record):
    """The verdict of a build's quality gate (its qc.json: findings, scores and thresholds in full).
    qc.json is not part of the build digest: `digest` is how a reader knows it is the one this build wrote."""

    verdict: str = ""  # auto-approve | flag | reject (core.qc.QCVerdict)
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    digest: str = ""  # sha256 of qc.json
    step: str = ""  # the qc.verdict step
    key: str = ""


class BuildManifest(Record):
    """What `doit build` placed in build/: assets with digests, provenance and the scene timeline.
    `build_digest` names the build; approvals and uploads refer to it."""

    video: str | None = None  # "<brand>/<slug>"
    format: str | None = None
    spec: str | None = None
    build_digest: str = ""
    assets: dict[str, Asset] = Field(default_factory=dict)
    steps: dict[str, StepEntry] = Field(default_factory=dict)
    scenes: list[SceneEntry] = Field(default_factory=list)
    duration_s: float | None = None
    script: dict[str, Any] | None = None  # provenance of a generated script lock
    qc: QCSummary | None = None  # the quality gate's verdict (qc.json beside it, outside build_digest)
