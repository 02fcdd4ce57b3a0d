"""Bring your own voice: a recorded narration file, normalised to 48 kHz mono.

A 16-bit PCM WAV in mono or stereo (what recorders and editors export) is converted here, in numpy: the channels
averaged (ffmpeg's stereo downmix), resampled by a polyphase Kaiser-windowed sinc like ffmpeg's default resampler
(`resample`; scipy's resample_poly would do the same but importing scipy.signal takes 0.4 s), and its silences found
by the rule of ffmpeg's silencedetect (qc_media.pcm_silences). An ffmpeg start costs more than the whole conversion
of a scene's narration (1-2 ms of numpy for 5 s). Any other file (MP3, AAC, Ogg, other sample widths, surround)
goes through ffmpeg.

Sentence timings for captions are estimated by spreading the sentences over the speech
between leading and trailing silence in proportion to their length (no forced alignment).
"""
from __future__ import annotations

import re
import subprocess
import wave
from math import gcd
from pathlib import Path

from pydantic import Field

from core.errors import StepError

from .base import Context, Params, Renderer, ffmpeg_version
from ._lib.narration_common import finish_timings, split_sentences, wav_seconds


SILENCE_DB, SILENCE_S = -40.0, 0.15  # quieter than this for at least this long is a pause
SILENCE = f"silencedetect=noise={SILENCE_DB:g}dB:d={SILENCE_S:g}"
MAX_PHASES = 2000  # a rate ratio that needs more polyphase phases (an odd rate such as 44056 Hz) goes to ffmpeg
MAX_PCM_S = 600  # a longer recording goes to ffmpeg, which streams it (numpy holds it whole: 10 minutes ~0.3 GB)


class RecordedVoice(Renderer):
    kind = "tts.recorded"
    version = 3  # 3: a 16-bit PCM WAV is converted in numpy (no ffmpeg process); 2: one ffmpeg pass
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
        edges = convert_pcm(Path(ctx.inputs["audio"]), p.sample_rate, out)
        if edges is None:
            edges = convert_ffmpeg(Path(ctx.inputs["audio"]), p.sample_rate, out)
        duration, _, _ = wav_seconds(out)
        lead, tail = edges
        sentences = split_sentences(p.text)
        weights = [max(1, len(s)) for s in sentences]
        span = max(0.1, duration - lead - tail)
        t, timed = lead, []
        for s, w in zip(sentences, weights):
            d = span * w / sum(weights)
            timed.append({"text": s, "start": round(t, 3), "end": round(t + d, 3)})
            t += d
        return finish_timings(ctx, timed)


