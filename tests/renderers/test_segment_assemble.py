"""Segments (exact frame counts, uniform encode) and assembly (stream copy, ducking, loudness)."""
from __future__ import annotations

import json
import re
import subprocess
import wave

import numpy as np
import pytest
from PIL import Image

from core.timeline import scene_frames
from helpers import run_renderer
from renderers.assemble_ffmpeg import FfmpegAssemble, measure_loudness
from renderers.base import ffprobe
from renderers.segment_ffmpeg import FfmpegSegment


def tone_narration(tmp_path, name, pattern, text="Beep beep."):
    """A fake narration: (seconds, on) pieces of a 1 kHz tone at 48 kHz."""
    sr = 48000
    parts = [np.sin(2 * np.pi * 1000 * np.arange(int(d * sr)) / sr) * (0.3 if on else 0.0) for d, on in pattern]
    audio = (np.concatenate(parts) * 32767).astype(np.int16)
    wav = tmp_path / f"{name}.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(audio.tobytes())
    dur = len(audio) / sr
    timings = tmp_path / f"{name}.json"
    timings.write_text(json.dumps({"duration_s": dur, "samples": len(audio), "sample_rate": sr,
                                   "sentences": [{"text": text, "start": 0.0, "end": dur}]}))
    return wav, timings, dur


def segment(tmp_path, name, visual, visual_type, pattern, text="Beep beep.", **extra):
    wav, timings, dur = tone_narration(tmp_path, name, pattern, text)
    params = {"width": 320, "height": 180, "fps": 10, "visual_type": visual_type, "pad": 0.3, **extra}
    out, facts = run_renderer(FfmpegSegment, tmp_path, params, {"audio": wav, "timings": timings, "visual": visual}, name=name)
    return out, facts, dur


def stream(info, kind):
    return next(s for s in info["streams"] if s["codec_type"] == kind)


def test_segments_have_exact_frames_and_uniform_encoding(tmp_path):
    img = tmp_path / "img.png"
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=640x300:d=1", "-frames:v", "1", str(img)], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=s=200x200:r=25:d=0.7", "-pix_fmt", "yuv420p", str(clip)], check=True)
    a, fa, dur_a = segment(tmp_path, "a", img, "image", [(1.0, True)], motion="zoom_in")
    b, fb, dur_b = segment(tmp_path, "b", clip, "video", [(1.3, True)], fit="contain", loop=True)
    c, fc, _ = segment(tmp_path, "c", img, "image", [(0.8, True)], burn_captions=True)
    for out, facts, dur in ((a, fa, dur_a), (b, fb, dur_b)):
        frames = scene_frames(dur, 0.3, 10)
        assert facts["frames"] == frames
        v = stream(ffprobe(out / "video.mp4"), "video")
        assert (v["width"], v["height"], v["r_frame_rate"], int(v["nb_frames"])) == (320, 180, "10/1", frames)
        assert (v["codec_name"], v["profile"], v["pix_fmt"]) == ("h264", "High", "yuv420p")
        with wave.open(str(out / "audio.wav"), "rb") as w:
            assert w.getnframes() == frames * 4800 and w.getframerate() == 48000
    # burned-in captions change the picture
    plain = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(a / "video.mp4"), "-frames:v", "1", "-f", "md5", "-"], capture_output=True, text=True).stdout
    burned = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(c / "video.mp4"), "-frames:v", "1", "-f", "md5", "-"], capture_output=True, text=True).stdout
    assert plain != burned


def frame_at(video, t, out):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", str(t), "-i", str(video), "-frames:v", "1", str(out)],
                   check=True)
    return np.asarray(Image.open(out).convert("L"), dtype=np.int16)


def caption_box(frame, background):
    """Rows and columns where burned captions (their dark box and white text) differ from the background."""
    rows, cols = np.nonzero(np.abs(frame - background) > 40)
    return (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) if len(rows) else (0, 0)


def test_burned_captions_in_a_project_folder_with_quotes_commas_and_colons(tmp_path):
    """No path enters the filtergraph, so no folder name can break it (was: `Option 'stop' not found`)."""
    proj = tmp_path / "it's, a: test\\ [1];x"
    proj.mkdir()
    img = proj / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=320x180:d=1", "-frames:v", "1",
                    str(img)], check=True)
    out, facts, _ = segment(proj, "short", img, "image", [(0.8, True)], burn_captions=True, width=180, height=320)
    v = stream(ffprobe(out / "video.mp4"), "video")
    assert (v["width"], v["height"], int(v["nb_frames"])) == (180, 320, facts["frames"])
    assert caption_box(frame_at(out / "video.mp4", 0.5, tmp_path / "f.png"), 128)[0] > 0  # the caption is there


