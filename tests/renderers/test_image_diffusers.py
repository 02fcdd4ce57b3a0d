"""genimage scenes: text-to-image with a tiny randomly initialised Stable Diffusion pipeline, loaded from a
local folder through DiffusionPipeline.from_pretrained() like a real model, built through the engine."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from support import session, write
from renderers.base import ffprobe
from tiny_diffusers import into_project, tiny_sd

GEN = """\
title: Gen
format: tiny
scenes:
  - narration: A generated picture of the night sky.
    visual: {kind: genimage, prompt: a galaxy over a lake, seed: 3}
"""
SID = "test/gen/genimage/00"


@pytest.fixture(scope="module")
def sd_model(tmp_path_factory) -> Path:
    return tiny_sd(tmp_path_factory.mktemp("models"))


def setup(root: Path, images: str, video: str = GEN):
    brand = root / "brands" / "test.yaml"
    brand.write_text(brand.read_text() + images)
    write(root / "videos" / "test" / "gen.yaml", video)
    return session(root)


def built(s, sid: str) -> tuple[dict, Path]:
    assert s.engine.build([sid]) == {}
    key, _ = s.engine.key(sid)
    m = s.store.get_manifest(key)
    return m, s.store.blob_path(next(iter(m["outputs"].values()))["digest"])


def model_yaml(root: Path, folder: Path, **extra) -> str:
    fields = {"model": into_project(root, folder), "style": "oil painting", "steps": 2, "guidance": 5.0, **extra}
    return "images: " + json.dumps(fields) + "\n"


def test_draws_with_the_local_model_on_cpu(mini, sd_model):
    s = setup(mini, model_yaml(mini, sd_model))
    step = s.plan().steps[SID]
    assert step.kind == "image.diffusers" and not s.plan().warnings
    assert step.params["prompt"] == "a galaxy over a lake, oil painting"  # brand style words appended
    files = [r.file for r in step.inputs["model"]]
    assert files[0].endswith("model_index.json")
    assert any(f.endswith("unet/diffusion_pytorch_model.safetensors") for f in files)
    assert any(f.endswith("tokenizer/tokenizer.json") for f in files)
    m, png = built(s, SID)
    assert m["facts"]["device"] == "cpu" and m["facts"]["pipeline"] == "StableDiffusionPipeline"
    img = Image.open(png)
    assert img.format == "PNG" and img.size == (64, 64)  # the tiny model's native size
    assert max(ImageStat.Stat(img).stddev) > 1.0  # a picture, not a flat colour
    fp = json.dumps(m["fingerprint"])
    assert "diffusers" in fp and "cpu" not in fp and "cuda" not in fp  # device is a fact, not part of the key
    material = json.dumps(s.engine.key(SID)[1])
    assert str(sd_model) not in material and str(mini) not in material  # no paths in the key material


def test_same_seed_same_picture_new_seed_new_picture(mini, tmp_path, sd_model):
    s1 = setup(mini, model_yaml(mini, sd_model))
    m1, png1 = built(s1, SID)
    other = tmp_path / "other"
    shutil.copytree(mini, other, ignore=shutil.ignore_patterns("cache", "build"))
    m2, _ = built(session(other), SID)  # a separate store: really drawn again
    assert m2["outputs"] == m1["outputs"]
    (other / "videos/test/gen.yaml").write_text(GEN.replace("seed: 3", "seed: 4"))
    m3, png3 = built(session(other), SID)
    assert m3["outputs"] != m1["outputs"]
    assert Image.open(png3).size == Image.open(png1).size


def test_key_follows_model_content_not_its_path(mini, tmp_path, sd_model):
    moved = mini / "models" / "elsewhere" / "my-model"
    shutil.copytree(sd_model, moved)
    key_a = setup(mini, model_yaml(mini, sd_model)).engine.key(SID)[0]
    brand = mini / "brands/test.yaml"
    brand.write_text(brand.read_text().replace(into_project(mini, sd_model), "../models/elsewhere/my-model"))
    assert session(mini).engine.key(SID)[0] == key_a  # same content elsewhere: same key
    cfg = moved / "scheduler" / "scheduler_config.json"
    cfg.write_text(cfg.read_text().replace('"beta_end": 0.012', '"beta_end": 0.013'))
    assert session(mini).engine.key(SID)[0] != key_a  # changed model: new key
    brand.write_text(brand.read_text().replace("oil painting", "watercolour"))
    assert session(mini).engine.explain([SID])[-1]["status"] == "miss"


def test_variant_weights_are_chosen_like_diffusers(tmp_path, sd_model):
    from compiler.genvisuals import model_files

    folder = tmp_path / "m"
    shutil.copytree(sd_model, folder)
    unet = folder / "unet"
    shutil.copy(unet / "diffusion_pytorch_model.safetensors", unet / "diffusion_pytorch_model.fp16.safetensors")
    (unet / "diffusion_pytorch_model.bin").write_bytes(b"old")
    names = {f.relative_to(folder).as_posix() for f in model_files(folder)}
    assert "unet/diffusion_pytorch_model.safetensors" in names
    assert not {"unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_pytorch_model.bin"} & names
    names16 = {f.relative_to(folder).as_posix() for f in model_files(folder, "fp16")}
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in names16
    assert "vae/diffusion_pytorch_model.safetensors" in names16  # no fp16 file there: diffusers uses the plain one


def test_generated_still_becomes_a_ken_burns_segment(mini, sd_model):
    s = setup(mini, model_yaml(mini, sd_model))
    seg = "test/gen/tiny/segment/00"
    assert s.plan().steps[seg].params["motion"] == "zoom_in" and s.plan().steps[seg].params["visual_type"] == "image"
    m, _ = built(s, seg)
    info = ffprobe(s.store.blob_path(m["outputs"]["video.mp4"]["digest"]))
    v = next(x for x in info["streams"] if x["codec_type"] == "video")
    assert (v["width"], v["height"]) == (320, 180)


def test_broken_model_folder_fails_the_step_clearly(mini, tmp_path, sd_model):
    broken = tmp_path / "broken"
    shutil.copytree(sd_model, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not weights")
    s = setup(mini, model_yaml(mini, broken))
    failed = s.engine.build([SID])
    assert "cannot load the diffusers model in broken/" in failed[SID]
    assert "Traceback" not in failed[SID]


def test_fallback_media_is_recorded_in_the_manifest(mini):
    """No model here: the declared fallback builds the whole video, and the manifest says so."""
    lib = mini / "brands" / "media" / "stills"
    lib.mkdir()
    Image.new("RGB", (160, 90), (10, 20, 60)).save(lib / "lake-galaxy.jpg")
    Image.new("RGB", (160, 90), (200, 120, 40)).save(lib / "desert.jpg")
    s = setup(mini, "images: {fallback: media, library: media/stills, style: night}\n")
    assert s.plan().steps[SID].kind == "image.fallback"
    warning, = s.plan().warnings["test/gen"]
    assert "declared fallback 'media'" in warning and "lake-galaxy.jpg" in warning and "no images.model" in warning
    ids = s.plan().videos["test/gen"].steps
    assert s.engine.build(ids) == {}
    s.engine.materialize("test/gen")
    manifest = json.loads((mini / "build/test/gen/manifest.json").read_text())
    step = manifest["steps"][SID]
    assert step["kind"] == "image.fallback" and step["params"]["fallback"] == "media"
    assert step["facts"]["source"] == "lake-galaxy.jpg" and "no images.model" in step["facts"]["reason"]
