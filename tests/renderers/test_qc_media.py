"""The media QC renderers (qc.scene, qc.master, qc.captions) on tiny media with planted defects, real ffmpeg."""
from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from core.qc import REASON_CODES, QCFindings
from renderers.captions import Captions
from renderers.qc_captions import CaptionsQC
from renderers.qc_master import MasterQC
from renderers.qc_scene import SceneQC

from helpers import run_renderer

RATE = 48000


def tone(seconds: float, amp: float = 0.3, f: float = 220.0) -> np.ndarray:
    t = np.arange(int(round(seconds * RATE))) / RATE
    return amp * np.sin(2 * np.pi * f * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))  # a voice-like wobble


def hush(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)))


def write_wav(path: Path, *pieces: np.ndarray) -> Path:
    x = np.clip(np.concatenate(pieces), -1, 1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((x * 32767).astype("<i2").tobytes())
    return path


def write_video(path: Path, *pieces: tuple[str, float], fps: int = 10, audio: Path | None = None) -> Path:
    """A 320x180 H.264 video from ("moving" | "black" | "still", seconds) pieces (and an AAC track from `audio`)."""
    src = {"moving": "testsrc2=s=320x180:r={fps}:d={d}", "black": "color=black:s=320x180:r={fps}:d={d}",
           "still": "testsrc2=s=320x180:r={fps}:d=0.1,tpad=stop_mode=clone:stop_duration={d}"}
    args, labels = [], []
    for i, (what, d) in enumerate(pieces):
        args += ["-f", "lavfi", "-i", src[what].format(fps=fps, d=d)]
        labels.append(f"[{i}:v]")
    graph = "".join(labels) + f"concat=n={len(pieces)}:v=1:a=0,format=yuv420p[v]"
    cmd = ["ffmpeg", "-loglevel", "error", "-y"] + args
    maps = ["-map", "[v]"]
    if audio is not None:
        cmd += ["-i", str(audio)]
        maps += ["-map", f"{len(pieces)}:a", "-c:a", "aac", "-b:a", "128k"]
    subprocess.run(cmd + ["-filter_complex", graph] + maps + ["-c:v", "libx264", "-preset", "ultrafast", "-r", str(fps),
                          str(path)], check=True)
    return path


def timings(path: Path, duration: float, sentences: list[tuple[str, float, float]]) -> Path:
    path.write_text(json.dumps({"duration_s": duration, "sentences": [
        {"text": t, "start": s, "end": e} for t, s, e in sentences]}))
    return path


def findings_of(out: Path) -> QCFindings:
    data = json.loads((out / "findings.json").read_text())
    qc = QCFindings.model_validate(data)
    assert all(f.reason in REASON_CODES for f in qc.findings)
    return qc


def scene_qc(tmp_path: Path, audio: Path, video: Path, tm: Path, name: str = "qc", **params) -> QCFindings:
    out, _ = run_renderer(SceneQC, tmp_path, params, {"video": video, "audio": audio, "timings": tm}, name=name)
    return findings_of(out)


# ------------------------------------------------------------------- qc.scene --

def test_a_six_second_silence_inside_a_scene_is_an_error_at_its_place(tmp_path):
    audio = write_wav(tmp_path / "a.wav", hush(0.2), tone(1.0), hush(6.0), tone(1.0), hush(0.3))
    video = write_video(tmp_path / "v.mp4", ("moving", 8.5))
    tm = timings(tmp_path / "t.json", 8.3, [("One two three.", 0.0, 1.0), ("Four five six.", 7.0, 8.0)])
    qc = scene_qc(tmp_path, audio, video, tm)
    assert [f.check for f in qc.findings] == ["audio.silence"]
    f = qc.findings[0]
    assert f.severity == "error" and f.reason == "audio.pacing" and f.field == ["narration"]
    assert f.at_s == pytest.approx(1.2, abs=0.05) and f.value == pytest.approx(6.0, abs=0.1)
    assert qc.scores["audio.max_silence_s"] == pytest.approx(6.0, abs=0.1)
    # the lead-in and the pad are left to qc.master (they join the neighbours' edges)
    assert qc.scores["audio.head_silence_s"] == pytest.approx(0.2, abs=0.03)
    assert qc.scores["audio.tail_silence_s"] == pytest.approx(0.3, abs=0.03)


def test_a_black_segment_is_caught_where_it_is(tmp_path):
    audio = write_wav(tmp_path / "a.wav", hush(0.2), tone(3.1), hush(0.2))
    video = write_video(tmp_path / "v.mp4", ("moving", 1.0), ("black", 1.5), ("moving", 1.0))
    tm = timings(tmp_path / "t.json", 3.1, [("A short line.", 0.0, 3.1)])
    qc = scene_qc(tmp_path, audio, video, tm, expect_motion=True)
    black = [f for f in qc.findings if f.check == "picture.black"]
    assert len(black) == 1 and [f.check for f in qc.findings] == ["picture.black"]
    assert black[0].severity == "warning" and black[0].reason == "visual.glitch" and black[0].field == ["visual"]
    assert black[0].at_s == pytest.approx(1.0, abs=0.11) and black[0].value == pytest.approx(1.5, abs=0.11)
    # black is still too, but it is reported once, as black (a 2 s freeze threshold would otherwise catch it)
    qc = scene_qc(tmp_path, audio, video, tm, name="freeze", expect_motion=True, freeze_s=1.0)
    assert [f.check for f in qc.findings] == ["picture.black"]
    # longer than black_error_s: an error
    qc = scene_qc(tmp_path, audio, video, tm, name="strict", black_error_s=1.0)
    assert [f.severity for f in qc.findings] == ["error"]


def test_a_frozen_picture_counts_only_where_motion_was_intended(tmp_path):
    audio = write_wav(tmp_path / "a.wav", hush(0.2), tone(3.6), hush(0.2))
    video = write_video(tmp_path / "v.mp4", ("moving", 1.0), ("still", 3.0))
    tm = timings(tmp_path / "t.json", 3.6, [("A short line.", 0.0, 3.6)])
    assert scene_qc(tmp_path, audio, video, tm, expect_motion=False).findings == []  # a slide or a still
    qc = scene_qc(tmp_path, audio, video, tm, name="clip", expect_motion=True)
    assert [f.check for f in qc.findings] == ["picture.freeze"]
    f = qc.findings[0]
    assert f.severity == "warning" and f.reason == "visual.glitch"
    # the encoder refines a new still picture for a few frames before it stands perfectly still
    assert f.at_s == pytest.approx(1.0, abs=0.5) and f.value == pytest.approx(3.0, abs=0.5)


def test_pace_and_clipping(tmp_path):
    # 24 four-letter words in 4 s: 96 letters, 20.4 words of 4.7 letters, 306 words a minute against a 165 wpm
    # voice: more than 60% off, an error
    words = " ".join(["word"] * 12) + ". " + " ".join(["more"] * 12) + "."
    loud = tone(4.0, amp=1.6)  # driven past full scale: the peaks are cut flat
    audio = write_wav(tmp_path / "a.wav", hush(0.2), loud, hush(0.2))
    video = write_video(tmp_path / "v.mp4", ("moving", 4.4))
    tm = timings(tmp_path / "t.json", 4.0, [(words, 0.0, 4.0)])
    qc = scene_qc(tmp_path, audio, video, tm, target_wpm=165.0)
    by = {f.check: f for f in qc.findings}
    assert set(by) == {"audio.pace", "audio.clipping"}
    assert by["audio.pace"].severity == "error" and by["audio.pace"].reason == "audio.pacing"
    assert by["audio.pace"].value == pytest.approx(96 / 4.7 / 4 * 60, abs=0.1)
    assert by["audio.pace"].at_s == pytest.approx(0.2)
    assert by["audio.clipping"].severity == "error" and by["audio.clipping"].reason == "audio.loudness"
    assert qc.scores["audio.clipped_runs"] > 20


def test_a_clean_scene_has_no_findings(tmp_path):
    speech = [hush(0.2)]
    for _ in range(4):
        speech += [tone(0.9), hush(0.25)]
    audio = write_wav(tmp_path / "a.wav", *speech, hush(0.35))
    video = write_video(tmp_path / "v.mp4", ("moving", 5.2))
    # 51 letters (10.9 words of 4.7 letters) over 4.35 s: 150 words a minute, 9% under the voice's pace
    tm = timings(tmp_path / "t.json", 4.6, [("One two three four five six.", 0.0, 2.1),
                                           ("Seven eight nine ten eleven twelve.", 2.3, 4.35)])
    qc = scene_qc(tmp_path, audio, video, tm, target_wpm=165.0, expect_motion=True)
    assert qc.findings == []
    assert qc.scores["audio.pace_ratio"] == pytest.approx(51 / 4.7 / 4.35 * 60 / 165, abs=0.01)
    assert qc.scores["audio.raw_wpm"] == pytest.approx(12 / 4.35 * 60, abs=0.1)
    assert qc.scores["picture.max_freeze_s"] == 0.0 and qc.scores["picture.max_black_s"] == 0.0


# ------------------------------------------------------------------ qc.master --

def scene_file(path: Path, findings: list[dict], **scores: float) -> Path:
    path.write_text(json.dumps(QCFindings.model_validate({"findings": findings, "scores": scores}).to_json()))
    return path


def timeline(path: Path, lengths: list[float], sentences: list[list[tuple[str, float, float]]] | None = None) -> Path:
    scenes, t = [], 0.0
    for i, d in enumerate(lengths):
        sents = (sentences or [[]] * len(lengths))[i]
        scenes.append({"index": i, "start_s": t, "end_s": t + d, "frames": int(d * 10), "start_frame": int(t * 10),
                       "sentences": [{"text": x, "start": t + s, "end": t + e} for x, s, e in sents]})
        t += d
    path.write_text(json.dumps({"fps": 10, "width": 320, "height": 180, "duration_s": t, "scenes": scenes}))
    return path


MASTER = {"width": 320, "height": 180, "fps": 10, "max_duration_s": 60.0}


def test_master_places_scene_findings_and_judges_the_joins(tmp_path):
    narration = write_wav(tmp_path / "n.wav", hush(0.2), tone(0.8), hush(2.0), hush(2.0), tone(0.8), hush(0.2))
    final = write_video(tmp_path / "final.mp4", ("moving", 6.0), audio=narration)
    a = scene_file(tmp_path / "a.json", [{"check": "picture.black", "at_s": 0.5, "severity": "warning",
                                          "reason": "visual.glitch"}],
                   **{"audio.scene_s": 3.0, "audio.head_silence_s": 0.2, "audio.tail_silence_s": 2.0,
                      "audio.max_silence_s": 0.0})
    b = scene_file(tmp_path / "b.json", [{"check": "audio.silence", "at_s": 1.25, "severity": "error",
                                          "reason": "audio.pacing"}],
                   **{"audio.scene_s": 3.0, "audio.head_silence_s": 2.0, "audio.tail_silence_s": 0.2,
                      "audio.max_silence_s": 6.0})
    tl = timeline(tmp_path / "tl.json", [3.0, 3.0])
    out, _ = run_renderer(MasterQC, tmp_path, MASTER, {"video": final, "timeline": tl, "scenes": [a, b]})
    qc = findings_of(out)
    placed = {(f.check, f.scene, f.at_s, f.severity) for f in qc.findings}
    assert ("picture.black", 0, 0.5, "warning") in placed
    assert ("audio.silence", 1, 4.25, "error") in placed  # 3.0 s (scene 1's start) + 1.25 s into it
    # 2.0 s of pad at the end of scene 0 + 2.0 s of lead-in of scene 1: 4 s of dead air from 1.0 s
    join = [f for f in qc.findings if f.check == "audio.silence" and f.scene == 0]
    assert len(join) == 1 and join[0].at_s == pytest.approx(1.0) and join[0].value == pytest.approx(4.0)
    assert join[0].severity == "warning" and join[0].field == ["pad"]
    assert qc.scores["audio.max_silence_s"] == 6.0
    assert "audio.integrated_lufs" in qc.scores and "audio.true_peak_dbtp" in qc.scores
    assert not [f for f in qc.findings if f.check.startswith("picture.format")]


def test_master_checks_the_format_and_the_length_limit(tmp_path):
    narration = write_wav(tmp_path / "n.wav", tone(2.0))
    final = write_video(tmp_path / "final.mp4", ("moving", 2.0), audio=narration)
    a = scene_file(tmp_path / "a.json", [], **{"audio.scene_s": 2.0})
    tl = timeline(tmp_path / "tl.json", [2.0])
    out, _ = run_renderer(MasterQC, tmp_path, {**MASTER, "width": 1920, "height": 1080, "fps": 30,
                                               "max_duration_s": 1.5},
                          {"video": final, "timeline": tl, "scenes": [a]})
    by = {f.check: f for f in findings_of(out).findings}
    assert by["picture.format"].severity == "error" and by["picture.format"].reason == "visual.low_quality"
    assert "320x180 instead of 1920x1080" in by["picture.format"].message
    assert "10.000 fps" in by["picture.format"].message
    assert by["picture.duration"].reason == "script.too_long"
    assert by["picture.duration"].value == pytest.approx(2.0, abs=0.05)
    # the loudness targets: a quiet tone is far below -14 LUFS
    assert by["audio.loudness"].reason == "audio.loudness" and by["audio.loudness"].value < -14
    measured = by["audio.loudness"].value

    # a final assembly's facts carry its soundtrack's loudness as audio.final measured the encoded stream: read, not
    # measured again (the same meter on the same samples)
    from renderers import qc_master

    def no_decode(path):
        raise AssertionError("the soundtrack was measured again")

    monkey = pytest.MonkeyPatch()
    monkey.setattr(qc_master, "ebur128", no_decode)
    try:
        out, _ = run_renderer(MasterQC, tmp_path, {**MASTER, "width": 1920, "height": 1080, "fps": 30,
                                                   "max_duration_s": 1.5},
                              {"video": final, "timeline": tl, "scenes": [a]}, name="facts",
                              input_facts={"video": {"integrated_lufs": measured, "true_peak_dbtp": 0.4}})
    finally:
        monkey.undo()
    by = {f.check: f for f in findings_of(out).findings}
    assert by["audio.loudness"].value == measured and by["audio.true_peak"].value == 0.4


def test_master_finds_sound_and_picture_of_different_lengths(tmp_path):
    narration = write_wav(tmp_path / "n.wav", tone(2.0))
    final = write_video(tmp_path / "final.mp4", ("moving", 3.0), audio=narration)  # the sound stops 1 s early
    a = scene_file(tmp_path / "a.json", [], **{"audio.scene_s": 3.0})
    tl = timeline(tmp_path / "tl.json", [3.0])
    out, _ = run_renderer(MasterQC, tmp_path, MASTER, {"video": final, "timeline": tl, "scenes": [a]})
    qc = findings_of(out)
    (f,) = [f for f in qc.findings if f.check == "picture.av_mismatch"]
    assert f.severity == "error" and f.reason == "visual.glitch" and f.value == pytest.approx(1.0, abs=0.05)
    assert f.at_s == pytest.approx(2.0, abs=0.05) and "the sound stops" in f.message
    assert qc.scores["picture.av_mismatch_s"] == pytest.approx(1.0, abs=0.05)


def test_master_measures_music_under_the_narration(tmp_path):
    rng = np.random.default_rng(7)
    speech = [hush(0.2)] + [p for _ in range(4) for p in (tone(1.0, amp=0.25), hush(0.5))]
    n1 = write_wav(tmp_path / "n1.wav", *speech[:5])
    n2 = write_wav(tmp_path / "n2.wav", *speech[5:])
    narration = np.concatenate(speech)
    t = np.arange(len(narration)) / RATE  # a chord (music has little energy above the 8 kHz the check keeps)
    music = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28)) for f in (330.0, 523.3, 784.0, 1318.5))
    music = music / np.sqrt(np.mean(music ** 2))
    level = np.sqrt(np.mean(tone(1.0, amp=0.25) ** 2))
    for name, ratio_db in (("loud", -4.0), ("quiet", -30.0)):
        mix = narration + music * level * 10 ** (ratio_db / 20)
        wav = write_wav(tmp_path / f"{name}.wav", mix)
        final = write_video(tmp_path / f"{name}.mp4", ("moving", len(mix) / RATE), audio=wav)
        tl = timeline(tmp_path / f"{name}-tl.json", [len(mix) / RATE])
        a = scene_file(tmp_path / f"{name}-a.json", [], **{"audio.scene_s": len(mix) / RATE})
        out, _ = run_renderer(MasterQC, tmp_path, {**MASTER, "music": True},
                              {"video": final, "timeline": tl, "scenes": [a], "narrations": [n1, n2]}, name=name)
        qc = findings_of(out)
        measured = qc.scores["audio.music_under_speech_db"]
        music_findings = [f for f in qc.findings if f.check == "audio.music_level"]
        if name == "loud":
            assert measured == pytest.approx(-4.0, abs=1.5)
            assert len(music_findings) == 1 and music_findings[0].severity == "error"
            assert music_findings[0].reason == "audio.music"
        else:
            assert measured == pytest.approx(-30.0, abs=3.0)
            assert music_findings == []
    # a final assembly carries audio.final's own measurement of its stems: that is what is judged, nothing decoded
    out, _ = run_renderer(MasterQC, tmp_path, {**MASTER, "music": True},
                          {"video": final, "timeline": tl, "scenes": [a], "narrations": [n1, n2]}, name="stems",
                          input_facts={"video": {"music_db": -5.0, "gap_music_db": -9.0}})
    qc = findings_of(out)
    assert qc.scores["audio.music_under_speech_db"] == -5.0 and qc.scores["audio.music_in_pauses_db"] == -9.0
    assert [f.severity for f in qc.findings if f.check == "audio.music_level"] == ["error"]


