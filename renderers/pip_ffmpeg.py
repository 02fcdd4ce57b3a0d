"""Place a presenter clip on the scene: full frame, or as a picture-in-picture box over a background.

The output is exactly one scene long (narration + lead + pad, the same `scene_frames` the
segment uses), and the presenter starts `lead` seconds late, holding its first frame, so its
lips meet the narration that the segment delays by the same lead. The presenter holds its
last frame if the scene runs longer; a still background gets the segment's Ken Burns motion.
Kept apart from the HeyGen step so that layout changes never pay for a new render.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field

from core.errors import StepError
from core.timeline import scene_frames

from .base import Context, Params, Renderer, ffmpeg_version, ffprobe, run_ffmpeg
from .segment_ffmpeg import fit_filter, motion_filter, x264_args


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


class PipCompose(Renderer):
    kind = "pip.ffmpeg"
    version = 1
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("avatar", "timings")
    optional_inputs = ("background",)
    outputs = ("clip.mp4",)

    class Params(Params):
        width: int
        height: int
        fps: int
        lead: float = 0.2
        pad: float = 0.6
        layout: Literal["full", "pip"] = "full"
        position: Literal["bottom_right", "bottom_left", "top_right", "top_left"] = "bottom_right"
        size: float = Field(0.28, gt=0.05, le=0.6)
        aspect: float = Field(1.0, ge=0.4, le=2.0)
        margin: float = Field(0.03, ge=0, le=0.2)
        border: int = Field(4, ge=0, le=40)
        border_color: str = "#ffffff"
        background_type: Literal["image", "video"] = "image"
        background_fit: Literal["cover", "contain"] = "cover"
        background_motion: str = "none"
        background_start: float = 0.0
        background_loop: bool = True

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def box(self, p) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the presenter box, border included."""
        bw = _even(p.width * p.size)
        bh = _even(bw / p.aspect)
        m = int(round(p.width * p.margin))
        x = p.width - bw - m if p.position.endswith("right") else m
        y = p.height - bh - m if p.position.startswith("bottom") else m
        return x, y, bw, bh

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        timings = json.loads(Path(ctx.inputs["timings"]).read_text())
        frames = scene_frames(timings["duration_s"], p.pad, p.fps, p.lead)
        avatar = Path(ctx.inputs["avatar"])
        if not any(s.get("codec_type") == "video" for s in ffprobe(avatar)["streams"]):
            raise StepError(f"presenter clip {avatar.name} has no video stream")
        W, H = p.width, p.height
        delay = f"tpad=start_duration={p.lead:.3f}:start_mode=clone"
        args = ["-i", str(avatar)]
        facts: dict = {"layout": p.layout, "frames": frames, "fps": p.fps, "duration_s": frames / p.fps}
        if p.layout == "full":
            graph = f"[0:v]fps={p.fps},{fit_filter('cover', W, H)},{delay},tpad=stop_mode=clone:stop=-1,format=yuv420p[v]"
        else:
            bg = ctx.inputs.get("background")
            if bg is None:
                raise StepError("a picture-in-picture presenter needs a background visual")
            x, y, bw, bh = self.box(p)
            inner_w, inner_h = _even(bw - 2 * p.border), _even(bh - 2 * p.border)
            a = inner_w / inner_h
            fg = (f"[0:v]fps={p.fps},crop='min(iw,ih*{a:.5f})':'min(ih,iw/{a:.5f})',"
                  f"scale={inner_w}:{inner_h}:flags=lanczos,setsar=1,"
                  f"pad={bw}:{bh}:(ow-iw)/2:(oh-ih)/2:color={p.border_color},{delay}[fg]")
            if p.background_type == "image":
                args += ["-loop", "1", "-framerate", str(p.fps), "-i", str(bg)]
                moving = p.background_motion != "none"
                chain = [fit_filter(p.background_fit, W, H, 1.12 if moving else 1.0)]
                if moving:
                    chain.append(motion_filter(p.background_motion, W, H, frames, p.fps))
            else:
                args += (["-stream_loop", "-1"] if p.background_loop else []) + ["-ss", f"{p.background_start:.3f}",
                                                                                 "-i", str(bg)]
                chain = [f"fps={p.fps}", fit_filter(p.background_fit, W, H), "tpad=stop_mode=clone:stop=-1"]
            graph = (f"{fg};[1:v]{','.join(chain)}[bg];"
                     f"[bg][fg]overlay=x={x}:y={y}:eof_action=repeat:format=auto,format=yuv420p[v]")
            facts["box"] = {"x": x, "y": y, "width": bw, "height": bh}
        run_ffmpeg(args + ["-filter_complex", graph, "-map", "[v]", "-an", "-frames:v", str(frames)]
                   + x264_args(p.fps, intermediate=True) + [str(ctx.out("clip.mp4"))], what="placing the presenter",
                   progress=ctx.progress, total_s=frames / p.fps)
        return facts
