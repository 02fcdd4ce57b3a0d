"""Clips from images: image-to-video with a tiny randomly initialised Stable Video Diffusion pipeline, saved
locally and loaded through DiffusionPipeline.from_pretrained() like the real model; Ken Burns otherwise."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from support import session, write
from renderers.base import ffprobe
from tiny_diffusers import into_project, tiny_sd, tiny_svd

VIDEO = """\
title: Moving
format: tiny
scenes:
  - narration: The picture comes alive.
    visual: {kind: image, file: media/pic.png, animate: true}
  - narration: A generated picture that moves.
    visual: {kind: genimage, prompt: clouds over a ridge, seed: 5, animate: true}
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("models")
    return {"sd": tiny_sd(base), "svd": tiny_svd(base)}


def setup(root: Path, brand_extra: str):
    brand = root / "brands" / "test.yaml"
    brand.write_text(brand.read_text() + brand_extra)
    write(root / "videos" / "test" / "moving.yaml", VIDEO)
    return session(root)


SLIDES = "images: {fallback: slide}\n"  # scene 1 is a genimage; these tests animate scene 0


def video_model(root: Path, folder: Path, **extra) -> str:
    fields = {"model": into_project(root, folder), "frames": 4, "fps": 4, "steps": 2, "width": 64, "height": 64,
              "decode_chunk_size": 2, **extra}
    return "video_model: " + json.dumps(fields) + "\n"


def test_animates_a_still_into_a_looping_clip(mini, models):
    s = setup(mini, SLIDES + video_model(mini, models["svd"]))
    sid = "test/moving/genclip/00"
    step = s.plan().steps[sid]
    assert step.kind == "video.diffusers" and step.inputs["image"].file == "videos/test/media/pic.png"
    seg = s.plan().steps["test/moving/tiny/segment/00"]
    assert seg.params["visual_type"] == "video" and seg.params["loop"] is True
    assert seg.inputs["visual"].step == sid
    assert s.engine.build([seg.id]) == {}
    m = s.store.get_manifest(s.engine.key(sid)[0])
    assert m["facts"]["pipeline"] == "StableVideoDiffusionPipeline" and m["facts"]["device"] == "cpu"
    assert m["facts"]["generated_frames"] == 4 and m["facts"]["frames"] == 6  # boomerang: 4 + 2 back
    clip = s.store.blob_path(m["outputs"]["clip.mp4"]["digest"])
    v = next(x for x in ffprobe(clip)["streams"] if x["codec_type"] == "video")
    assert (v["width"], v["height"], v["r_frame_rate"], int(v["nb_frames"])) == (64, 64, "4/1", 6)
    import subprocess

    def frame(n: int) -> bytes:
        return subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip), "-vf", f"select=eq(n\\,{n})", "-frames:v", "1",
                               "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout

    a, b = frame(1), frame(5)  # boomerang order 0 1 2 3 2 1: frame 5 repeats frame 1 (up to x264's loss)
    assert len(a) == 64 * 64 * 3 and sum(abs(x - y) for x, y in zip(a, b)) / len(a) < 3.0


def test_same_seed_same_clip(mini, tmp_path, models):
    import shutil

    s1 = setup(mini, SLIDES + video_model(mini, models["svd"]))
    sid = "test/moving/genclip/00"
    assert s1.engine.build([sid]) == {}
    other = tmp_path / "again"
    shutil.copytree(mini, other, ignore=shutil.ignore_patterns("cache", "build"))
    s2 = session(other)
    assert s2.engine.build([sid]) == {}
    out = lambda s: s.store.get_manifest(s.engine.key(sid)[0])["outputs"]  # noqa: E731
    assert out(s1) == out(s2)


def test_generated_image_then_animated(mini, models):
    images = "images: " + json.dumps({"model": into_project(mini, models["sd"]), "steps": 1, "guidance": 1.0}) + "\n"
    s = setup(mini, images + video_model(mini, models["svd"], boomerang=False))
    clip = s.plan().steps["test/moving/genclip/01"]
    assert clip.inputs["image"].step == "test/moving/genimage/01" and clip.params["prompt"] == "clouds over a ridge"
    assert s.engine.build([clip.id]) == {}
    m = s.store.get_manifest(s.engine.key(clip.id)[0])
    assert m["facts"]["frames"] == 4 and m["facts"]["duration_s"] == 1.0


def test_without_a_video_model_stills_get_ken_burns_and_a_warning(mini):
    lib = mini / "brands/media/stills"
    lib.mkdir()
    Image.new("RGB", (64, 36), (1, 2, 3)).save(lib / "ridge.png")
    s = setup(mini, "images: {fallback: media, library: media/stills}\n")
    assert not any(st.kind == "video.diffusers" for st in s.plan().steps.values())
    seg = s.plan().steps["test/moving/tiny/segment/00"]
    assert seg.params["visual_type"] == "image" and seg.params["motion"] == "zoom_in"
    warnings = s.plan().warnings["test/moving"]
    assert sum("has no video_model" in w for w in warnings) == 2
    assert any("scenes[0].visual.animate" in w for w in warnings)


def test_a_configured_but_missing_video_model_is_a_spec_error(mini, tmp_path):
    s = setup(mini, SLIDES + video_model(mini, tmp_path / "nowhere"))
    err = s.plan().errors["test/moving"]
    assert "video_model is unusable" in err and "not found" in err and "scenes[0].visual.animate" in err
