"""A crossfade between two scenes, as a short piece the assembly splices in by stream copy.

The crossfade is centred on the scene boundary and never changes the timeline: the piece
replaces the last `tail` frames of scene A and the first `head` frames of scene B, and blends
A (holding its last frame after the boundary) into B (holding its first frame before it). The
narration is not overlapped, so the audio stays sample-exact PCM and captions keep their times.

The segments force an IDR frame where the piece begins and ends (segment_ffmpeg's `split_head`
and `split_tail`), so the cut needs no re-encode; changing one scene re-renders only its own
segment and the (at most two) crossfades that touch it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from core.errors import StepError

from .base import Context, EncodeParams, EncodingRenderer, Renderer, ffmpeg_version, ffprobe, run_ffmpeg
from .segment_ffmpeg import x264_args


def frame_count(path: Path, facts: dict | None) -> int:
    if facts and isinstance(facts.get("frames"), int):
        return facts["frames"]
    video = next(s for s in ffprobe(path)["streams"] if s.get("codec_type") == "video")
    if "nb_frames" not in video:
        raise StepError(f"cannot count the frames of {path.name}")
    return int(video["nb_frames"])


class FfmpegTransition(EncodingRenderer, Renderer):
    kind = "transition.ffmpeg"
    version = 2  # 2: x264 on one thread, as the segments (segment_ffmpeg.X264)
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("a", "b")
    outputs = ("video.mp4",)

    class Params(EncodeParams):
        fps: int
        width: int
        height: int
        tail: int = Field(ge=1, description="frames taken from the end of scene A")
        head: int = Field(ge=1, description="frames taken from the start of scene B")
        style: Literal["fade"] = "fade"

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        a, b = Path(ctx.inputs["a"]), Path(ctx.inputs["b"])
        fa = frame_count(a, ctx.input_facts.get("a"))
        fb = frame_count(b, ctx.input_facts.get("b"))
        if p.tail >= fa or p.head >= fb:
            raise StepError(f"a {p.tail + p.head}-frame crossfade is longer than a scene it joins ({fa} and {fb} frames)",
                            hint="use a shorter transition_s, or a cut")
        n = p.tail + p.head
        # seek half a frame early: the first decoded frame is then exactly frame fa - tail
        start = max(0.0, (fa - p.tail - 0.5) / p.fps)
        graph = (f"[0:v]trim=end_frame={p.tail},setpts=PTS-STARTPTS,tpad=stop_mode=clone:stop={p.head}[a];"
                 f"[1:v]trim=end_frame={p.head},setpts=PTS-STARTPTS,tpad=start_mode=clone:start={p.tail}[b];"
                 f"[a][b]xfade=transition={p.style}:duration={n / p.fps:.6f}:offset=0,format=yuv420p[v]")
        run_ffmpeg(["-ss", f"{start:.6f}", "-i", str(a), "-i", str(b), "-filter_complex", graph, "-map", "[v]", "-an",
                    "-frames:v", str(n)] + x264_args(p.fps, p.profile, p.encoder) + [str(ctx.out("video.mp4"))],
                   what="rendering a crossfade")
        got = frame_count(ctx.out("video.mp4"), None)
        if got != n:
            raise StepError(f"the crossfade has {got} frames, expected {n}")
        return {"frames": n, "fps": p.fps, "duration_s": n / p.fps}