# ---------------------------------------------------------------- qc.captions --

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis"  # 45 characters: no line break can save it


def captions_qc(tmp_path: Path, tl: Path, name: str = "c", tamper=None, **params) -> QCFindings:
    cap, _ = run_renderer(Captions, tmp_path, {"max_chars": 84, "line_chars": 42}, {"timeline": tl}, name=f"{name}-r")
    srt, vtt = cap / "captions.srt", cap / "captions.vtt"
    if tamper:
        srt, vtt = tamper(srt, vtt)
    out, _ = run_renderer(CaptionsQC, tmp_path, params, {"srt": srt, "vtt": vtt, "timeline": tl}, name=name)
    return findings_of(out)


def test_clean_captions_have_no_findings(tmp_path):
    tl = timeline(tmp_path / "tl.json", [3.0, 3.0], [[("Hello there, this is the first scene.", 0.2, 2.6)],
                                                     [("And here comes the second one.", 0.2, 2.4)]])
    qc = captions_qc(tmp_path, tl)
    assert qc.findings == []
    assert qc.scores["captions.coverage"] == 1.0 and qc.scores["captions.max_offset_s"] == pytest.approx(0, abs=0.002)


def test_over_long_caption_lines_and_too_many_lines_are_caught(tmp_path):
    three_lines = f"{'a' * 30} {'b' * 30} {'c' * 20}"  # 82 characters: 3 lines at 42 as one cue
    tl = timeline(tmp_path / "tl.json", [3.0, 9.0], [[("A calm opening.", 0.2, 1.5)],
                                                     [(f"The word {LONG_WORD} is long.", 0.2, 3.8),
                                                      (three_lines, 4.0, 8.8)]])

    def third_line(srt: Path, vtt: Path):  # the renderer splits such a cue in two; a hand-edited file may not
        out = []
        for f in (srt, vtt):
            text = f.read_text().replace(f"{'a' * 30}\n\n", f"{'a' * 30}\n{'b' * 30}\n{'c' * 20}\n\n", 1)
            assert text != f.read_text()
            out.append(f.with_name("three" + f.suffix))
            out[-1].write_text(text)
        return out[0], out[1]

    qc = captions_qc(tmp_path, tl, "three", third_line)
    by = {f.check: f for f in qc.findings}
    # (the planted words also make that cue too fast to read and unlike the narration: found too)
    assert {"captions.line_length", "captions.lines"} <= set(by)
    long = by["captions.line_length"]
    # the unbreakable word gets a cue of its own (3.665 s into the video), still one line too long
    assert long.scene == 1 and long.at_s == pytest.approx(3.665) and long.value == 45 and long.limit == 42
    assert long.reason == "visual.text_overflow" and long.severity == "warning"
    assert by["captions.lines"].scene == 1 and by["captions.lines"].at_s == pytest.approx(7.0)
    assert by["captions.lines"].value == 3


