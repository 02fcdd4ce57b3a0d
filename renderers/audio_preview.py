"""Preview only: one scene's finished soundtrack piece for the studio's fast preview (issue 10).

The final assembly mixes, meters, levels and encodes the whole soundtrack in one go (assemble_ffmpeg.py), which
costs O(video) on every edit. The preview profile instead compiles one of these steps per scene, and each piece
is *finished*: the scene's narration padded to the scene's frames exactly as its segment pads it (lead, pad, the
same `scene_frames`), the music ducked under it, levelled to the brand's loudness, limited and encoded losslessly
as FLAC in MP4 (24 kHz mono). The preview assembly then joins the pieces by stream copy (no decode, no encode):
FLAC has no encoder priming or padding, so the join is sample-exact (tested, also as decoded by Chromium). An
edit re-renders one piece and the assembly costs the same for a 3- or a 30-minute video.

The step reads the narration, not the segment's padded audio, so it runs beside the segment's video encode.

Simplifications, preview only (the final profile never compiles this step):
- each scene is levelled on its own (its own gated loudness to the brand target, a sample-peak limiter): a
  global gain would make every piece depend on every scene, i.e. O(video) work per edit. Narration-led
  scenes sit within a few LU of each other, and the final levels the whole soundtrack as one;
- the music is not one continuous bed: each scene takes its span of the (looped) music from a fixed,
  compile-time offset (`music_offset_s`, scene index x a stride), with 50 ms fades at the scene's edges, so
  a scene's piece does not depend on how long the scenes before it are;
- ducking is the final's side-chain compressor, run per scene (its state restarts at each scene).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import Field

from core.errors import StepError
from core.timeline import LEAD_S, frames_to_samples, scene_frames

from .assemble_ffmpeg import run_metered
from .base import Context, Params, Renderer, ffmpeg_version, ffprobe, pad_filter, run_ffmpeg

RATE = 24000  # the preview's audio rate
FADE_S = 0.05
SILENT_LUFS = -60.0  # a piece measured below this (or not at all: under 400 ms) keeps its level (gain 0)


class PreviewAudio(Renderer):
    kind = "audio.preview"
    version = 2
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("audio", "timings")
    optional_inputs = ("music",)
    outputs = ("audio.mp4",)

    class Params(Params):
        fps: int = Field(gt=0)
        pad: float = 0.6
        lead: float = LEAD_S
        loudness_lufs: float = -14.0
        true_peak_db: float = -1.0
        music_volume_db: float = -20.0
        music_duck_db: float = 10.0
        music_offset_s: float = Field(0.0, ge=0, description="where in the (looped) music this scene's span starts")

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        timings = json.loads(Path(ctx.inputs["timings"]).read_text())
        frames = scene_frames(timings["duration_s"], p.pad, p.fps, p.lead)
        samples = frames_to_samples(frames, p.fps, RATE)
        seconds = samples / RATE
        # the segment's padding (segment_ffmpeg.py), at the preview's rate: the same frames, so the same length
        pad = pad_filter(RATE, int(round(p.lead * 1000)), samples, mono=True)
        args = ["-i", str(ctx.inputs["audio"])]
        music = ctx.inputs.get("music")
        if music:
            length = float(ffprobe(music)["format"].get("duration") or 0.0)
            offset = p.music_offset_s % length if length > 0 else 0.0
            args += ["-stream_loop", "-1", "-ss", f"{offset:.3f}", "-i", str(music)]
            fade_out = max(0.0, seconds - FADE_S)
            graph = (f"[1:a]aresample={RATE},aformat=channel_layouts=mono,volume={p.music_volume_db}dB,"
                     f"atrim=end_sample={samples},asetpts=PTS-STARTPTS,afade=t=in:d={FADE_S},"
                     f"afade=t=out:st={fade_out:.4f}:d={FADE_S}[m];"
                     f"[0:a]{pad},asplit=2[n][sc];"
                     f"[m][sc]sidechaincompress=threshold=0.015:ratio={max(2.0, 10 ** (p.music_duck_db / 20)):.2f}:"
                     f"attack=15:release=350:makeup=1[md];"
                     f"[n][md]amix=inputs=2:duration=first:normalize=0,ebur128[out]")
        else:
            graph = f"[0:a]{pad},ebur128[out]"
        mix = ctx.scratch / "mix.wav"
        measured = run_metered(args + ["-filter_complex", graph, "-map", "[out]", "-ac", "1", "-c:a", "pcm_f32le",
                                       str(mix)], "mixing the scene's preview audio")["integrated_lufs"]
        if measured is not None and (not math.isfinite(measured) or measured < SILENT_LUFS):
            measured = None
        # mono, levelled as the final levels dual-mono stereo (BS.1770 reads mono 3.01 dB lower; a player puts it
        # on both speakers); a sample-peak limiter below the brand's true-peak limit catches what the gain lifts
        gain = 0.0 if measured is None else p.loudness_lufs - (measured + 3.0103)
        ceiling = 10 ** ((p.true_peak_db - 0.6) / 20)
        out = ctx.out("audio.mp4")
        run_ffmpeg(["-i", str(mix), "-af", f"volume={gain:.3f}dB,alimiter=limit={ceiling:.5f}:attack=2:release=60:"
                    f"level=disabled:asc=1,atrim=end_sample={samples}", "-ac", "1", "-ar", str(RATE),
                    "-sample_fmt", "s16", "-c:a", "flac", "-compression_level", "5", "-map_metadata", "-1",
                    "-fflags", "+bitexact", "-flags:a", "+bitexact", "-strict", "experimental", "-f", "mp4", str(out)],
                   what="levelling the scene's preview audio")
        got = _samples(out)
        if got != samples:
            raise StepError(f"the scene's preview audio has {got} samples, expected {samples}")
        return {"integrated_lufs": None if measured is None else round(measured, 3), "gain_db": round(gain, 3),
                "duration_s": round(seconds, 6), "samples": samples, "frames": frames, "rate": RATE, "channels": 1}


def _samples(path: Path) -> int:
    st = next(s for s in ffprobe(path)["streams"] if s.get("codec_type") == "audio")
    return int(st["duration_ts"])
