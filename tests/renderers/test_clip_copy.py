"""Clips that go into the final video by stream copy (issue 12): the MP4 header reader, the plan's decision and the
segment's copy (the clip's own packets, its pictures exactly)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from renderers._lib.mp4info import refusal
from core.timeline import scene_frames
from renderers._lib.mp4info import video_track
from test_segment_assemble import segment


def make_clip(path: Path, *extra: str, src: str = "testsrc2=s=320x180:r=10:d=1.5", codec: tuple = ()) -> Path:
    codec = codec or ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src, *codec, *extra,
                    "-fflags", "+bitexact", "-flags:v", "+bitexact", str(path)], check=True)
    return path


def packets(path: Path, n: int | None = None) -> list[str]:
    """The video packets' payload hashes, in decode order."""
    out = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f",
                          "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    rows = [line.rsplit(",", 1)[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]
    return rows[:n] if n is not None else rows


def pictures(path: Path) -> list[str]:
    out = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def test_the_header_reader_sees_what_a_copy_depends_on(tmp_path):
    plain = video_track(make_clip(tmp_path / "plain.mp4"))
    assert (plain.codec, plain.width, plain.height, plain.frames, plain.frame_rate()) == ("avc1", 320, 180, 15, 10)
    assert plain.first_sync and not plain.reordered and plain.square and plain.upright and plain.plain_edits
    assert plain.entries == 1 and plain.profile == 66
    size = (tmp_path / "plain.mp4").stat().st_size
    assert 0.8 * size * 8 / 1.5 < plain.bit_rate < size * 8 / 1.5
    assert refusal(plain, 320, 180, 10, 30) is None
    # the same clip in a QuickTime file (a camera's .MOV)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(tmp_path / "plain.mp4"), "-c", "copy",
                    str(tmp_path / "plain.mov")], check=True)
    assert video_track(tmp_path / "plain.mov").config == plain.config

    bframes = video_track(make_clip(tmp_path / "b.mp4", codec=("-c:v", "libx264", "-preset", "veryfast", "-bf", "2",
                                                                "-pix_fmt", "yuv420p")))
    assert bframes.reordered and refusal(bframes, 320, 180, 10, 30) == "B-frames"
    rotated = tmp_path / "rot.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(tmp_path / "plain.mp4"), "-c", "copy",
                    "-metadata:s:v", "rotate=90", str(rotated)], check=True)
    assert not video_track(rotated).upright and "rotation" in refusal(video_track(rotated), 320, 180, 10, 30)
    wide = video_track(make_clip(tmp_path / "sar.mp4", "-vf", "setsar=4/3"))
    assert not wide.square and refusal(wide, 320, 180, 10, 30)
    assert refusal(plain, 640, 360, 10, 30) == "320x180, not 640x360"
    assert refusal(plain, 320, 180, 30, 30) == "frame rate 10.0, not 30"
    assert "above quality.clip_copy_max_mbps" in refusal(plain, 320, 180, 10, 0.01)
    hi10 = video_track(make_clip(tmp_path / "hi10.mp4", codec=("-c:v", "libx264", "-preset", "ultrafast",
                                                                "-pix_fmt", "yuv420p10le")))
    assert hi10 is None or refusal(hi10, 320, 180, 10, 30)  # where libx264 has 10-bit: profile 110
    mpeg4 = video_track(make_clip(tmp_path / "m4v.mp4", codec=("-c:v", "mpeg4")))
    assert refusal(mpeg4, 320, 180, 10, 30).startswith("codec mp4v")
    (tmp_path / "junk.mp4").write_bytes(b"\0\0\0\x10ftypisom" + b"\xff" * 40)
    assert video_track(tmp_path / "junk.mp4") is None and video_track(tmp_path / "missing.mp4") is None
    assert refusal(None, 320, 180, 10, 30)


@pytest.mark.parametrize("seconds", [0.8, 2.4])
def test_a_copied_segment_is_the_clips_own_packets_and_pictures(tmp_path, seconds):
    """Shorter than the clip: its first frames; longer: the clip repeated, every repeat from its IDR frame. The
    packets are the clip's bytes, so the pictures are exactly its own, and the detectors still report."""
    clip = make_clip(tmp_path / "clip.mp4", src="testsrc2=s=320x180:r=10:d=1.5")
    out, facts, dur = segment(tmp_path, "c", clip, "video", [(seconds, True)], pictures=True, stream_copy=True)
    frames = scene_frames(dur, 0.3, 10)
    made = video_track(out / "video.mp4")
    assert facts["frames"] == frames == made.frames and facts["copied"] is True
    assert made.config == video_track(clip).config and made.deltas == {9000} and made.timescale == 90000
    source = packets(clip)
    want = (source * 4)[:frames]
    assert packets(out / "video.mp4") == want
    assert pictures(out / "video.mp4") == (pictures(clip) * 4)[:frames]
    assert set(facts["pictures"]) >= {"black", "frozen"} and facts["pictures"]["black"] == []
    # the encode of the same scene shows the same frames, re-compressed
    enc, enc_facts, _ = segment(tmp_path, "e", clip, "video", [(seconds, True)], pictures=True)
    assert enc_facts["frames"] == frames and enc_facts["pictures"] == facts["pictures"]


def test_a_clip_that_cannot_be_copied_is_a_clear_step_error(tmp_path):
    from core.errors import StepError

    clip = make_clip(tmp_path / "b.mp4", codec=("-c:v", "libx264", "-preset", "veryfast", "-bf", "2",
                                                 "-pix_fmt", "yuv420p"))
    with pytest.raises(StepError, match="cannot be stream-copied: B-frames"):
        segment(tmp_path, "b", clip, "video", [(0.5, True)], stream_copy=True)


def test_a_damaged_or_hostile_header_is_refused_quickly(tmp_path):
    """Counts that run past their box, a box that claims more than the file: None (the clip is encoded, and the
    encode reports what is wrong with it), never a read past the header or a long loop."""
    import struct

    good = (make_clip(tmp_path / "good.mp4")).read_bytes()
    for box in (b"stts", b"stsz", b"stss"):
        at = good.rindex(box) + 8 + (4 if box == b"stsz" else 0)  # past version/flags (and stsz's sample size)
        bad = bytearray(good)
        struct.pack_into(">I", bad, at, 0xFFFFFFF0)
        (tmp_path / "bad.mp4").write_bytes(bytes(bad))
        assert video_track(tmp_path / "bad.mp4") is None, box
    huge = bytearray(good)
    at = huge.index(b"moov") - 4
    struct.pack_into(">I", huge, at, 0x7FFFFFFF)
    (tmp_path / "huge.mp4").write_bytes(bytes(huge))
    assert video_track(tmp_path / "huge.mp4") is None
    import os

    os.mkfifo(tmp_path / "fifo.mp4")  # would block an open() for reading: refused without opening
    assert video_track(tmp_path / "fifo.mp4") is None
