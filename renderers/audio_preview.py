"""Preview only: one scene's soundtrack piece for the studio's fast preview (issue 10).

The final assembly mixes, meters and levels the whole soundtrack in one go (assemble_ffmpeg.py), which costs
O(video) on every edit. The preview profile instead compiles one of these steps per scene: the scene's
narration (its segment's sample-exact audio.wav) with the music ducked under it, metered and resampled to the
preview's 24 kHz mono, cached under its own key. An edit re-mixes one scene; the preview assembly joins the
pieces with the concat demuxer and applies one gain computed from the pieces' stored loudness (see
`assemble_ffmpeg.merged_loudness`), so its cost no longer depends on mixing the whole video.

Simplifications, preview only (the final profile never compiles this step):
- the music is not one continuous bed: each scene takes its span of the (looped) music from a fixed,
  compile-time offset (`music_offset_s`, scene index x a stride), with 50 ms fades at the scene's edges, so
  a scene's piece does not depend on how long the scenes before it are (otherwise one edit that changes a
  duration would re-mix every later scene);
- ducking is the final's side-chain compressor, run per scene (its state restarts at each scene).
"""
from __future__ import annotations

import math
import wave

from pydantic import Field

from core.errors import StepError

from .assemble_ffmpeg import run_metered
from .base import Context, Params, Renderer, ffmpeg_version, ffprobe

RATE = 24000  # the preview's audio rate (assemble_ffmpeg encodes 24 kHz mono AAC for the preview)
FADE_S = 0.05


class PreviewAudio(Renderer):
    kind = "audio.preview"
    version = 1
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("audio",)
    optional_inputs = ("music",)
    outputs = ("audio.wav",)

    class Params(Params):
        music_volume_db: float = -20.0
        music_duck_db: float = 10.0
        music_offset_s: float = Field(0.0, ge=0, description="where in the (looped) music this scene's span starts")

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        narration = ctx.inputs["audio"]
        with wave.open(str(narration), "rb") as w:
            seconds = w.getnframes() / w.getframerate()
        music = ctx.inputs.get("music")
        args = ["-i", str(narration)]
        if music:
            length = float(ffprobe(music)["format"].get("duration") or 0.0)
            offset = p.music_offset_s % length if length > 0 else 0.0
            args += ["-stream_loop", "-1", "-ss", f"{offset:.3f}", "-i", str(music)]
            fade_out = max(0.0, seconds - FADE_S)
            graph = (f"[1:a]aresample=48000,aformat=channel_layouts=mono,volume={p.music_volume_db}dB,"
                     f"atrim=0:{seconds:.4f},asetpts=PTS-STARTPTS,afade=t=in:d={FADE_S},"
                     f"afade=t=out:st={fade_out:.4f}:d={FADE_S}[m];"
                     f"[0:a]aformat=channel_layouts=mono,asplit=2[n][sc];"
                     f"[m][sc]sidechaincompress=threshold=0.015:ratio={max(2.0, 10 ** (p.music_duck_db / 20)):.2f}:"
                     f"attack=15:release=350:makeup=1[md];"
                     f"[n][md]amix=inputs=2:duration=first:normalize=0,ebur128,aresample={RATE}[out]")
        else:
            graph = f"[0:a]aformat=channel_layouts=mono,ebur128,aresample={RATE}[out]"
        out = ctx.out("audio.wav")
        measured = run_metered(args + ["-filter_complex", graph, "-map", "[out]", "-ac", "1", "-c:a", "pcm_f32le",
                                       "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                                       str(out)], "mixing the scene's preview audio")["integrated_lufs"]
        if not out.is_file():
            raise StepError("ffmpeg wrote no preview audio")
        return {"integrated_lufs": measured if measured is not None and math.isfinite(measured) else None,
                "duration_s": round(seconds, 6), "rate": RATE, "channels": 1}

