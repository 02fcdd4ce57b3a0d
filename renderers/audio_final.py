"""The final soundtrack as its own step, beside the segments' video encodes (issue 12).

The final assembly used to mix, level and encode the soundtrack itself, after every segment was encoded: on a
one-scene edit the chain was narration -> segment (video) -> assembly (audio + mux), one step after the other on a
2-core machine. The soundtrack needs no picture: this step pads each scene's narration exactly as its segment
does (`scene_frames` from the same timings, pad, lead and fps, the same ffmpeg filter, so the same samples), then
runs the assembly's own `soundtrack` (mix, duck, two-pass loudness with the 4x-oversampled true-peak limiter, AAC,
true-peak check). The engine runs it as soon as the narration is there, in parallel with the segments; the assembly
then only cuts and muxes. The bytes of the final video are the same as before (tests/renderers/test_audio_final.py
compares them with the assembly's own path).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from pydantic import Field

from core.errors import StepError
from core.timeline import LEAD_S, frames_to_samples, scene_frames

from .assemble_ffmpeg import soundtrack
from .base import Context, Params, Renderer, ffmpeg_version
from .segment_ffmpeg import pad_narration  # noqa: F401  (the segments' padding: what this step's must equal)


def scene_samples(timings: list[Path], pads: list[float], fps: int, lead: float) -> list[int]:
    """Each scene's samples at 48 kHz: its segment's frames (`scene_frames`), as the segments count them."""
    return [frames_to_samples(scene_frames(json.loads(Path(t).read_text())["duration_s"], pad, fps, lead), fps)
            for t, pad in zip(timings, pads)]


class FinalAudio(Renderer):
    kind = "audio.final"
    version = 5  # 2: mono until the encoder, AAC without the mid/side search; 3: the gain from a bracketing pass;
    # 4: the AAC channel coded once and written twice (_lib/aac_dual.py), no noise substitution; 5: a bracket whose
    # lower gain is already on target (the limiter idle) is taken as it is, not searched again

    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("audios", "timings")
    optional_inputs = ("music",)
    outputs = ("audio.m4a",)

    class Params(Params):
        fps: int = Field(gt=0)
        pads: list[float] = Field(description="each scene's pad (seconds after its narration), as its segment's")
        lead: float = LEAD_S
        loudness_lufs: float = -14.0
        true_peak_db: float = -1.0
        music_volume_db: float = -20.0
        music_duck_db: float = 10.0
        audio_bitrate: str = "192k"

        @property
        def profile(self) -> str:  # `soundtrack` is shared with the preview's legacy path
            return "final"

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        audios, timings = ctx.inputs["audios"], ctx.inputs["timings"]
        if not (len(audios) == len(timings) == len(p.pads)):
            raise StepError(f"{len(audios)} narrations, {len(timings)} timings and {len(p.pads)} pads: one each per scene")
        pads = [(int(round(p.lead * 1000)), n) for n in scene_samples(timings, p.pads, p.fps, p.lead)]
        audio, facts, gain, total = soundtrack(list(audios), ctx.inputs.get("music"), p, ctx.scratch, ctx.progress,
                                               pads=pads)
        shutil.copyfile(audio, ctx.out("audio.m4a"))
        return {**facts, "gain_db": round(gain, 2), "duration_s": round(total, 4), "scenes": len(pads)}
