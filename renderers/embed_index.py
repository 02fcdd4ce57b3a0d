"""The embeddings of every video of a brand in one file, for the similarity checks (qc.policy).

One step per brand (`<brand>/_qc/embed-index`) reads each video's `embed.minilm` output once, so a brand of n
videos has n policy steps with 2 inputs each (their own embedding and this index) instead of n steps with n
inputs: computing the keys of a no-op build stays linear in the number of videos.
"""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field

from .base import Context, Params, Renderer


class EmbeddingIndex(Renderer):
    kind = "embed.index"
    version = 1
    inputs = ("embeddings",)
    outputs = ("index.json",)

    class Params(Params):
        videos: list[str] = Field(description="video ids, in the order of the `embeddings` input")

    def run(self, ctx: Context) -> dict:
        paths = ctx.inputs["embeddings"]
        names = ctx.params.videos
        if len(paths) != len(names):
            from core.errors import StepError

            raise StepError(f"{len(names)} video ids but {len(paths)} embeddings")
        index = {name: json.loads(Path(p).read_text())["vector"] for name, p in zip(names, paths)}
        ctx.out("index.json").write_text(json.dumps({"vectors": index}, sort_keys=True))
        return {"videos": len(index)}
