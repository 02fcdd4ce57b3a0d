"""Narration with espeak-ng: robotic but tiny, fast and fully deterministic."""
from __future__ import annotations

import functools
import subprocess
import wave

from pydantic import Field

from core.errors import StepError

from .base import Context, Params, Renderer
from ._lib.narration_common import split_sentences, write_narration


@functools.lru_cache(maxsize=None)
def espeak_version() -> str:
    try:
        out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        raise StepError("espeak-ng is not installed", hint="apt-get install espeak-ng") from None
    return out.strip().split(" Data at")[0]


class EspeakTTS(Renderer):
    kind = "tts.espeak"
    version = 3
    needs = ("espeak",)  # capabilities a render worker must have (compiler/remote routes by them)
    outputs = ("audio.wav", "timings.json")

    class Params(Params):
        text: str = Field(min_length=1)
        voice: str = "en-us"
        rate: float = 1.0
        pitch: int = 50
        sentence_pause: float = 0.25
        sample_rate: int = 48000

    def tool_fingerprint(self) -> dict:
        return {"espeak-ng": espeak_version()}

    def run(self, ctx: Context) -> dict:
        import numpy as np

        p = ctx.params
        pieces, rate = [], 22050
        sentences = split_sentences(p.text)
        for i, sentence in enumerate(sentences):
            wav = ctx.scratch / f"s{i}.wav"
            proc = subprocess.run(["espeak-ng", "-v", p.voice, "-s", str(int(175 * p.rate)), "-p", str(p.pitch),
                                   "-w", str(wav), "--", sentence], capture_output=True, text=True)
            if proc.returncode != 0:
                raise StepError(f"espeak-ng failed: {proc.stderr.strip()[-300:]}", hint=f"is '{p.voice}' an espeak-ng voice?")
            with wave.open(str(wav), "rb") as w:
                rate = w.getframerate()
                pieces.append((sentence, np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)))
            ctx.progress((i + 1) / len(sentences), "speaking")
        return write_narration(ctx, pieces, rate, p.sentence_pause, p.sample_rate)