def test_missing_and_mistimed_captions(tmp_path):
    tl = timeline(tmp_path / "tl.json", [4.0, 3.0], [[("Hello there, this is the first scene.", 0.2, 3.6)],
                                                     [("And here comes the second one.", 0.2, 2.4)]])

    def drop_last(srt: Path, vtt: Path):  # the second scene's caption is lost from the SRT
        blocks = srt.read_text().strip().split("\n\n")
        out = srt.with_name("cut.srt")
        out.write_text("\n\n".join(blocks[:-1]) + "\n")
        return out, vtt

    qc = captions_qc(tmp_path, tl, "drop", drop_last)
    by = {f.check: f for f in qc.findings}
    assert by["captions.coverage"].severity == "error" and by["captions.coverage"].scene == 1
    assert by["captions.coverage"].at_s == pytest.approx(4.2)
    assert by["captions.format"].severity == "error"  # the SRT and the VTT no longer agree

    def late(srt: Path, vtt: Path):  # the first caption appears a second late, in both files
        a, b = srt.with_name("late.srt"), vtt.with_name("late.vtt")
        a.write_text(srt.read_text().replace("00:00:00,200", "00:00:01,200"))
        b.write_text(vtt.read_text().replace("00:00:00.200", "00:00:01.200"))
        return a, b

    qc = captions_qc(tmp_path, tl, "late", late)
    assert [(f.check, f.scene, f.severity) for f in qc.findings] == [("captions.timing", 0, "warning")]
    assert qc.findings[0].value == pytest.approx(1.0) and qc.findings[0].at_s == pytest.approx(0.2)


