"""A video made only of clips that already are the format's H.264 goes into the final video by stream copy
(renderers/_lib/mp4info.py, issue 12): planned for the whole video or not at all, built into a playable video whose
pictures are the clips' own, and refused for anything that would need a pixel changed."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from renderers._lib.mp4info import video_track
from support import build_all, session, write

CLIPS = """\
title: Clips
format: tiny
music: false
scenes:
  - narration: The first clip plays.
    visual: {kind: clip, file: media/c0.mp4}
  - narration: The second clip plays, and this narration is longer than that clip so it repeats.
    visual: {kind: clip, file: media/c1.mp4}
"""


def camera_clip(path: Path, src: str, *codec: str) -> Path:
    codec = codec or ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src, *codec, "-fflags", "+bitexact",
                    "-flags:v", "+bitexact", str(path)], check=True)
    return path


@pytest.fixture
def clips(mini) -> Path:
    media = mini / "videos/test/media"
    camera_clip(media / "c0.mp4", "testsrc2=s=320x180:r=10:d=3")
    camera_clip(media / "c1.mp4", "mandelbrot=s=320x180:r=10,trim=duration=1.2")
    write(mini / "videos/test/clips.yaml", CLIPS)
    return mini


def segments(ws, video: str = "test/clips") -> dict:
    return {s: st for s, st in ws.plan().steps.items() if st.kind == "segment.ffmpeg" and s.startswith(video)}


def frame_hashes(path: Path) -> list[str]:
    out = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def test_a_hardware_encoder_brand_copies_too_and_needs_no_encoder(clips):
    from compiler.remote.registry import needs_of

    brand = clips / "brands/test.yaml"
    brand.write_text(brand.read_text() + "encoder: nvenc\n")
    for st in segments(session(clips)).values():
        assert st.params.get("stream_copy") and "encoder" not in st.params
        assert needs_of(st.kind, st.params) == ("ffmpeg",)


def test_an_all_clip_video_is_copied_and_plays_the_clips_own_pictures(clips):
    ws = session(clips)
    segs = segments(ws)
    assert len(segs) == 2 and all(st.params.get("stream_copy") for st in segs.values())
    assert not any(st.params.get("stream_copy") for st in segments(ws, "test/alpha").values())  # slides, a still
    assert not any("stream_copy" in st.params for st in ws.plan("preview").steps.values())  # preview: encoded
    ws, failed, ran = build_all(clips)
    assert not failed
    video = clips / "build/test/clips/video.mp4"
    manifest = json.loads((video.parent / "manifest.json").read_text())
    frames = [manifest["steps"][sc["segment"]]["facts"]["frames"] for sc in manifest["scenes"]]
    assert all(manifest["steps"][sc["segment"]]["facts"]["copied"] for sc in manifest["scenes"])
    track = video_track(video)
    assert track.config == video_track(clips / "videos/test/media/c0.mp4").config and track.frames == sum(frames)
    c0 = frame_hashes(clips / "videos/test/media/c0.mp4")
    c1 = frame_hashes(clips / "videos/test/media/c1.mp4")
    assert frames[1] > len(c1)  # the second clip is repeated
    assert frame_hashes(video) == c0[:frames[0]] + (c1 * 9)[:frames[1]]
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(video)],
                                      capture_output=True, text=True, check=True).stdout)["streams"]
    assert [s["codec_name"] for s in probe] == ["h264", "aac"]
    assert abs(float(probe[0]["duration"]) - float(probe[1]["duration"])) < 0.05
    # the media checks read the copied segments' pictures like encoded ones: no finding but the test brand's policy
    assert manifest["qc"]["errors"] == 0 and manifest["qc"]["warnings"] == 1
    assert "test/clips/tiny/qc/scene/01" in ran
    # an edit re-copies only the scene it touches
    write(clips / "videos/test/clips.yaml", CLIPS.replace("The first clip plays.", "The first clip plays on."))
    ws2, failed, ran = build_all(clips)
    assert not failed and "test/clips/tiny/segment/00" in ran and "test/clips/tiny/segment/01" not in ran


@pytest.mark.parametrize("change", ["brand_off", "crossfade", "slide", "size", "bframes", "setups", "start",
                                    "no_loop", "captions", "bitrate"])
def test_anything_that_needs_a_pixel_changed_is_encoded(clips, change):
    media, spec = clips / "videos/test/media", CLIPS
    if change == "brand_off":
        brand = clips / "brands/test.yaml"
        brand.write_text(brand.read_text() + "quality: {clip_copy: false}\n")
    elif change == "crossfade":
        spec = spec.replace("  - narration: The second", "  - transition: crossfade\n    narration: The second")
    elif change == "slide":
        spec += "  - narration: A slide.\n    visual: {kind: slide, title: End}\n"
    elif change == "size":
        camera_clip(media / "c1.mp4", "mandelbrot=s=640x360:r=10,trim=duration=1.2")
    elif change == "bframes":
        camera_clip(media / "c1.mp4", "mandelbrot=s=320x180:r=10,trim=duration=1.2", "-c:v", "libx264", "-preset",
                    "veryfast", "-bf", "2", "-pix_fmt", "yuv420p")
    elif change == "setups":  # another encoder's parameter sets: the two cannot share one track's codec setup
        camera_clip(media / "c1.mp4", "mandelbrot=s=320x180:r=10,trim=duration=1.2", "-c:v", "libx264", "-preset",
                    "medium", "-bf", "0", "-pix_fmt", "yuv420p")
    elif change == "start":
        spec = spec.replace("media/c0.mp4}", "media/c0.mp4, start: 1}")
    elif change == "no_loop":
        spec = spec.replace("media/c1.mp4}", "media/c1.mp4, loop: false}")
    elif change == "captions":
        spec = spec.replace("format: tiny", "format: tinyshort")
        for clip in ("c0", "c1"):
            camera_clip(media / f"{clip}.mp4", "testsrc2=s=180x320:r=10:d=3")
    elif change == "bitrate":
        brand = clips / "brands/test.yaml"
        brand.write_text(brand.read_text() + "quality: {clip_copy_max_mbps: 0.01}\n")
    write(clips / "videos/test/clips.yaml", spec)
    segs = segments(session(clips))
    assert segs and not any(st.params.get("stream_copy") for st in segs.values()), change


def test_a_clip_video_that_is_not_copied_says_why_at_the_clip(clips):
    camera_clip(clips / "videos/test/media/c1.mp4", "mandelbrot=s=320x180:r=10,trim=duration=1.2", "-c:v", "libx264",
                "-preset", "veryfast", "-bf", "2", "-pix_fmt", "yuv420p")
    res = session(clips).check()
    [note] = res.warnings["test/clips"]
    assert "clips.yaml:8:" in note and "media/c1.mp4: B-frames" in note and "clip_copy: false" in note
    assert "test/alpha" not in res.warnings  # a video with other scenes was never a candidate: no note
    brand = clips / "brands/test.yaml"
    brand.write_text(brand.read_text() + "quality: {clip_copy: false}\n")
    assert "test/clips" not in session(clips).check().warnings
