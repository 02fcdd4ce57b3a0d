"""Shared by the media QC steps (qc.scene, qc.master, qc.captions): ffmpeg's detectors, parsed, and findings.

The detectors run ffmpeg once per file with `-f null` and read the filters' log lines; a detection still open
at the end of the file (ffmpeg prints no end for it) is closed at the file's duration.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

from core.errors import StepError
from core.qc import Finding, QCFindings, Severity

_NUM = r"(-?[\d.]+(?:e-?\d+)?)"


def _log(args: list[str], what: str) -> str:
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"] + args
                          + ["-f", "null", "-"], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise StepError(f"ffmpeg failed while {what}: {tail}")
    return proc.stderr


def _spans(starts: list[float], ends: list[float], duration: float) -> list[tuple[float, float]]:
    """Pair starts with ends in order; an unmatched last start runs to the end of the file."""
    spans = []
    for i, s in enumerate(starts):
        e = ends[i] if i < len(ends) else duration
        spans.append((round(s, 3), round(max(s, e), 3)))
    return spans


def silences(wav: Path, noise_db: float, min_s: float, duration: float) -> list[tuple[float, float]]:
    """Stretches of `wav` quieter than `noise_db` for at least `min_s` seconds: [(start, end)]."""
    err = _log(["-i", str(wav), "-map", "0:a:0", "-af", f"silencedetect=noise={noise_db:g}dB:d={min_s:g}"],
               "looking for silences")
    return _spans([float(x) for x in re.findall(rf"silence_start: {_NUM}", err)],
                  [float(x) for x in re.findall(rf"silence_end: {_NUM}", err)], duration)


def pcm_silences(x, rate: int, noise_db: float, min_s: float) -> list[tuple[float, float]]:
    """What `silences` finds, from 16-bit samples already in memory (`x`: frames x channels), without an ffmpeg
    process: ffmpeg's silencedetect (5.1) on s16 input truncates its threshold to an integer sample value, calls a
    sample quiet when it lies strictly inside (-threshold, threshold), and reports a run of quiet frames (every
    channel quiet) at least `min_s` long (rounded to samples) from its first quiet sample to its first loud one; a
    run that lasts to the end ends at the end. The same spans (tests/renderers/test_qc_media.py compares them)."""
    import numpy as np

    thr = int(10 ** (noise_db / 20) * 32767)
    x = np.asarray(x).reshape(len(x), -1)
    quiet = ((x > -thr) & (x < thr)).all(axis=1)
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    need = max(1, int(min_s * rate + 0.5))
    return [(round(s / rate, 3), round(e / rate, 3)) for s, e in zip(starts, ends) if e - s >= need]


def pictures(video: Path, duration: float, fps: float, black_threshold: float, black_min_s: float,
             freeze_noise_db: float | None = None, freeze_min_s: float = 2.0) -> tuple[list, list]:
    """Black stretches (blackdetect: 98% of the pixels darker than `black_threshold`) and, when `freeze_noise_db`
    is given, frozen stretches (freezedetect) of `video`, in one decode: ([(start, end)], [(start, end)])."""
    chain = f"blackdetect=d={black_min_s:g}:pix_th={black_threshold:g}:pic_th=0.98"
    if freeze_noise_db is not None:
        chain += f",freezedetect=n={freeze_noise_db:g}dB:d={freeze_min_s:g}"
    err = _log(["-i", str(video), "-map", "0:v:0", "-vf", chain], "looking for black and frozen frames")
    black = []
    for s, e in zip(re.findall(rf"black_start:{_NUM}", err), re.findall(rf"black_end:{_NUM}", err)):
        s, e = float(s), float(e)
        # blackdetect ends a stretch that lasts to the end at the last frame's time: one frame short
        black.append((round(s, 3), round(duration if e >= duration - 1.5 / fps else e, 3)))
    frozen = _spans([float(x) for x in re.findall(rf"freezedetect\.freeze_start: {_NUM}", err)],
                    [float(x) for x in re.findall(rf"freezedetect\.freeze_end: {_NUM}", err)], duration)
    return black, frozen


# What a final segment measures while it encodes (segment_ffmpeg.py, `pictures`): black stretches at this pixel
# threshold and frozen stretches at this noise floor, as short as the detectors see them (a black stretch from one
# sampled frame, a freeze from FREEZE_MIN_S), so qc.scene can apply any duration threshold without decoding the
# segment. The detectors look at PICTURE_SAMPLES_PER_S frames a second (every third frame at 30 fps: stretches are
# placed to 0.1 s; on every 1080p frame the two detectors cost 5-8 % of the encode, sampled 2-4 %).
# A brand with another pixel threshold or noise floor gets qc.scene's own decode (`pictures` above).
PICTURE_BLACK_TH = 0.03
PICTURE_FREEZE_DB = -60.0
PICTURE_SAMPLES_PER_S = 10
FREEZE_MIN_S = 0.15
PICTURE_FILE = "pictures.txt"


def picture_branch(fps: int, freeze: bool) -> str:
    """The end of a segment's filtergraph: `split=2[v][q]` (`[v]` is encoded) and, on `[q]`, the detectors on every
    n-th frame writing the black and frozen stretches' starts and ends, as frame metadata, to PICTURE_FILE (a fixed
    name in the step's scratch folder, ffmpeg's working directory: no path enters the filtergraph). Nothing on the
    encoded branch changes: the same video bytes."""
    chain = [f"framestep={max(1, fps // PICTURE_SAMPLES_PER_S)}", f"blackdetect=d=0:pix_th={PICTURE_BLACK_TH:g}:pic_th=0.98"]
    if freeze:
        chain.append(f"freezedetect=n={PICTURE_FREEZE_DB:g}dB:d={FREEZE_MIN_S:g}")
    return "split=2[v][q];[q]" + ",".join(chain + [f"metadata=mode=print:file={PICTURE_FILE}", "nullsink"])


def read_pictures(path: Path, duration: float, freeze: bool) -> dict:
    """The stretches in a PICTURE_FILE, as segment facts: {"black": [[s, e]], "frozen": [[s, e]] or None, and the
    detectors' settings}. A stretch still open at the end of the scene ends at `duration`; frames past it (a clip
    longer than the scene is read a few frames further than it is encoded) are ignored."""
    text = path.read_text() if path.exists() else ""

    def spans(start: str, end: str) -> list[list[float]]:
        out: list[list[float]] = []
        for key, value in re.findall(rf"lavfi\.({re.escape(start)}|{re.escape(end)})={_NUM}", text):
            t = float(value)
            if key == start:
                if t < duration and (not out or out[-1][1] is not None):
                    out.append([round(t, 3), None])
            elif out and out[-1][1] is None:
                out[-1][1] = round(min(t, duration), 3)
        return [[s, duration if e is None else e] for s, e in out]

    return {"black": spans("black_start", "black_end"),
            "frozen": spans("freezedetect.freeze_start", "freezedetect.freeze_end") if freeze else None,
            "black_pixel_threshold": PICTURE_BLACK_TH, "freeze_noise_db": PICTURE_FREEZE_DB}


# The music check (qc.master; audio.final's stems): signals at MUSIC_RATE, energies per BLOCK_S block
MUSIC_RATE = 16000
BLOCK_S = 0.4


def music_levels(speech, music) -> dict[str, float] | None:
    """{"music_db": the music's energy re the speech's over the blocks where the voice talks, "gap_music_db": the
    music in the pauses re the speech's level}, from the two signals (numpy, MUSIC_RATE, high-passed at 100 Hz) in
    BLOCK_S blocks; None without speech. qc.master separates them from the final mix (qc_master.music_ratio);
    audio.final, which mixes them, measures its own stems (assemble_ffmpeg.soundtrack)."""
    se, re_ = music_blocks(speech, music)
    return music_levels_of(se, re_)


def music_blocks(speech, music):
    """The two signals' energies (mean square) per BLOCK_S block, as float64 numpy arrays: what `music_levels_of`
    judges. The blocks of pieces played one after another join into the whole's (a soundtrack's parts)."""
    import numpy as np

    b = int(BLOCK_S * MUSIC_RATE)
    blocks = min(len(speech), len(music)) // b

    def energy(x):  # mean square per block, summed in float64 without a float64 copy of the signal (30x faster)
        x = np.asarray(x[:blocks * b]).reshape(blocks, b)
        return np.einsum("ij,ij->i", x, x, dtype=np.float64) / b

    return energy(speech), energy(music)


def music_levels_of(se, re_) -> dict[str, float] | None:
    """`music_levels` from the signals' block energies (`music_blocks`)."""
    import numpy as np

    se, re_ = np.asarray(se, dtype=np.float64), np.asarray(re_, dtype=np.float64)
    if len(se) == 0:
        return None
    loud = float(np.percentile(se, 95))
    if loud <= 0:
        return None
    talking = se > loud * 10 ** (-20 / 10)
    quiet = se < loud * 10 ** (-50 / 10)
    out = {"music_db": 10 * math.log10(max(float(re_[talking].sum()), 1e-20) / float(se[talking].sum()))}
    if quiet.any():
        speech_level = float(se[talking].mean())
        out["gap_music_db"] = 10 * math.log10(max(float(re_[quiet].mean()), 1e-20) / speech_level)
    return out