def test_a_final_segment_measures_its_pictures_so_scene_qc_decodes_nothing(tmp_path, monkeypatch):
    """segment.ffmpeg with `pictures` runs blackdetect and freezedetect on the frames it encodes (the same bytes as
    without); qc.scene reads those stretches from the segment's facts and finds what its own decode finds."""
    from renderers import qc_scene
    from renderers.segment_ffmpeg import FfmpegSegment

    clip = write_video(tmp_path / "clip.mp4", ("moving", 1.0), ("black", 1.5), ("moving", 1.0), ("still", 3.0))
    audio = write_wav(tmp_path / "n.wav", hush(0.1), tone(6.0), hush(0.1))
    tm = timings(tmp_path / "t.json", 6.2, [("A line over a clip with a black hole and a stall.", 0.1, 6.1)])
    params = {"width": 320, "height": 180, "fps": 10, "visual_type": "video", "pad": 0.2, "lead": 0.2}
    inputs = {"audio": audio, "timings": tm, "visual": clip}
    plain, plain_facts = run_renderer(FfmpegSegment, tmp_path, params, inputs, name="plain")
    seg, facts = run_renderer(FfmpegSegment, tmp_path, {**params, "pictures": True}, inputs, name="measured")
    assert (seg / "video.mp4").read_bytes() == (plain / "video.mp4").read_bytes()  # detectors change no pixel
    assert "pictures" not in plain_facts and "pictures" not in FfmpegSegment.Params(**params).model_dump()
    pics = facts["pictures"]
    assert pics["black_pixel_threshold"] == 0.03 and pics["freeze_noise_db"] == -60.0
    assert [[round(s, 1), round(e, 1)] for s, e in pics["black"]] == [[1.0, 2.5]]
    assert pics["frozen"][-1][0] == pytest.approx(3.5, abs=0.5) and pics["frozen"][-1][1] == pytest.approx(6.6)

    decoded = scene_qc(tmp_path, seg / "audio.wav", seg / "video.mp4", tm, name="decoded", expect_motion=True)
    calls = []
    monkeypatch.setattr(qc_scene, "pictures", lambda *a, **k: calls.append(a) or ([], []))
    out, _ = run_renderer(SceneQC, tmp_path, {"expect_motion": True},
                          {"video": seg / "video.mp4", "audio": seg / "audio.wav", "timings": tm}, name="fromfacts",
                          input_facts={"video": facts})
    measured = findings_of(out)
    assert not calls  # nothing decoded
    assert [f.check for f in measured.findings] == [f.check for f in decoded.findings] == ["picture.black",
                                                                                           "picture.freeze"]
    for a, b in zip(measured.findings, decoded.findings):
        assert a.at_s == pytest.approx(b.at_s, abs=0.25) and a.value == pytest.approx(b.value, abs=0.25)
    # at 30 fps the detectors see every third frame: stretches are placed to 0.1 s, the video bytes unchanged
    p30 = {**params, "fps": 30}
    plain30, _ = run_renderer(FfmpegSegment, tmp_path, p30, inputs, name="plain30")
    seg30, facts30 = run_renderer(FfmpegSegment, tmp_path, {**p30, "pictures": True}, inputs, name="measured30")
    assert (seg30 / "video.mp4").read_bytes() == (plain30 / "video.mp4").read_bytes()
    (black,) = facts30["pictures"]["black"]
    assert black[0] == pytest.approx(1.0, abs=0.11) and black[1] == pytest.approx(2.5, abs=0.11)
    assert facts30["pictures"]["frozen"][-1][1] == pytest.approx(6.6, abs=0.04)
    # another noise floor than the segment measured at: qc.scene decodes, as before
    run_renderer(SceneQC, tmp_path, {"expect_motion": True, "freeze_noise_db": -50.0},
                 {"video": seg / "video.mp4", "audio": seg / "audio.wav", "timings": tm}, name="other",
                 input_facts={"video": facts})
    assert len(calls) == 1