def convert_ffmpeg(src: Path, rate: int, out: Path) -> tuple[float, float]:
    """`src` (any format ffmpeg reads) to `rate` Hz mono 16-bit WAV in one ffmpeg pass that also finds its silences
    (silencedetect passes the samples through; it sees them as they are written) -> (lead, tail) silence."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "info", "-i", str(src), "-vn",
                           "-af", f"aformat=sample_rates={rate}:channel_layouts=mono,{SILENCE}",
                           "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", "-map_metadata", "-1",
                           "-fflags", "+bitexact", "-flags", "+bitexact", str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise StepError(f"ffmpeg failed while reading the recorded narration: {tail}")
    starts = [float(x) for x in re.findall(r"silence_start: ([\d.]+)", proc.stderr)]
    ends = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", proc.stderr)]
    return _silence_edges(starts, ends, wav_seconds(out)[0])


def read_pcm16_wav(src: Path):
    """(frames x channels int16 array, rate) of a 16-bit PCM WAV in mono or stereo, else None (anything the wave
    module cannot read: compressed or float WAV, WAVE_FORMAT_EXTENSIBLE, another sample width, more channels; or
    longer than MAX_PCM_S)."""
    import numpy as np

    try:
        with wave.open(str(src), "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() not in (1, 2) or w.getframerate() <= 0:
                return None
            if w.getnframes() > MAX_PCM_S * w.getframerate():
                return None
            ch, rate = w.getnchannels(), w.getframerate()
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError):
        return None
    x = np.frombuffer(data, dtype="<i2")
    return x[: len(x) - len(x) % ch].reshape(-1, ch), rate


def resample(x, rate: int, to: int):
    """Float samples (1-D) from `rate` to `to` Hz, or None when the ratio needs more than MAX_PHASES phases.
    Polyphase, like ffmpeg's default resampler: a Kaiser-windowed sinc (beta 9) 32 zero crossings of the lower
    rate wide, cut off at 0.95 of the lower Nyquist frequency (ffmpeg: 32 taps, beta 9, 0.97). Each output sample
    is the dot product of the input samples around it with its phase's taps; the output is ceil(n * to / rate)
    samples long, centred (no delay)."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    if rate == to:
        return x
    g = gcd(rate, to)
    up, down = to // g, rate // g
    m = max(up, down)
    if m > MAX_PHASES:
        return None
    half = 16 * m  # the prototype filter, at the upsampled rate (rate * up): 2 * half + 1 taps
    taps = np.arange(-half, half + 1)
    h = (0.95 / m) * np.sinc(0.95 / m * taps) * np.kaiser(2 * half + 1, 9.0) * up
    width = 2 * half // up + 1  # input samples under the filter for one output sample
    # output k sits at k * down on the upsampled grid; its first input sample is n0 = ceil((k * down - half) / up),
    # and the taps it meets depend only on the offset d = n0 * up - (k * down - half), one of `up` values
    j = np.arange(width)
    idx = 2 * half - np.arange(up)[:, None] - j[None, :] * up
    table = np.where(idx >= 0, h[np.clip(idx, 0, None)], 0.0)  # (up, width)
    n_out = -(-len(x) * up // down)
    lead = half // up + 2
    xp = np.concatenate([np.zeros(lead), x, np.zeros(lead + width + down + 2)])
    windows = np.lib.stride_tricks.sliding_window_view(xp, width)  # a view: row n holds xp[n:n + width]
    y = np.empty(n_out)
    # outputs k and k + up share their taps (and their inputs lie `down` apart): one matrix-vector product per phase
    for r in range(min(up, n_out)):
        q = r * down - half
        n0 = -((-q) // up)
        count = len(range(r, n_out, up))
        y[r::up] = windows[n0 + lead: n0 + lead + count * down: down] @ table[n0 * up - q]
    return y


def convert_pcm(src: Path, rate: int, out: Path) -> tuple[float, float] | None:
    """`src`, a 16-bit PCM WAV in mono or stereo, to `rate` Hz mono 16-bit WAV without ffmpeg -> (lead, tail)
    silence, found by silencedetect's rule (qc_media.pcm_silences); None when `src` is not such a file (or its rate
    needs ffmpeg's resampler)."""
    import numpy as np

    from ._lib.qc_media import pcm_silences

    got = read_pcm16_wav(src)
    if got is None:
        return None
    x, src_rate = got
    mono = x[:, 0] if x.shape[1] == 1 else x.astype(np.float64).mean(axis=1)  # ffmpeg's stereo downmix: (L+R)/2
    y = resample(mono, src_rate, rate)
    if y is None:
        return None
    pcm = y if y.dtype == np.int16 else np.clip(np.rint(y), -32768, 32767).astype("<i2")
    if not len(pcm):
        raise StepError("the recorded narration holds no audio", hint="check the file plays, and re-export it")
    with wave.open(str(out), "wb") as w:  # in the step's scratch folder: the engine moves it into the cache
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    duration = len(pcm) / rate
    spans = pcm_silences(pcm, rate, SILENCE_DB, SILENCE_S)
    return _silence_edges([s for s, _ in spans], [e for _, e in spans], duration)


def _silence_edges(starts: list[float], ends: list[float], duration: float) -> tuple[float, float]:
    """Leading and trailing silence (seconds) from silencedetect's starts and ends. A silence lasting to the end has
    a start and no end (ffmpeg before 5) or an end at the end (ffmpeg 5 ends it at the last sample; version 2 of
    this step missed that and found no trailing silence)."""
    to_end = bool(starts) and (len(starts) > len(ends) or ends[-1] >= duration - 0.001)
    lead = ends[0] if starts and starts[0] <= 0.01 and ends and not (to_end and len(starts) == 1) else 0.0
    tail = duration - starts[-1] if to_end else 0.0
    return float(min(lead, duration / 2)), float(min(tail, duration / 2))
