"""Test-only renderers for the render-farm tests, registered in the coordinator and in each worker process."""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from renderers.base import Context, Params, Renderer


class ModelParams(Params):
    text: str


class ModelProbe(Renderer):
    """Needs a model folder only some machines have; copies a source file and stamps the model's digest."""

    kind = "test.model"
    version = 1
    needs = ("model:tiny",)
    Params = ModelParams
    inputs = ("data",)
    outputs = ("out.txt",)

    def run(self, ctx: Context) -> dict:
        model = Path(os.environ["SHOWRUNNER_MODELS"]) / "tiny" / "model_index.json"
        data: Path = ctx.inputs["data"]  # type: ignore[assignment]
        digest = hashlib.sha256(model.read_bytes()).hexdigest()
        ctx.out("out.txt").write_text(f"{ctx.params.text}\n{data.name}\n{data.read_text()}{digest}\n")
        return {"machine": os.environ.get("FARM_MACHINE", "coordinator")}


class CudaProbe(Renderer):
    """Needs CUDA, which no test machine has."""

    kind = "test.cuda"
    version = 1
    needs = ("cuda",)
    Params = ModelParams
    outputs = ("out.txt",)

    def run(self, ctx: Context) -> dict:
        ctx.out("out.txt").write_text(ctx.params.text)
        return {}


class Trivial(Renderer):
    """No work at all: measures what scheduling one step through Celery costs (bench/bench_remote.py)."""

    kind = "test.trivial"
    version = 1
    Params = ModelParams
    outputs = ("out.txt",)

    def run(self, ctx: Context) -> dict:
        ctx.out("out.txt").write_text(ctx.params.text)
        return {}


class Sleepy(Renderer):
    """CPU-free work of a fixed length, for the 1-vs-2-workers bench."""

    kind = "test.sleep"
    version = 1
    Params = ModelParams
    outputs = ("out.txt",)

    def run(self, ctx: Context) -> dict:
        time.sleep(float(os.environ.get("FARM_SLEEP_S", "0.5")))
        ctx.out("out.txt").write_text(ctx.params.text)
        return {}


def register() -> None:
    import renderers

    for cls in (ModelProbe, CudaProbe, Trivial, Sleepy):
        renderers.REGISTRY.setdefault(cls.kind, "tests:only")
        renderers._loaded[cls.kind] = cls
