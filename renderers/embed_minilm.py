"""The sentence embedding of a video's narration (all-MiniLM-L6-v2, renderers/_lib/style_embed.py).

One step per video, keyed by the text: the similarity check of every other video of the brand reads it, so
adding or editing one video embeds that one text again, never the whole channel. The vector is rounded to
six decimals so the file's bytes (and the keys downstream) do not follow the last bits of the float maths.
"""
from __future__ import annotations

import json

from ._lib import style_embed
from .base import Context, Params, Renderer


class ScriptEmbedding(Renderer):
    kind = "embed.minilm"
    version = 2  # 2: the model run in numpy (style_embed.MiniLM), not through sentence-transformers
    outputs = ("embedding.json",)

    class Params(Params):
        text: str

    def tool_fingerprint(self) -> dict:
        return style_embed.fingerprint()

    def run(self, ctx: Context) -> dict:
        vec = style_embed.embed([ctx.params.text])[0]
        data = {"model": style_embed.MODEL_NAME, "dim": int(vec.shape[0]), "vector": [round(float(x), 6) for x in vec]}
        ctx.out("embedding.json").write_text(json.dumps(data, separators=(",", ":")))
        return {"dim": data["dim"], "words": len(ctx.params.text.split())}
