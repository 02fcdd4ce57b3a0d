"""Run one renderer directly on tiny inputs, the way the engine does."""
from __future__ import annotations

from pathlib import Path

from renderers.base import Context


def run_renderer(cls, tmp_path: Path, params: dict, inputs: dict | None = None, name: str = "r",
                 input_facts: dict | None = None):
    out = tmp_path / f"{name}-out"
    scratch = tmp_path / f"{name}-work"
    out.mkdir()
    scratch.mkdir()
    inputs = dict(inputs or {})
    for opt in cls.optional_inputs:
        inputs.setdefault(opt, None)
    ctx = Context(params=cls.Params(**params), inputs=inputs, input_facts=dict(input_facts or {}), out_dir=out, scratch=scratch, step_id=name)
    facts = cls().run(ctx)
    for o in cls.outputs:
        assert (out / o).is_file(), f"{cls.kind} did not write {o}"
    return out, facts