def ebur128(path: Path) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) of the first audio stream, with ffmpeg's EBU R128 meter."""
    err = _log(["-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true"], "measuring loudness")
    summary = err[err.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    tp = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return {"integrated_lufs": float(i.group(1)) if i else None, "true_peak_dbtp": float(tp.group(1)) if tp else None}


def pcm(path: Path, rate: int, channels: int = 1):
    """Decode the first audio stream of `path` to float32 samples (numpy) at `rate`, mixed to `channels`."""
    import numpy as np

    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:a:0",
                           "-ac", str(channels), "-ar", str(rate), "-f", "f32le", "-"], capture_output=True)
    if proc.returncode != 0:
        raise StepError(f"cannot decode the audio of {path.name}: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout, dtype=np.float32)


def severity(value: float, warn: float, error: float, higher_is_worse: bool = True) -> Severity | None:
    """None when `value` is within the warning threshold; else "warning" or "error"."""
    if not higher_is_worse:
        value, warn, error = -value, -warn, -error
    if value > error:
        return "error"
    if value > warn:
        return "warning"
    return None


def write_findings(out: Path, findings: list[Finding], scores: dict[str, float]) -> dict:
    """findings.json (a QCFindings, sorted keys) and the step's facts (counts by severity)."""
    data = QCFindings(findings=findings, scores={k: round(float(v), 4) for k, v in scores.items()})
    out.write_text(json.dumps(data.to_json(), sort_keys=True, indent=1) + "\n", encoding="utf-8")
    return {"findings": len(findings), "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings)}


def mmss(t: float) -> str:
    """A time as people read it in a player: 1:05.3."""
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m)}:{s:04.1f}"
