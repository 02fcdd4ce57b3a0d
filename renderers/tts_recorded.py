"""Bring your own voice: a recorded narration file, normalised to 48 kHz mono.

Sentence timings for captions are estimated by spreading the sentences over the speech
between leading and trailing silence in proportion to their length (no forced alignment).
"""
from __future__ import annotations

import re
import subprocess

from pydantic import Field

from core.errors import StepError

from .base import Context, Params, Renderer, ffmpeg_version
from ._lib.narration_common import finish_timings, split_sentences, wav_seconds


SILENCE = "silencedetect=noise=-40dB:d=0.15"


class RecordedVoice(Renderer):
    kind = "tts.recorded"
    version = 2  # one ffmpeg pass since issue 12: the same samples and silences as the two passes before
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("audio",)
    outputs = ("audio.wav", "timings.json")

    class Params(Params):
        text: str = Field(min_length=1, description="the words spoken, for captions")
        sample_rate: int = 48000

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        out = ctx.out("audio.wav")
        # one pass: converted to the narration format and, on the way, its silences found (silencedetect passes the
        # samples through; it sees them as they are written)
        proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "info", "-i",
                               str(ctx.inputs["audio"]), "-vn", "-af",
                               f"aformat=sample_rates={p.sample_rate}:channel_layouts=mono,{SILENCE}",
                               "-ac", "1", "-ar", str(p.sample_rate), "-c:a", "pcm_s16le", "-map_metadata", "-1",
                               "-fflags", "+bitexact", "-flags", "+bitexact", str(out)], capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
            raise StepError(f"ffmpeg failed while reading the recorded narration: {tail}")
        duration, _, _ = wav_seconds(out)
        lead, tail = _silence_edges(proc.stderr, duration)
        sentences = split_sentences(p.text)
        weights = [max(1, len(s)) for s in sentences]
        span = max(0.1, duration - lead - tail)
        t, timed = lead, []
        for s, w in zip(sentences, weights):
            d = span * w / sum(weights)
            timed.append({"text": s, "start": round(t, 3), "end": round(t + d, 3)})
            t += d
        return finish_timings(ctx, timed)


def _silence_edges(log: str, duration: float) -> tuple[float, float]:
    """Leading and trailing silence (seconds) from silencedetect's log lines."""
    starts = [float(x) for x in re.findall(r"silence_start: ([\d.]+)", log)]
    ends = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", log)]
    lead = ends[0] if starts and starts[0] <= 0.01 and ends else 0.0
    tail = duration - starts[-1] if starts and (not ends or len(starts) > len(ends)) else 0.0
    return min(lead, duration / 2), min(tail, duration / 2)
