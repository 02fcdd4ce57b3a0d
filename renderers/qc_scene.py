"""QC of one scene's segment (issue 11): dead air, pace, clipping, black and frozen pictures.

One step per scene, fed only by that scene's segment and narration, so an edit re-checks that scene alone.
Its findings carry times *within the scene* and no scene index (both would change the key when another scene
changes): qc.master reads every scene's findings.json and places them on the final video's timeline.

Silences that touch the scene's start or end (the lead-in and the pad after the narration) only matter joined
with the neighbouring scenes' edges, so they are reported as scores (`audio.head_silence_s`,
`audio.tail_silence_s`) and judged by qc.master; silences inside the scene are judged here.
"""
from __future__ import annotations

import json
import re
import wave
from pathlib import Path

from pydantic import Field

from core.qc import Finding

from .base import Context, Params, Renderer, ffmpeg_version
from ._lib.qc_media import pcm_silences, pictures, severity, silences, write_findings

EDGE_S = 0.02  # a silence starting or ending this close to the segment's edge touches the edge
SCORE_SILENCE_S = 0.1  # silences this short still count for the scores (and the joins qc.master computes)
FULL_SCALE = 32766  # |int16 sample| at or above this is full scale
CLIP_RUN = 3  # consecutive full-scale samples that make one clipping event
WORD_CHARS = 4.7  # letters in an average English word: the unit of the pace check


def read_pcm16(wav: Path):
    """(samples as frames x channels int16, rate) of a 16-bit PCM WAV (what segments write), or None for other
    sample widths."""
    import numpy as np

    with wave.open(str(wav), "rb") as w:
        if w.getsampwidth() != 2:
            return None
        rate, ch = w.getframerate(), w.getnchannels()
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, ch), rate


def clipping_runs(wav: Path, pcm=None) -> tuple[int, list[float]]:
    """Runs of >= CLIP_RUN consecutive full-scale samples in a 16-bit PCM file (or its `read_pcm16`): (count,
    start times of the first few)."""
    import numpy as np

    pcm = pcm if pcm is not None else read_pcm16(wav)
    if pcm is None:
        return 0, []
    x, rate = pcm
    ch = x.shape[1]
    x = x.astype(np.int32)
    found = []
    for hot in (x >= FULL_SCALE, x <= -FULL_SCALE):  # a waveform flat at the top, or at the bottom
        for c in range(ch):
            edges = np.diff(np.concatenate(([0], hot[:, c].astype(np.int8), [0])))
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            found.append(starts[(ends - starts) >= CLIP_RUN])
    runs = np.sort(np.concatenate(found))
    return int(len(runs)), [round(float(s) / rate, 3) for s in runs[:5]]