def test_burned_captions_show_braces_and_backslashes_as_typed(tmp_path):
    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=640x360:d=1", "-frames:v", "1",
                    str(img)], check=True)
    typed = r"Keep {\i1}all{\i0} \N on one \h line"
    a, _, _ = segment(tmp_path, "typed", img, "image", [(0.8, True)], text=typed, burn_captions=True, width=640,
                      height=360)
    b, _, _ = segment(tmp_path, "plain", img, "image", [(0.8, True)], text="Keep all on one line", burn_captions=True,
                      width=640, height=360)
    ass = (tmp_path / "typed-work" / "captions.ass").read_text()
    assert ass.rstrip().endswith("Keep \\{\\i1\\}all\\{\\i0\\} \\\u2060N on one \\\u2060h line")
    typed_h, typed_w = caption_box(frame_at(a / "video.mp4", 0.5, tmp_path / "a.png"), 128)
    plain_h, plain_w = caption_box(frame_at(b / "video.mp4", 0.5, tmp_path / "b.png"), 128)
    # still one line (no \N break) and wider: the braces and backslashes are drawn, not eaten
    assert plain_h > 0 and abs(typed_h - plain_h) <= 2 and typed_w > plain_w + 60, (typed_h, plain_h, typed_w, plain_w)


def band_level(path, start, end, freq):
    """RMS level (dB) of one frequency band of the audio between start and end."""
    res = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-af",
                          f"atrim={start}:{end},bandpass=f={freq}:width_type=q:w=8,astats=metadata=0",
                          "-f", "null", "-"], capture_output=True, text=True)
    return float(re.findall(r"RMS level dB: (-?[\d.]+|-inf)", res.stderr)[-1])


def test_assembly_concats_ducks_music_and_hits_loudness(tmp_path):
    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=320x180:d=1", "-frames:v", "1", str(img)], check=True)
    music = tmp_path / "music.ogg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=200:d=3", "-c:a", "libvorbis", str(music)], check=True)
    # speech for 2 s, then 2 s of silence, in each of two scenes
    s1, f1, _ = segment(tmp_path, "s1", img, "image", [(2.0, True), (2.0, False)])
    s2, f2, _ = segment(tmp_path, "s2", img, "image", [(2.0, True), (2.0, False)])
    out, facts = run_renderer(FfmpegAssemble, tmp_path, {"fps": 10, "music_volume_db": -12, "music_duck_db": 12},
                              {"videos": [s1 / "video.mp4", s2 / "video.mp4"], "audios": [s1 / "audio.wav", s2 / "audio.wav"],
                               "music": music}, name="final")
    video = out / "video.mp4"
    info = ffprobe(video)
    total = (f1["frames"] + f2["frames"]) / 10
    assert abs(float(info["format"]["duration"]) - total) < 0.1
    assert int(stream(info, "video")["nb_frames"]) == f1["frames"] + f2["frames"]  # stream copy: no frame lost
    assert stream(info, "audio")["codec_name"] == "aac"
    loud = measure_loudness(video)
    assert abs(loud["integrated_lufs"] + 14) <= 1.0 and loud["true_peak_dbtp"] <= -1.0
    assert facts["integrated_lufs"] == loud["integrated_lufs"]
    # music (200 Hz) is quieter while the narration (1 kHz) plays than in the pause after it
    during = band_level(video, 0.6, 1.8, 200)
    pause = band_level(video, 3.0, 4.0, 200)
    assert pause - during > 4, (during, pause)


def test_clip_start_past_its_end_is_a_clear_step_error(tmp_path):
    """`start: 1e308` used to reach ffmpeg as a 309-digit -ss; the spec bounds it to 24 h, the
    segment to the clip's own length."""
    import pytest

    from core.errors import StepError

    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=s=64x64:r=10:d=1", "-pix_fmt",
                    "yuv420p", str(clip)], check=True)
    with pytest.raises(StepError, match=r"clip clip.mp4 is 1.00 s long, so `start: 5` is at or past its end"):
        segment(tmp_path, "late", clip, "video", [(0.5, True)], start=5.0)


def test_a_clip_without_video_is_a_clear_step_error(tmp_path):
    """The clip is probed only when `start` > 0 or after a failed encode; the message stays the clear one."""
    import pytest

    from core.errors import StepError

    clip = tmp_path / "sound.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", str(clip)],
                   check=True)
    with pytest.raises(StepError, match=r"clip sound.mp4 has no video stream"):
        segment(tmp_path, "novideo", clip, "video", [(0.5, True)])