def test_pcm_silences_are_ffmpegs_silencedetect_spans(tmp_path):
    """qc.scene finds silences in the samples it already reads (no ffmpeg process): the same spans as ffmpeg's
    silencedetect on the file, on a real narration (espeak, pauses between sentences) and on edge cases: quiet
    samples just inside and just outside the truncated threshold, runs one sample shorter and exactly as long as
    the minimum, silence at both ends, and stereo (a frame is quiet when every channel is)."""
    from renderers._lib.qc_media import pcm_silences, silences
    from renderers.qc_scene import read_pcm16

    rate = 48000
    thr = int(10 ** (-50 / 20) * 32767)  # 103: ffmpeg truncates -50 dB to this s16 value
    need = int(0.1 * rate + 0.5)

    def loud(n):
        return (np.sin(np.arange(n) * 0.07) * 9000).astype(np.int16)

    def level(n, v):
        return np.full(n, v, dtype=np.int16)

    cases = {
        "edges": np.concatenate([level(need + 5, 0), loud(3000), level(need - 1, 0), loud(2000), level(need, 0),
                                 loud(100), level(need + 200, thr - 1), loud(50), level(need + 300, -(thr - 1)),
                                 loud(10), level(need + 100, thr), loud(700), level(2 * need, 0)]),
        "near": np.concatenate([loud(4000), level(need * 3, thr - 1), level(1, thr), level(need * 2, 0), loud(4000)]),
    }
    speech = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(speech), "Dead air is a pause. Here is another sentence, and a comma. "
                    "And the end."], check=True)
    conv = tmp_path / "speech48.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(speech), "-ar", str(rate), "-ac", "1", "-c:a", "pcm_s16le",
                    str(conv)], check=True)
    files = {"speech": conv}
    for name, x in cases.items():
        files[name] = tmp_path / f"{name}.wav"
        with wave.open(str(files[name]), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
            w.writeframes(x.tobytes())
    stereo = tmp_path / "stereo.wav"
    x = cases["edges"]
    both = np.stack([x, np.where(np.arange(len(x)) % 9000 < 4500, x, loud(len(x)))], axis=1)
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(both.tobytes())
    files["stereo"] = stereo
    for name, path in files.items():
        pcm, r = read_pcm16(path)
        for noise_db, min_s in ((-50.0, 0.1), (-40.0, 0.15), (-60.0, 0.05)):
            ours = pcm_silences(pcm, r, noise_db, min_s)
            theirs = silences(path, noise_db, min_s, len(pcm) / r)
            assert len(ours) == len(theirs), (name, noise_db, ours, theirs)
            for (s0, e0), (s1, e1) in zip(ours, theirs):
                assert abs(s0 - s1) <= 0.0011 and abs(e0 - e1) <= 0.0011, (name, noise_db, ours, theirs)
        if name == "speech":
            assert pcm_silences(pcm, r, -50.0, 0.1), "the narration's pauses are found"
