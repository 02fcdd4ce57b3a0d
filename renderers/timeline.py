"""The composition: integer frames per scene from the narration durations, and absolute cue times."""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field

from core.errors import StepError
from core.timeline import scene_frames

from .base import Context, Params, Renderer


class Timeline(Renderer):
    kind = "timeline.compose"
    version = 1
    inputs = ("timings",)
    outputs = ("timeline.json",)

    class Params(Params):
        fps: int
        width: int
        height: int
        lead: float
        pads: list[float]
        titles: list[str | None]
        chapters: list[str | None]
        max_duration_s: float
        limit_source: str = Field("", description="where the limit comes from, for the error message")

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        scenes, frame = [], 0
        for i, path in enumerate(ctx.inputs["timings"]):
            t = json.loads(Path(path).read_text())
            frames = scene_frames(t["duration_s"], p.pads[i], p.fps, p.lead)
            start = frame / p.fps
            scenes.append({
                "index": i, "start_frame": frame, "frames": frames, "start_s": start,
                "end_s": (frame + frames) / p.fps, "title": p.titles[i], "chapter": p.chapters[i],
                "narration_s": t["duration_s"],
                "sentences": [{"text": s["text"], "start": start + p.lead + s["start"], "end": start + p.lead + s["end"]}
                              for s in t["sentences"]],
            })
            frame += frames
        duration = frame / p.fps
        if duration > p.max_duration_s:
            raise StepError(f"the narrated video is {duration:.1f} s long, over the {p.max_duration_s:g} s limit of "
                            f"{p.limit_source}", hint="shorten the narration or choose a longer format")
        data = {"fps": p.fps, "width": p.width, "height": p.height, "total_frames": frame, "duration_s": duration,
                "scenes": scenes}
        ctx.out("timeline.json").write_text(json.dumps(data, indent=1))
        return {"duration_s": duration, "frames": frame, "scenes": len(scenes)}
