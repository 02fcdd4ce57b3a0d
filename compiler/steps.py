"""The plan's data: steps, their inputs, and what each video materializes (JSON, printable).

`compiler/plan.py` (the Compiler) and `compiler/qcplan.py` (the QC steps) both make steps with `make_step`;
they live here so that neither imports the other's module the wrong way round (plan.py calls qcplan.py).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

import renderers


class Ref(BaseModel):
    """An input: one output of another step, or a file in the repository."""

    step: str | None = None
    output: str | None = None
    file: str | None = None  # path relative to the repo root


class Step(BaseModel):
    id: str
    video: str
    kind: str
    version: int
    params: dict[str, Any]
    inputs: dict[str, Ref | list[Ref]] = Field(default_factory=dict)
    salt: str = ""
    outputs: list[str]

    def deps(self) -> list[str]:
        out: dict[str, None] = {}  # ordered and O(1) membership: a brand's similarity check has an input per video
        for v in self.inputs.values():
            for r in (v if isinstance(v, list) else [v]):
                if r.step:
                    out.setdefault(r.step, None)
        return list(out)


class FormatOutputs(BaseModel):
    format: str
    dir: str  # build/<brand>/<slug>[/<format>]
    files: dict[str, Ref]
    scenes: list[str]  # segment step ids, in order
    timeline: str
    # qc.json (final profile only): materialized beside `files` but left out of the build digest, so a QC
    # threshold change re-judges a build without invalidating its human approval
    qc: Ref | None = None


class VideoPlan(BaseModel):
    id: str
    spec: str
    steps: list[str]
    formats: list[FormatOutputs]
    script: dict[str, Any] | None = None  # provenance of a generated script lock (`generated:`), for the manifest


class Plan(BaseModel):
    steps: dict[str, Step] = Field(default_factory=dict)
    videos: dict[str, VideoPlan] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)  # video id or file -> rendered diagnostics
    pending: dict[str, str] = Field(default_factory=dict)  # video id -> why it cannot compile yet
    warnings: dict[str, list[str]] = Field(default_factory=dict)  # video id -> fallbacks used (printed, never silent)

    def add(self, step: Step) -> str:
        existing = self.steps.get(step.id)
        if existing is not None and existing != step:
            raise ValueError(f"two different steps share the id {step.id}")
        self.steps[step.id] = step
        return step.id

    def closure(self, ids: list[str]) -> list[str]:
        """`ids` plus everything they depend on, in dependency order."""
        seen: dict[str, None] = {}

        def visit(i: str) -> None:
            if i in seen:
                return
            for d in self.steps[i].deps():
                visit(d)
            seen[i] = None

        for i in ids:
            visit(i)
        return list(seen)


def make_step(plan: Plan, id: str, video: str, kind: str, params: dict, inputs: dict | None = None, salt: str = "") -> str:
    cls = renderers.get(kind)
    resolved = cls.Params(**params).model_dump(mode="json")
    inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
    missing = [n for n in cls.inputs if n not in inputs]
    if missing:
        raise ValueError(f"{id}: renderer {kind} needs inputs {missing}")
    return plan.add(Step(id=id, video=video, kind=kind, version=cls.version, params=resolved, inputs=inputs,
                         salt=salt, outputs=list(cls.outputs)))


def out(step: str, name: str) -> Ref:
    return Ref(step=step, output=name)