def test_narration_padding_without_ffmpeg_gives_ffmpegs_bytes(tmp_path, monkeypatch):
    """A voice step's 48 kHz mono 16-bit narration is padded in Python (no process per scene); the file is the one
    ffmpeg's padding filter writes, byte for byte: lead silence, the narration, silence to the scene's last sample,
    or the narration cut there. Anything else (another rate, stereo) still goes through ffmpeg."""
    from renderers import segment_ffmpeg
    from renderers.segment_ffmpeg import pad_narration

    def source(name, rate, channels, seconds):
        path = tmp_path / f"{name}.wav"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"sine=f=330:r={rate}:d={seconds}",
                        "-ac", str(channels), "-c:a", "pcm_s16le", "-fflags", "+bitexact", "-flags", "+bitexact",
                        str(path)], check=True)
        return path

    cases = [(source("mono", 48000, 1, 1.3), 1.3, 0.4), (source("short", 48000, 1, 0.05), 0.05, 0.6),
             (source("cut", 48000, 1, 2.0), 1.0, 0.0),  # timings shorter than the file: cut at the scene's end
             (source("stereo", 44100, 2, 0.9), 0.9, 0.3)]
    real_pad = segment_ffmpeg._pad_pcm
    for wav, duration, pad in cases:
        timings = tmp_path / f"{wav.stem}.json"
        timings.write_text(json.dumps({"duration_s": duration, "sentences": []}))
        ours, theirs = tmp_path / f"{wav.stem}-py.wav", tmp_path / f"{wav.stem}-ff.wav"
        calls = []
        monkeypatch.setattr(segment_ffmpeg, "_pad_pcm", lambda *a: calls.append(a) or real_pad(*a))
        n = pad_narration(wav, timings, pad, 0.2, 30, ours)
        monkeypatch.setattr(segment_ffmpeg, "_pad_pcm", lambda *a: False)  # ffmpeg's own padding filter
        assert pad_narration(wav, timings, pad, 0.2, 30, theirs) == n == scene_frames(duration, pad, 30) * 1600
        assert ours.read_bytes() == theirs.read_bytes(), wav.stem
        with wave.open(str(ours), "rb") as w:
            assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (1, 48000, n)
        assert len(calls) == 1
        assert real_pad(wav, 9600, n, tmp_path / "probe.wav") is (wav.stem != "stereo")


def count_encodes(monkeypatch) -> list[int]:
    """The scene frames of every x264 encode segment.ffmpeg runs from now on, in order (without the pre-roll of
    copies of the first picture, PREROLL_FRAMES, that a final encode starts with and cuts away)."""
    from renderers import segment_ffmpeg

    encodes: list[int] = []
    real = segment_ffmpeg.run_ffmpeg

    def spy(args, **kw):
        if "-c:v" in args:
            preroll = segment_ffmpeg.PREROLL_FRAMES if any("tpad=start=" in a for a in args) else 0
            encodes.append(int(args[args.index("-frames:v") + 1]) - preroll)
        return real(args, **kw)

    monkeypatch.setattr(segment_ffmpeg, "run_ffmpeg", spy)
    return encodes


