"""Captions as SRT and WebVTT from the timeline's sentence times; narration is escaped for each format."""
from __future__ import annotations

import json
from pathlib import Path

from .base import Context, Params, Renderer
from ._lib.caption_text import cues, srt_text, stamp, vtt_text, wrap


class Captions(Renderer):
    kind = "captions.subtitles"
    version = 3
    inputs = ("timeline",)
    outputs = ("captions.srt", "captions.vtt")

    class Params(Params):
        max_chars: int = 84
        line_chars: int = 42

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        tl = json.loads(Path(ctx.inputs["timeline"]).read_text())
        items = cues([s for sc in tl["scenes"] for s in sc["sentences"]], p.max_chars, p.line_chars)
        srt, vtt = [], ["WEBVTT", ""]
        for n, c in enumerate(items, 1):
            lines = wrap(c["text"], p.line_chars)
            srt += [str(n), f"{stamp(c['start'], ',')} --> {stamp(c['end'], ',')}", "\n".join(map(srt_text, lines)), ""]
            vtt += [f"{stamp(c['start'], '.')} --> {stamp(c['end'], '.')}", "\n".join(map(vtt_text, lines)), ""]
        ctx.out("captions.srt").write_text("\n".join(srt), encoding="utf-8")
        ctx.out("captions.vtt").write_text("\n".join(vtt), encoding="utf-8")
        return {"cues": len(items)}