class SceneQC(Renderer):
    kind = "qc.scene"
    # 2: black and frozen stretches from the segment's facts when it measured them (no decode); 3: silences found
    # in the samples it reads for the clipping check (no ffmpeg process; the same spans as silencedetect)
    version = 3
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("video", "audio", "timings")
    outputs = ("findings.json",)

    class Params(Params):
        lead: float = Field(0.2, ge=0, description="silence before the narration in the segment (s)")
        target_wpm: float | None = Field(None, gt=0, description="the voice's pace (words per minute); None: unjudged")
        expect_motion: bool = Field(False, description="the visual moves (clip, animated still, avatar): freezes are "
                                                       "defects; slides and stills are intended stills")
        silence_s: float = 3.0
        silence_error_s: float = 5.0
        silence_noise_db: float = -50.0
        pace_tolerance: float = 0.3
        pace_error_tolerance: float = 0.6
        pace_min_words: int = 8
        clipping_runs: int = 0
        clipping_error_runs: int = 20
        black_s: float = 0.5
        black_error_s: float = 2.0
        black_pixel_threshold: float = 0.03
        freeze_s: float = 2.0
        freeze_error_s: float = 6.0
        freeze_noise_db: float = -60.0

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        timings = json.loads(Path(ctx.inputs["timings"]).read_text())
        video, audio = Path(ctx.inputs["video"]), Path(ctx.inputs["audio"])
        with wave.open(str(audio), "rb") as w:
            duration = w.getnframes() / w.getframerate()
        findings: list[Finding] = []
        scores: dict[str, float] = {"audio.scene_s": duration}

        # dead air inside the scene (edges: scores for qc.master)
        head = tail = 0.0
        inner = []
        pcm = read_pcm16(audio)  # read once for the silences and the clipping; other widths go through ffmpeg
        found = (pcm_silences(pcm[0], pcm[1], p.silence_noise_db, SCORE_SILENCE_S) if pcm is not None
                 else silences(audio, p.silence_noise_db, SCORE_SILENCE_S, duration))
        for s, e in found:
            if s <= EDGE_S:
                head = e
            if e >= duration - EDGE_S:
                tail = duration - s
            if s > EDGE_S and e < duration - EDGE_S:
                inner.append((s, e))
        scores.update({"audio.head_silence_s": head, "audio.tail_silence_s": tail,
                       "audio.max_silence_s": max((e - s for s, e in inner), default=0.0)})
        for s, e in inner:
            sev = severity(e - s, p.silence_s, p.silence_error_s)
            if sev:
                findings.append(Finding(
                    check="audio.silence", at_s=round(s, 3), severity=sev, reason="audio.pacing",
                    field=["narration"], value=round(e - s, 2), limit=p.silence_s,
                    message=f"{e - s:.1f} s of silence in the narration, {s:.1f} s into the scene (dead air; "
                            f"at most {p.silence_s:g} s)"))

        # pace: words over the spoken span (first sentence start to last sentence end, pauses included), words
        # counted as standard words of WORD_CHARS letters: "Half of it is always lit by the Sun" is quick to say
        sentences = timings.get("sentences") or []
        words = sum(len(re.findall(r"\w+", s["text"])) for s in sentences)
        letters = sum(len(w) for s in sentences for w in re.findall(r"\w+", s["text"]))
        span = (sentences[-1]["end"] - sentences[0]["start"]) if sentences else 0.0
        if span > 0:
            wpm = letters / WORD_CHARS / span * 60.0
            scores.update({"audio.wpm": wpm, "audio.words": float(words), "audio.raw_wpm": words / span * 60.0})
            if p.target_wpm:
                ratio = wpm / p.target_wpm
                scores["audio.pace_ratio"] = ratio
                sev = severity(abs(ratio - 1.0), p.pace_tolerance, p.pace_error_tolerance)
                if sev and words >= p.pace_min_words:
                    findings.append(Finding(
                        check="audio.pace", at_s=round(p.lead + sentences[0]["start"], 3), severity=sev,
                        reason="audio.pacing", field=["narration"], value=round(wpm, 1), limit=round(p.target_wpm, 1),
                        message=f"the narration runs at {wpm:.0f} words a minute (words of {WORD_CHARS:g} letters), "
                                f"{'faster' if ratio > 1 else 'slower'} "
                                f"than the voice's {p.target_wpm:.0f} by {abs(ratio - 1) * 100:.0f}% (tolerance "
                                f"{p.pace_tolerance * 100:.0f}%)"))

        # clipping in the narration
        runs, where = clipping_runs(audio, pcm)
        scores["audio.clipped_runs"] = float(runs)
        sev = severity(runs, p.clipping_runs, p.clipping_error_runs)
        if sev:
            findings.append(Finding(
                check="audio.clipping", at_s=where[0] if where else None, severity=sev, reason="audio.loudness",
                field=["narration"], value=float(runs), limit=float(p.clipping_runs),
                message=f"the narration clips {runs} time(s) (runs of {CLIP_RUN}+ full-scale samples), first "
                        f"{where[0]:.2f} s into the scene; lower the recording's level"))

        # black pictures anywhere; frozen pictures only where the visual was meant to move (one decode for both)
        black, frozen = self._pictures(ctx, video, duration)
        scores["picture.max_black_s"] = max((e - s for s, e in black), default=0.0)
        for s, e in black:
            sev = "error" if e - s >= p.black_error_s else "warning" if e - s >= p.black_s else None
            if sev:
                findings.append(Finding(
                    check="picture.black", at_s=s, severity=sev, reason="visual.glitch", field=["visual"],
                    value=round(e - s, 2), limit=p.black_s,
                    message=f"{e - s:.1f} s of black picture, {s:.1f} s into the scene"))

        if p.expect_motion:
            scores["picture.max_freeze_s"] = max((e - s for s, e in frozen), default=0.0)
            for s, e in frozen:
                dark = sum(max(0.0, min(e, be) - max(s, bs)) for bs, be in black)
                if dark >= 0.9 * (e - s):
                    continue  # a black stretch stands still too: it is reported once, as black
                sev = "error" if e - s >= p.freeze_error_s else "warning"
                findings.append(Finding(
                    check="picture.freeze", at_s=s, severity=sev, reason="visual.glitch", field=["visual"],
                    value=round(e - s, 2), limit=p.freeze_s,
                    message=f"the moving picture stands still for {e - s:.1f} s, {s:.1f} s into the scene (a clip "
                            "shorter than the narration, or a stalled render)"))
        return write_findings(ctx.out("findings.json"), findings, scores)

    @staticmethod
    def _pictures(ctx: Context, video: Path, duration: float) -> tuple[list, list]:
        """Black and frozen stretches: from the segment's facts when it measured them while encoding, at this
        brand's pixel threshold and noise floor (no decode), else from a decode of the segment."""
        p = ctx.params
        black_min = min(p.black_s, 0.2)
        seen = (ctx.input_facts.get("video") or {}).get("pictures")
        if (isinstance(seen, dict) and seen.get("black_pixel_threshold") == p.black_pixel_threshold
                and (not p.expect_motion or (seen.get("frozen") is not None
                                             and seen.get("freeze_noise_db") == p.freeze_noise_db))):
            black = [(s, e) for s, e in seen["black"] if e - s >= black_min - 1e-6]
            frozen = [(s, e) for s, e in seen["frozen"] or [] if e - s >= p.freeze_s - 1e-6] if p.expect_motion else []
            return black, frozen
        return pictures(video, duration, _fps(video), p.black_pixel_threshold, black_min,
                        p.freeze_noise_db if p.expect_motion else None, p.freeze_s)


def _fps(video: Path) -> float:
    from .base import ffprobe

    st = next((s for s in ffprobe(video)["streams"] if s.get("codec_type") == "video"), {})
    num, _, den = str(st.get("avg_frame_rate") or "30/1").partition("/")
    try:
        return float(num) / float(den or 1) or 30.0
    except (ValueError, ZeroDivisionError):
        return 30.0