def _packets(path):
    return subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                           "packet=pts_time,dts_time,duration_time,flags", "-of", "csv=p=0", str(path)],
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("split", [{}, {"split_tail": 7}, {"split_head": 4, "split_tail": 3}, {"split_head": 5, "split_tail": 3}])
def test_a_long_still_is_encoded_as_two_gops_and_repeated(tmp_path, monkeypatch, split):
    """A still scene of 4 GOPs or more: x264 encodes two GOPs and the last partial one (and the frames around the
    IDR frames a crossfade forces); the second GOP is repeated by stream copy. The frames, packet timestamps and
    flags are the whole encode's, and so is the picture (the whole encode's later GOPs match its second)."""
    from renderers import segment_ffmpeg

    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=640x360:d=1", "-frames:v", "1",
                    str(img)], check=True)
    encodes = count_encodes(monkeypatch)
    rep, facts, dur = segment(tmp_path, "rep", img, "image", [(8.3, True)], pictures=True, **split)
    frames = scene_frames(dur, 0.3, 10)
    head, tail = split.get("split_head", 0), split.get("split_tail", 0)
    whole, rest = divmod(frames - head - tail, 20)  # GOP: 2 s at 10 fps
    assert whole >= segment_ffmpeg.STILL_REPEAT_GOPS  # the last case: no partial GOP, the tail alone
    assert encodes == [head + 40 + rest + tail] and facts["frames"] == frames
    assert facts["pictures"]["black"] == []
    monkeypatch.setattr(segment_ffmpeg, "STILL_REPEAT_GOPS", 10 ** 6)  # the whole encode, to compare with
    whole_enc, whole_facts, _ = segment(tmp_path, "whole", img, "image", [(8.3, True)], pictures=True, **split)
    assert encodes[-1] == frames and whole_facts == facts
    assert _packets(rep / "video.mp4") == _packets(whole_enc / "video.mp4")
    keys = [i for i, line in enumerate(_packets(rep / "video.mp4").splitlines()) if "K" in line.rsplit(",", 1)[-1]]
    assert all(k in keys for k in (head, frames - tail) if 0 < k < frames)  # where the crossfades cut
    v = stream(ffprobe(rep / "video.mp4"), "video")
    assert (v["codec_name"], v["profile"], v["width"], v["height"], int(v["nb_frames"])) == ("h264", "High", 320, 180,
                                                                                             frames)
    ssim = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(rep / "video.mp4"), "-i",
                           str(whole_enc / "video.mp4"), "-filter_complex", "ssim", "-f", "null", "-"],
                          capture_output=True, text=True).stderr
    assert float(re.search(r"All:([\d.]+)", ssim).group(1)) > 0.995


def test_a_black_still_is_black_throughout_and_short_stills_are_encoded_whole(tmp_path, monkeypatch):
    from renderers import segment_ffmpeg

    black = tmp_path / "black.png"
    Image.new("RGB", (320, 180)).save(black)
    out, facts, dur = segment(tmp_path, "black", black, "image", [(8.3, True)], pictures=True)
    assert facts["pictures"]["black"] == [[0.0, round(facts["frames"] / 10, 3)]]
    encodes = []
    real = segment_ffmpeg.run_ffmpeg
    monkeypatch.setattr(segment_ffmpeg, "run_ffmpeg",
                        lambda args, **kw: (encodes.append(args) if "-c:v" in args else None) or real(args, **kw))
    # under 4 GOPs (between the crossfades' IDR frames), with motion, or with burned captions: encoded whole
    segment(tmp_path, "short", black, "image", [(5.0, True)])
    segment(tmp_path, "moving", black, "image", [(8.3, True)], motion="zoom_in")
    segment(tmp_path, "split", black, "image", [(8.3, True)], split_head=9, split_tail=9)
    segment(tmp_path, "captions", black, "image", [(8.3, True)], burn_captions=True)
    # each in one encode (after its pre-roll), none through the still repeat's two GOPs
    assert len(encodes) == 4 and not any(a[-1].endswith("still.mp4") for a in encodes)


def _frame_md5s(path, n=None):
    args = ["ffmpeg", "-loglevel", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = [line.rsplit(",", 1)[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]
    return rows[:n] if n is not None else rows


@pytest.mark.parametrize("split", [{}, {"split_head": 3}, {"split_head": 3, "split_tail": 4}])
def test_a_looped_clip_is_encoded_once_per_piece_and_its_period_repeated(tmp_path, monkeypatch, split):
    """A clip looped at least twice between the crossfade IDR frames: the frames before the first, one period, the
    frames left over and the frames after the last are encoded, the period repeated by stream copy. The pictures
    are the whole encode's (same decode, scale and trim; SSIM), the crossfade cut points are IDR frames, and the
    picture detectors report the same stretches."""
    from renderers import segment_ffmpeg

    clip = tmp_path / "loop.mp4"  # B-frames and a longer audio track, as a camera's clip has
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=240x136:r=10:d=1.2", "-f",
                    "lavfi", "-i", "sine=d=1.7", "-c:v", "libx264", "-bf", "3", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    str(clip)], check=True)
    encodes = count_encodes(monkeypatch)
    rep, facts, dur = segment(tmp_path, "rep", clip, "video", [(4.6, True)], pictures=True, repeat_loops=True,
                              **split)
    frames = scene_frames(dur, 0.3, 10)
    head, tail = split.get("split_head", 0), split.get("split_tail", 0)
    whole, rest = divmod(frames - head - tail, 12)
    assert whole >= segment_ffmpeg.LOOP_REPEAT_MIN
    assert encodes == [n for n in (head, 12, rest, tail) if n] and facts["frames"] == frames
    whole_enc, whole_facts, _ = segment(tmp_path, "whole", clip, "video", [(4.6, True)], pictures=True, **split)
    assert encodes[-1] == frames and whole_facts["frames"] == frames
    assert facts["pictures"] == whole_facts["pictures"] and facts["pictures"]["black"] == []
    v = stream(ffprobe(rep / "video.mp4"), "video")
    assert (v["codec_name"], v["profile"], v["width"], v["height"], int(v["nb_frames"])) == ("h264", "High", 320, 180,
                                                                                             frames)
    lines = _packets(rep / "video.mp4").splitlines()
    keys = [i for i, line in enumerate(lines) if "K" in line.rsplit(",", 1)[-1]]
    assert all(k in keys for k in (head, frames - tail) if 0 < k < frames)  # where the crossfades cut
    times = sorted(float(line.split(",")[0]) for line in lines)
    assert times == pytest.approx([i / 10 for i in range(frames)], abs=1e-4)  # one frame every 0.1 s, no gap
    ssim = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(rep / "video.mp4"), "-i",
                           str(whole_enc / "video.mp4"), "-filter_complex", "ssim", "-f", "null", "-"],
                          capture_output=True, text=True).stderr
    assert float(re.search(r"All:([\d.]+)", ssim).group(1)) > 0.98
    # the picture under every frame is the loop's: frame g shows what frame g - 12 shows (same encode of a period)
    md5 = _frame_md5s(rep / "video.mp4")
    assert md5[head + 12:head + 24] == md5[head + 24:head + 36]


