"""The final soundtrack in parts, so that an edit re-renders the part it touched, not the whole (issue 12, goal 2).

`audio.final` mixes, levels and encodes the whole soundtrack in one step: an edit anywhere costs O(video). A longer
video's soundtrack is instead compiled (compiler/plan.py `soundtrack_parts`) into parts of whole scenes, split
where the soundtrack is silent anyway: between two scenes (the narration's pad, then the next scene's lead), and,
when the brand has music, only at a chapter mark, where the music now starts again from the top of its track
(fading out and in next to the silent join). Two steps per part and two for the whole:

- `audio.part` mixes a part: its scenes' narration padded exactly as their segments pad it, the music ducked under
  it (the same filters as `audio.final`), metered: the 400 ms block loudnesses (BS.1770's gating blocks) and the
  music check's block energies. It depends on its own scenes only.
- `audio.gain` merges every part's blocks into the soundtrack's integrated loudness (gated over all blocks, as a
  meter of the whole would) and gives the one gain that brings it to the brand's target, rounded to
  `GAIN_STEP_DB`. The rounding is what keeps an edit local: one scene's edit moves the whole's loudness by a few
  hundredths of a dB, so the rounded gain, and with it every other part's key, is almost always unchanged.
- `audio.encode` levels a part: the gain, plus what the part's own true-peak limiter takes back (the same bracket
  search and 4x-oversampled limiter as `audio.final`, aimed at the part's own loudness + the gain), so each part
  sits where the gain puts it and the whole is on target; then encodes it as mono AAC (the same encoder settings
  as `audio.final`) and meters the coded stream (loudness blocks, true peak; a true-peak overshoot is limited
  harder and encoded again). AAC codes 1024-sample frames, so each part but the last is coded as whole frames, its
  silent tail made longer by under a frame. It depends on its part's mix and the gain only.
- `audio.join` places the parts on the track's frame grid: each starts at the frame edge nearest to where its scenes
  start in the video (leaving out the silent last frame of the part before when that is nearer), so a part's sound
  is at most half a frame (10.7 ms) early or late against its pictures, never more: a lip-sync error under a third
  of a video frame, far below what viewers notice (ITU-R BT.1359 puts detectability at 45 ms early, 125 ms late).
  It then copies the parts' AAC frames into one track (no decode), writes it as dual mono like `audio.final`,
  and merges the facts: loudness gated over every part's blocks, the highest true peak, the music check from every
  part's block energies.

What a listener hears differently from `audio.final`: the music starts again at the chapter marks where the
soundtrack is split, each part's limiter starts fresh in the silence between parts, and a part after the first
may sit up to 10.7 ms off its pictures.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import Field

from core.errors import StepError
from core.timeline import LEAD_S

from .assemble_ffmpeg import (AAC_PRIMING, encode_measured, find_gain, gated_loudness, limited, mix_pass,
                              next_try)
from .audio_final import scene_samples
from .base import Context, Params, Renderer, ffmpeg_version, run_ffmpeg
from ._lib.aac_dual import dual_mono_mp4
from ._lib.aac_join import FRAME, PART_EDGE_ZEROS, join_aac_mp4
from ._lib.qc_media import music_blocks, music_levels_of

GAIN_STEP_DB = 0.2  # the soundtrack's gain is a multiple of this: at most 0.1 dB off the target, and stable under edits
DUAL_MONO_DB = 10 * math.log10(2)  # BS.1770 weighs dual-mono stereo this much above its one channel
EDGE_SILENCE = 10 ** (-60 / 20)  # a part's silent edges must be below this (-60 dBFS) before they are zeroed


class PartParams(Params):
    fps: int = Field(gt=0)
    first: bool = Field(True, description="the soundtrack's first part (no silent head: it starts the video)")
    last: bool = Field(True, description="the soundtrack's last part (no silent tail: it ends the video)")

    @property
    def profile(self) -> str:  # mix_pass writes the music check's stems for the final
        return "final"


class PartMix(Renderer):
    kind = "audio.part"
    version = 1
    needs = ("ffmpeg",)
    inputs = ("audios", "timings")
    optional_inputs = ("music",)
    outputs = ("mix.wav", "loudness.json")

    class Params(PartParams):
        pads: list[float] = Field(description="each of the part's scenes' pad (seconds after its narration)")
        lead: float = LEAD_S
        music_volume_db: float = -20.0
        music_duck_db: float = 10.0

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        import numpy as np

        p = ctx.params
        audios, timings = list(ctx.inputs["audios"]), list(ctx.inputs["timings"])
        if not (len(audios) == len(timings) == len(p.pads)) or not audios:
            raise StepError(f"{len(audios)} narrations, {len(timings)} timings and {len(p.pads)} pads: one each per scene")
        samples = scene_samples(timings, p.pads, p.fps, p.lead)
        pads = [(int(round(p.lead * 1000)), n) for n in samples]
        edges = (0 if p.first else PART_EDGE_ZEROS, 0 if p.last else PART_EDGE_ZEROS)
        if sum(samples) < edges[0] + edges[1] + FRAME:
            raise StepError(f"a soundtrack part of {sum(samples)} samples is too short for its silent edges")
        mix, _, stems, total, blocks = mix_pass(audios, ctx.inputs.get("music"), p, ctx.scratch, pads,
                                                   edges=edges, blocks=True)
        speech = music = []
        if stems:
            se, re_ = music_blocks(*(np.fromfile(ctx.scratch / f"{a}.f32", dtype="<f4") for a in ("ns", "ms")))
            speech, music = [float(x) for x in se], [float(x) for x in re_]
        mix.replace(ctx.out("mix.wav"))
        blocks = [b for b in blocks if math.isfinite(b)]
        lufs = gated_loudness(blocks)  # the meter's own reading, to its 0.1 LU; None: nothing above its -70 LUFS gate
        ctx.out("loudness.json").write_text(json.dumps(
            {"lufs": lufs, "blocks": blocks, "samples": sum(samples),
             "speech": speech, "music": music}, sort_keys=True) + "\n")
        return {"duration_s": round(total, 4), "scenes": len(samples),
                "integrated_lufs": None if lufs is None else round(lufs + DUAL_MONO_DB, 1)}


class PartGain(Renderer):
    kind = "audio.gain"
    version = 1
    inputs = ("parts",)
    outputs = ("gain.json",)

    class Params(Params):
        loudness_lufs: float = -14.0
        step_db: float = Field(GAIN_STEP_DB, gt=0, le=1)

    def tool_fingerprint(self) -> dict:
        return {}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        blocks = [b for part in ctx.inputs["parts"] for b in json.loads(Path(part).read_text())["blocks"]]
        lufs = gated_loudness(blocks)
        if lufs is None:
            raise StepError("the narration is silent; cannot normalise loudness")
        gain = round(round((p.loudness_lufs - (lufs + DUAL_MONO_DB)) / p.step_db) * p.step_db, 3)
        ctx.out("gain.json").write_text(json.dumps({"gain_db": gain}) + "\n")
        return {"gain_db": gain, "mix_lufs": round(lufs + DUAL_MONO_DB, 2)}


class PartEncode(Renderer):
    kind = "audio.encode"
    version = 1
    needs = ("ffmpeg",)
    inputs = ("mix", "loudness", "gain")
    outputs = ("part.m4a", "meter.json")

    class Params(Params):
        first: bool = Field(True, description="the soundtrack's first part (no silent head)")
        last: bool = Field(True, description="the soundtrack's last part (no silent tail; not made whole frames)")
        true_peak_db: float = -1.0
        audio_bitrate: str = "192k"

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        import numpy as np

        p = ctx.params
        loudness = json.loads(Path(ctx.inputs["loudness"]).read_text())
        gain = json.loads(Path(ctx.inputs["gain"]).read_text())["gain_db"]
        mix, lufs, n = Path(ctx.inputs["mix"]), loudness["lufs"], int(loudness["samples"])
        length = n if p.last else -(-n // FRAME) * FRAME  # whole frames: silence added to the silent tail
        ceiling = 10 ** ((p.true_peak_db - 0.6) / 20)
        # aimed at the part's own loudness + the gain: what the part's limiter takes is given back (a silent part,
        # nothing above the meter's gate, gets the gain alone)
        target = None if lufs is None else lufs + gain + DUAL_MONO_DB
        level = gain if lufs is None else find_gain(mix, gain, ceiling, lufs + gain)
        levelled, pcm = ctx.scratch / "level.f32", ctx.scratch / "part.f32"
        for attempt in range(6):
            # levelled, then checked as audio.final checks its soundtrack: the coded stream's loudness within 0.2 LU
            # of the aim, its true peak under the limit (an encoder overshoot is limited harder and coded again)
            run_ffmpeg(["-i", str(mix), "-af", ",".join(limited(level, ceiling)), "-f", "f32le", "-c:a", "pcm_f32le",
                        str(levelled)], what="levelling audio")
            x = np.fromfile(levelled, dtype="<f4")[:n]
            x = np.concatenate([x, np.zeros(length - len(x), "<f4")])  # the resampling may leave a sample less
            edges = [x[:PART_EDGE_ZEROS]] * (not p.first) + [x[n - PART_EDGE_ZEROS:n]] * (not p.last)
            loud = max((float(np.abs(e).max()) for e in edges), default=0.0)
            if loud > EDGE_SILENCE:
                raise StepError(f"a soundtrack part's edge is not silent ({20 * math.log10(loud):.1f} dBFS): it cannot "
                                "be joined by stream copy")
            if not p.first:
                x[:PART_EDGE_ZEROS] = 0.0  # digital silence: the frames on both sides of a join code nothing
            if not p.last:
                x[n - PART_EDGE_ZEROS:] = 0.0
            x.tofile(pcm)
            facts = encode_measured(pcm, length, "part.m4a", p.audio_bitrate, ctx.scratch, ctx.progress,
                                    length / 48000, raw=True, dual=False, blocks=True)
            again = next_try(facts, target, p.true_peak_db, level, ceiling)
            if again is None or attempt == 5:
                break
            level, ceiling = again
        (ctx.scratch / "part.m4a").replace(ctx.out("part.m4a"))
        finite = {k: v if v is not None and math.isfinite(v) else None
                  for k, v in facts.items() if k in ("integrated_lufs", "true_peak_dbtp")}  # -inf: a silent part
        ctx.out("meter.json").write_text(json.dumps({"blocks": [b for b in facts["blocks"] if math.isfinite(b)],
                                                     "true_peak_dbtp": finite["true_peak_dbtp"], "samples": n,
                                                     "coded": length}, sort_keys=True) + "\n")
        return {"samples": n, "coded": length, "gain_db": round(level, 3), **finite}


class JoinAudio(Renderer):
    kind = "audio.join"
    version = 1
    inputs = ("parts", "meters", "loudness", "gain")
    outputs = ("audio.m4a",)

    class Params(Params):
        scenes: int = Field(ge=1, description="scenes in the soundtrack (reported)")

    def tool_fingerprint(self) -> dict:
        return {"priming": AAC_PRIMING}

    def run(self, ctx: Context) -> dict:
        meters = [json.loads(Path(m).read_text()) for m in ctx.inputs["meters"]]
        drops, offsets = frame_placement([m["samples"] for m in meters])
        at = sum(m["coded"] - FRAME * d for m, d in zip(meters, drops))
        mono = ctx.scratch / "mono.m4a"
        try:
            join_aac_mp4(list(ctx.inputs["parts"]), mono, at, drops)
            dual_mono_mp4(mono, ctx.out("audio.m4a"))
        except ValueError as e:
            raise StepError(f"could not join the soundtrack's parts: {e}") from e
        lufs = gated_loudness([b for m in meters for b in m["blocks"]])
        peaks = [m["true_peak_dbtp"] for m in meters if m["true_peak_dbtp"] is not None]
        facts = {"integrated_lufs": None if lufs is None else round(lufs + DUAL_MONO_DB, 1),
                 "true_peak_dbtp": max(peaks) if peaks else None}
        loudness = [json.loads(Path(x).read_text()) for x in ctx.inputs["loudness"]]
        levels = music_levels_of([e for x in loudness for e in x["speech"]], [e for x in loudness for e in x["music"]])
        if levels:
            facts.update({k: round(v, 2) for k, v in levels.items()})
        gain = json.loads(Path(ctx.inputs["gain"]).read_text())["gain_db"]
        return {**facts, "gain_db": gain, "duration_s": round(at / 48000, 4), "scenes": ctx.params.scenes,
                "parts": len(meters), "av_offset_ms": round(max(map(abs, offsets)) / 48, 2)}


def frame_placement(samples: list[int]) -> tuple[list[bool], list[int]]:
    """Where each part goes on the track's 1024-sample frame grid: each part but the last is coded as whole frames
    (its length rounded up with silence); whether to leave out its last frame (silent) so that the next part starts
    at the frame edge nearest to where its scenes start in the video -> (drop the last frame, per part; each part's
    start minus its scenes' start, in samples: within half a frame, 10.7 ms)."""
    drops, offsets, audio, video = [], [], 0, 0
    for i, n in enumerate(samples):
        offsets.append(audio - video)
        coded = n if i + 1 == len(samples) else -(-n // FRAME) * FRAME
        drop = i + 1 < len(samples) and abs(audio + coded - FRAME - (video + n)) < abs(audio + coded - (video + n))
        drops.append(drop)
        audio, video = audio + coded - FRAME * drop, video + n
    return drops, offsets
