"""QC of the final video (issue 11): loudness, true peak, stream format, A/V length, dead air across scene joins,
music under speech; and the per-scene findings (qc.scene) placed on the final timeline.

Music level under speech (docs/quality.md): the assembly's soundtrack is, up to one gain and a peak limiter,
narration + ducked music, and the narration alone is known (the segments' audio.wav, joined in order, sample-
exact on the same timeline). So the music is what remains of the final audio after the narration, scaled by
the least-squares gain (fitted every 10 ms, so the assembly's peak limiter is not taken for music), is taken
out. Both are high-passed at 100 Hz (a rough stand-in for loudness weighting: bass rumble should not count as
much as it carries energy) and measured in 400 ms blocks where the narration
speaks (within 20 dB of its loud blocks); the score is music energy over speech energy there, in dB. With no
music it reads what the AAC encoder and the limiter leave, about -27 dB on real narration: it tells loud music
from quiet music, not -30 dB from -40 dB.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import Field

from core.qc import Finding, QCFindings

from .base import Context, Params, Renderer, ffmpeg_version, ffprobe
from ._lib.qc_media import MUSIC_RATE, ebur128, mmss, music_levels, pcm, severity, write_findings

GAIN_S = 0.01


def music_ratio(final: Path, narrations: list[Path], scratch: Path) -> dict[str, float] | None:
    """{"music_db": music under speech re speech (dB), "gap_music_db": music in the pauses re speech (dB),
    "gain": narration gain} or None when no block of speech is found."""
    import numpy as np

    from .base import run_ffmpeg

    joined = scratch / "narration.txt"
    joined.write_text("".join(f"file '{p.absolute()}'\n" for p in narrations))
    narr = scratch / "narration.wav"
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(joined), "-af", "highpass=f=100", "-ac", "1", "-ar",
                str(MUSIC_RATE), "-c:a", "pcm_f32le", str(narr)], what="joining the narration")
    n = pcm(narr, MUSIC_RATE).astype(np.float64)
    mixed_hp = scratch / "mix.wav"
    run_ffmpeg(["-i", str(final), "-map", "0:a:0", "-af", "highpass=f=100", "-ac", "1", "-ar", str(MUSIC_RATE),
                "-c:a", "pcm_f32le", str(mixed_hp)], what="decoding the soundtrack")
    m = pcm(mixed_hp, MUSIC_RATE).astype(np.float64)
    # the encoder's delay is compensated by the container; check the alignment anyway (within +-50 ms)
    lag = _lag(m, n, int(0.05 * MUSIC_RATE))
    if lag > 0:
        m = m[lag:]
    elif lag < 0:
        n = n[-lag:]
    size = min(len(m), len(n))
    m, n = m[:size], n[:size]
    nn = float(n @ n)
    if nn <= 0:
        return None
    # the gain, every 10 ms: the assembly's limiter turns the narration down on its peaks, and a single gain
    # would count that as music. Music, uncorrelated with the voice, loses ~1/160 of its energy this way.
    g = int(GAIN_S * MUSIC_RATE)
    k = size // g
    mb, nb = m[:k * g].reshape(k, g), n[:k * g].reshape(k, g)
    den = (nb * nb).sum(axis=1)
    gains = np.where(den > nn / size * g * 1e-6, (mb * nb).sum(axis=1) / np.maximum(den, 1e-30), 0.0)
    speech = (gains[:, None] * nb).reshape(-1)
    rest = m[:k * g] - speech
    size = k * g
    gain = float(m @ n) / nn
    out = music_levels(speech[:size], rest[:size])
    if out is not None:
        out.update({"gain": gain, "lag_ms": lag * 1000 / MUSIC_RATE})
    return out


def _lag(m, n, max_lag: int) -> int:
    """The shift (samples) of `m` against `n` that lines them up best, within +-max_lag, from their first 20 s."""
    import numpy as np

    size = min(len(m), len(n), 20 * MUSIC_RATE)
    if size <= 2 * max_lag:
        return 0
    a, b = m[:size], n[:size]
    fft = 1 << (2 * size - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(a, fft) * np.conj(np.fft.rfft(b, fft)), fft)
    lags = np.concatenate((corr[:max_lag + 1], corr[-max_lag:]))
    best = int(np.argmax(lags))
    return best if best <= max_lag else best - len(lags)


class MasterQC(Renderer):
    kind = "qc.master"
    version = 2  # 2: loudness, true peak and music level from the assembly's facts (audio.final's) when it has them
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("video", "timeline", "scenes")
    optional_inputs = ("narrations",)
    outputs = ("findings.json",)

    class Params(Params):
        width: int
        height: int
        fps: int
        max_duration_s: float = Field(gt=0, description="the brand's or format's length limit")
        limit_source: str = ""
        video_codec: str = "h264"
        audio_codec: str = "aac"
        loudness_lufs: float = -14.0
        true_peak_db: float = -1.0
        loudness_tolerance_lu: float = 1.0
        loudness_error_lu: float = 3.0
        true_peak_tolerance_db: float = 0.3
        true_peak_error_db: float = 0.0
        silence_s: float = 3.0
        silence_error_s: float = 5.0
        av_mismatch_s: float = 0.1
        av_mismatch_error_s: float = 0.5
        duration_tolerance_s: float = 0.2
        music: bool = Field(False, description="the soundtrack has music: measure it under the speech")
        music_ratio_db: float = -15.0
        music_error_ratio_db: float = -8.0

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        video = Path(ctx.inputs["video"])
        tl = json.loads(Path(ctx.inputs["timeline"]).read_text())
        starts = [sc["start_s"] for sc in tl["scenes"]]
        findings: list[Finding] = []
        scores: dict[str, float] = {}
        scene_files = list(ctx.inputs["scenes"])
        findings += self._scenes(scene_files, starts, scores, p)
        info = ffprobe(video)
        findings += self._format(info, tl, scores, p)
        findings += self._loudness(video, scores, p, ctx.input_facts.get("video") or {})
        narrations = ctx.inputs.get("narrations")
        if p.music and narrations:
            findings += self._music(video, list(narrations), ctx.scratch, scores, p, ctx.input_facts.get("video") or {})
        findings.sort(key=lambda f: (f.at_s if f.at_s is not None else -1.0, f.check))
        return write_findings(ctx.out("findings.json"), findings, scores)

    # ---- the scenes' findings on the final timeline, and dead air across their joins ----

    def _scenes(self, files: list[Path], starts: list[float], scores: dict, p) -> list[Finding]:
        if len(files) != len(starts):
            from core.errors import StepError

            raise StepError(f"{len(files)} scene QC results for {len(starts)} scenes in the timeline")
        out: list[Finding] = []
        per = [QCFindings.model_validate(json.loads(Path(f).read_text())) for f in files]
        for i, (qc, start) in enumerate(zip(per, starts)):
            for f in qc.findings:
                out.append(f.model_copy(update={"scene": i, "at_s": None if f.at_s is None
                                                else round(start + f.at_s, 3)}))
        # aggregate scores: the worst scene for each measurement, plus the paces' spread
        for name, pick in (("audio.max_silence_s", max), ("picture.max_black_s", max), ("picture.max_freeze_s", max),
                           ("audio.clipped_runs", sum)):
            vals = [q.scores[name] for q in per if name in q.scores]
            if vals:
                scores[name] = pick(vals)
        ratios = [q.scores["audio.pace_ratio"] for q in per if "audio.pace_ratio" in q.scores]
        if ratios:
            scores["audio.pace_ratio_min"], scores["audio.pace_ratio_max"] = min(ratios), max(ratios)
        words = sum(q.scores.get("audio.words", 0.0) for q in per)
        talk = sum(q.scores.get("audio.words", 0.0) / q.scores["audio.wpm"] * 60
                   for q in per if q.scores.get("audio.wpm"))
        if talk:
            scores["audio.wpm"] = words / talk * 60
        # silences that run across scene joins: the tail of one scene + the head of the next (and on through a
        # scene that is silent throughout), plus the video's opening and closing silence
        run, run_from, run_scene = 0.0, 0.0, 0
        joins: list[tuple[float, float, int]] = []
        for i, (qc, start) in enumerate(zip(per, starts)):
            length = qc.scores.get("audio.scene_s", 0.0)
            head, tail = qc.scores.get("audio.head_silence_s", 0.0), qc.scores.get("audio.tail_silence_s", 0.0)
            if length and head >= length - 0.05:  # silent throughout
                if run == 0.0:
                    run_from, run_scene = start, i
                run += length
                continue
            if run or head:
                joins.append((run_from if run else start, run + head, run_scene if run else i))
            run, run_from, run_scene = tail, start + length - tail, i
        if run:
            joins.append((run_from, run, run_scene))
        longest = max((d for _, d, _ in joins), default=0.0)
        scores["audio.max_silence_s"] = max(scores.get("audio.max_silence_s", 0.0), longest)
        for at, d, i in joins:
            sev = severity(d, p.silence_s, p.silence_error_s)
            if sev:
                out.append(Finding(
                    check="audio.silence", scene=i, at_s=round(at, 3), severity=sev, reason="audio.pacing",
                    field=["pad"], value=round(d, 2), limit=p.silence_s,
                    message=f"{d:.1f} s without narration at {mmss(at)} (the scene's pad and the next scene's lead-in, "
                            f"or a silent scene; at most {p.silence_s:g} s)"))
        return out

    # ---- streams: what YouTube receives ----

    def _format(self, info: dict, tl: dict, scores: dict, p) -> list[Finding]:
        out: list[Finding] = []
        streams = info.get("streams", [])
        v = next((s for s in streams if s.get("codec_type") == "video"), None)
        a = next((s for s in streams if s.get("codec_type") == "audio"), None)
        problems = []
        if v is None:
            problems.append("no video stream")
        else:
            num, _, den = str(v.get("avg_frame_rate") or "0/1").partition("/")
            fps = float(num) / float(den) if float(den or 0) else 0.0
            scores["picture.fps"] = fps
            if (v.get("width"), v.get("height")) != (p.width, p.height):
                problems.append(f"{v.get('width')}x{v.get('height')} instead of {p.width}x{p.height}")
            if abs(fps - p.fps) > 0.01:
                problems.append(f"{fps:.3f} fps instead of {p.fps}")
            if v.get("codec_name") != p.video_codec:
                problems.append(f"video codec {v.get('codec_name')} instead of {p.video_codec}")
            if v.get("pix_fmt") != "yuv420p":
                problems.append(f"pixel format {v.get('pix_fmt')} instead of yuv420p")
        if a is None:
            problems.append("no audio stream")
        elif a.get("codec_name") != p.audio_codec:
            problems.append(f"audio codec {a.get('codec_name')} instead of {p.audio_codec}")
        duration = float(info.get("format", {}).get("duration") or 0.0)
        scores["picture.duration_s"] = duration
        expected = float(tl.get("duration_s") or 0.0)
        if abs(duration - expected) > p.duration_tolerance_s:
            problems.append(f"{duration:.2f} s long, the timeline says {expected:.2f} s")
        if problems:
            out.append(Finding(check="picture.format", severity="error", reason="visual.low_quality",
                               message="the video does not match its format: " + "; ".join(problems)))
        if duration > p.max_duration_s:
            out.append(Finding(check="picture.duration", severity="error", reason="script.too_long",
                               value=round(duration, 2), limit=p.max_duration_s,
                               message=f"the video is {duration:.1f} s long, over the {p.max_duration_s:g} s limit"
                                       + (f" of {p.limit_source}" if p.limit_source else "")))
        if v is not None and a is not None:
            vd, ad = _stream_seconds(v), _stream_seconds(a)
            if vd is not None and ad is not None:
                gap = abs(vd - ad)
                scores["picture.av_mismatch_s"] = gap
                sev = severity(gap, p.av_mismatch_s, p.av_mismatch_error_s)
                if sev:
                    out.append(Finding(
                        check="picture.av_mismatch", at_s=round(min(vd, ad), 3), severity=sev, reason="visual.glitch",
                        value=round(gap, 3), limit=p.av_mismatch_s,
                        message=f"the audio runs {ad:.2f} s and the picture {vd:.2f} s: the "
                                f"{'picture' if ad > vd else 'sound'} stops {gap:.2f} s early"))
        return out

    # ---- loudness against the brand's targets ----

    def _loudness(self, video: Path, scores: dict, p, made: dict) -> list[Finding]:
        # the final assembly copies the soundtrack's AAC stream as it was encoded, and audio.final measured that
        # stream with this same meter (integrated loudness and 4x-oversampled true peak): its facts are this file's
        # audio measured, so a second decode is spared; an assembly without them is measured here
        if all(isinstance(made.get(k), (int, float)) for k in ("integrated_lufs", "true_peak_dbtp")):
            m = {"integrated_lufs": made["integrated_lufs"], "true_peak_dbtp": made["true_peak_dbtp"]}
        else:
            m = ebur128(video)
        out: list[Finding] = []
        lufs, tp = m["integrated_lufs"], m["true_peak_dbtp"]
        if lufs is None or not math.isfinite(lufs):
            return [Finding(check="audio.loudness", severity="error", reason="audio.loudness",
                            message="the soundtrack is silent (no integrated loudness)")]
        scores["audio.integrated_lufs"] = lufs
        miss = lufs - p.loudness_lufs
        sev = severity(abs(miss), p.loudness_tolerance_lu, p.loudness_error_lu)
        if sev:
            out.append(Finding(check="audio.loudness", severity=sev, reason="audio.loudness", value=lufs,
                               limit=p.loudness_lufs,
                               message=f"integrated loudness {lufs:.1f} LUFS, {abs(miss):.1f} LU "
                                       f"{'above' if miss > 0 else 'below'} the brand's {p.loudness_lufs:g} LUFS"))
        if tp is not None and math.isfinite(tp):
            scores["audio.true_peak_dbtp"] = tp
            sev = ("error" if tp > p.true_peak_error_db else
                   "warning" if tp > p.true_peak_db + p.true_peak_tolerance_db else None)
            if sev:
                out.append(Finding(check="audio.true_peak", severity=sev, reason="audio.loudness", value=tp,
                                   limit=p.true_peak_db,
                                   message=f"true peak {tp:.1f} dBTP, over the brand's {p.true_peak_db:g} dBTP"))
        return out

    # ---- music under the narration ----

    def _music(self, video: Path, narrations: list[Path], scratch: Path, scores: dict, p, made: dict) -> list[Finding]:
        # audio.final measured its own stems (the narration and the ducked music, before they were mixed) and the
        # assembly passes that on; otherwise the narration is taken out of the final mix here (a decode)
        if isinstance(made.get("music_db"), (int, float)):
            r = {k: made[k] for k in ("music_db", "gap_music_db") if isinstance(made.get(k), (int, float))}
        else:
            r = music_ratio(video, narrations, scratch)
        if r is None:
            return []
        scores["audio.music_under_speech_db"] = r["music_db"]
        if "gap_music_db" in r:
            scores["audio.music_in_pauses_db"] = r["gap_music_db"]
        sev = severity(r["music_db"], p.music_ratio_db, p.music_error_ratio_db)
        if not sev:
            return []
        return [Finding(check="audio.music_level", severity=sev, reason="audio.music", value=round(r["music_db"], 1),
                        limit=p.music_ratio_db,
                        message=f"the music under the narration is only {-r['music_db']:.1f} dB below the voice "
                                f"(at least {-p.music_ratio_db:g} dB keeps words clear): lower music.volume_db or "
                                "raise music.duck_db")]


def _stream_seconds(stream: dict) -> float | None:
    d = stream.get("duration")
    try:
        return float(d) if d is not None else None
    except ValueError:
        return None