def test_a_frozen_loop_is_one_freeze_and_a_clip_looped_once_is_encoded_whole(tmp_path, monkeypatch):
    still = tmp_path / "still.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=240x136:r=10:d=1.2",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(still)], check=True)
    out, facts, dur = segment(tmp_path, "frozen", still, "video", [(4.6, True)], pictures=True, repeat_loops=True)
    whole, whole_facts, _ = segment(tmp_path, "frozenwhole", still, "video", [(4.6, True)], pictures=True)
    assert facts["pictures"]["frozen"] == whole_facts["pictures"]["frozen"] and len(facts["pictures"]["frozen"]) == 1
    encodes = count_encodes(monkeypatch)
    _, short, _ = segment(tmp_path, "short", still, "video", [(1.5, True)], repeat_loops=True)
    assert encodes == [short["frames"]] == [scene_frames(1.5, 0.3, 10)]  # one whole encode


def test_a_final_encode_starts_after_a_cut_away_preroll_of_its_first_picture(tmp_path, monkeypatch):
    """x264 codes a stream's first frames worse than later ones; a final segment is encoded after PREROLL_FRAMES
    copies of its first picture, with an IDR frame forced where the scene starts, and the copies are cut away by
    stream copy. The segment has the scene's frames, starts with that IDR frame, keeps the crossfades' IDR frames
    where the assembly cuts, and its first frames are coded better than without the pre-roll."""
    from renderers import segment_ffmpeg

    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=640x360:d=1", "-frames:v", "1",
                    str(img)], check=True)
    out, facts, _ = segment(tmp_path, "pre", img, "image", [(3.0, True)], motion="pan_right", split_head=4,
                            split_tail=5)
    frames = facts["frames"]
    packets = [line.split(",") for line in _packets(out / "video.mp4").split()]
    keys = sorted(round(float(pts) * 10) for pts, _, _, flags in packets if "K" in flags)
    assert len(packets) == frames and keys[:2] == [0, 4] and frames - 5 in keys
    monkeypatch.setattr(segment_ffmpeg, "PREROLL_FRAMES", 0)
    plain, plain_facts, _ = segment(tmp_path, "plain", img, "image", [(3.0, True)], motion="pan_right",
                                    split_head=4, split_tail=5)
    assert plain_facts == facts

    def first_ssim(video):  # SSIM of the first 10 frames against the unencoded pictures
        graph = (f"[1:v]{segment_ffmpeg.fit_filter('cover', 320, 180, 1.12)},format=yuv420p,"
                 f"loop=loop={frames - 1}:size=1:start=0,setpts=N/10/TB,"
                 f"{segment_ffmpeg.motion_filter('pan_right', 320, 180, frames, 10)},trim=end_frame=10[r];"
                 f"[0:v]trim=end_frame=10[o];[o][r]ssim")
        log = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(video), "-framerate", "10", "-i", str(img),
                              "-filter_complex", graph, "-f", "null", "-"], capture_output=True, text=True).stderr
        return float(re.search(r"All:([\d.]+)", log).group(1))

    assert first_ssim(out / "video.mp4") > first_ssim(plain / "video.mp4")
