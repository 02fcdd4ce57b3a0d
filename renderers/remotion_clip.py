"""Remotion compositions: a React component from recipes/remotion/ rendered to an mp4 by the
system Chromium (`browserExecutable`) and Remotion's compositor from npm.

Like manim clips, the clip is exactly as long as the scene (`durationInFrames` from the
narration timings) and gets the brand palette and fonts, the frame size and the narration's
sentence times as props, next to the scene's own `props`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field

from core.errors import StepError
from core.timeline import scene_frames

from .base import Context, Params, Renderer, ffprobe
from ._lib.browser import chromium_path, chromium_version
from ._lib.remotion_common import remotion_versions, run_node, unpack

PROJECT = Path(__file__).resolve().parents[1] / "recipes" / "remotion"
RESERVED = ("width", "height", "fps", "durationInFrames", "lead", "sentences", "palette", "fonts")


class RemotionClip(Renderer):
    kind = "remotion.clip"
    version = 1
    needs = ("chromium", "ffmpeg", "node")  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("bundle", "script", "timings")
    outputs = ("clip.mp4",)

    class Params(Params):
        composition: str
        props: dict[str, Any] = Field(default_factory=dict)
        width: int
        height: int
        fps: int
        pad: float
        lead: float
        palette: dict[str, str]
        fonts: dict[str, str]

    def tool_fingerprint(self) -> dict:
        return {**remotion_versions(str(PROJECT)), "chromium": chromium_version().split(";")[0]}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        clash = [k for k in p.props if k in RESERVED]
        if clash:
            raise StepError(f"Remotion prop '{clash[0]}' is set by Showrunner (from the format, narration and brand)",
                            hint=f"rename it; reserved props: {', '.join(RESERVED)}")
        timings = json.loads(Path(ctx.inputs["timings"]).read_text())
        frames = scene_frames(timings["duration_s"], p.pad, p.fps, p.lead)
        sentences = [{"text": s["text"], "start": p.lead + s["start"], "end": p.lead + s["end"]}
                     for s in timings.get("sentences", [])]
        props = {**p.props, "width": p.width, "height": p.height, "fps": p.fps, "durationInFrames": frames,
                 "lead": p.lead, "sentences": sentences, "palette": p.palette, "fonts": p.fonts}
        bundle = ctx.scratch / "bundle"
        unpack(Path(ctx.inputs["bundle"]), bundle)
        clip = ctx.scratch / "clip.mp4"
        job = {"serve_url": str(bundle), "composition": p.composition, "props": props, "output": str(clip),
               "browser": chromium_path(), "concurrency": max(1, min(4, (os.cpu_count() or 2) // 2))}
        run_node(Path(ctx.inputs["script"]), job, ctx.scratch, f"Remotion composition '{p.composition}'", ctx.progress)
        if not clip.is_file():
            raise StepError(f"Remotion composition '{p.composition}' wrote no video")
        info = ffprobe(clip)
        video = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
        if video is None or (int(video["width"]), int(video["height"])) != (p.width, p.height):
            raise StepError(f"Remotion composition '{p.composition}' rendered "
                            f"{video and video['width']}x{video and video['height']}, expected {p.width}x{p.height}",
                            hint="compositions must take width/height/fps/durationInFrames from their props (calculateMetadata)")
        clip.replace(ctx.out("clip.mp4"))
        return {"width": p.width, "height": p.height, "fps": p.fps, "frames": frames,
                "duration_s": round(float(info["format"].get("duration", 0)), 4), "composition": p.composition}
