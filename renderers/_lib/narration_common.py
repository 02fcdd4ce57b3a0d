"""Shared by the narration renderers: sentence splitting and the audio.wav + timings.json pair."""
from __future__ import annotations

import json
import re
import wave
from pathlib import Path

from ..base import Context, run_ffmpeg

_ABBREV = "".join(rf"(?<!\b{a})" for a in (r"Dr\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"St\.", r"vs\.", r"e\.g\.", r"i\.e\.", r"No\."))
_SENTENCE = re.compile(rf"(?:(?<=[.!?…])|(?<=[.!?…][\"')\]])){_ABBREV}\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    parts = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    return parts or [text]


def write_narration(ctx: Context, pieces: list, rate: int, pause: float, out_rate: int) -> dict:
    """Join per-sentence int16 arrays with pauses; write 48 kHz mono audio.wav and timings."""
    import numpy as np

    gap = np.zeros(int(round(pause * rate)), dtype=np.int16)
    chunks, sentences, t = [], [], 0
    for i, (text, audio) in enumerate(pieces):
        if i:
            chunks.append(gap)
            t += len(gap)
        start = t
        chunks.append(audio)
        t += len(audio)
        sentences.append({"text": text, "start": round(start / rate, 3), "end": round(t / rate, 3)})
    raw = ctx.scratch / "raw.wav"
    with wave.open(str(raw), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate(chunks).tobytes() if chunks else b"")
    resample(raw, ctx.out("audio.wav"), out_rate)
    return finish_timings(ctx, sentences)


def resample(src: Path, dst: Path, out_rate: int) -> None:
    """swr, not soxr: soxr's multi-threaded output differs run to run, which breaks reproducibility."""
    run_ffmpeg(["-i", str(src), "-ac", "1", "-ar", str(out_rate), "-af", f"aresample={out_rate}:resampler=swr:filter_size=32:phase_shift=10",
                "-c:a", "pcm_s16le", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags", "+bitexact",
                str(dst)], what="resampling narration")


def wav_seconds(path: Path) -> tuple[float, int, int]:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate(), w.getnframes(), w.getframerate()


def finish_timings(ctx: Context, sentences: list[dict]) -> dict:
    duration, samples, rate = wav_seconds(ctx.out("audio.wav"))
    if samples == 0:
        from core.errors import StepError

        raise StepError("narration produced no audio")
    timings = {"duration_s": duration, "samples": samples, "sample_rate": rate, "sentences": sentences}
    (ctx.out("timings.json")).write_text(json.dumps(timings, indent=1))
    return {"duration_s": round(duration, 4), "sentences": len(sentences)}
