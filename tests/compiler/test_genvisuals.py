"""Compile-time decisions for generated visuals (pure: spec in, plan out): which model or declared fallback a
genimage scene uses, the warnings that make fallbacks visible, and the plan of an avatar scene."""
from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from support import REPO, write
from compiler import cli
from compiler.genvisuals import full_prompt, pick_still
from compiler.load import load_project
from compiler.plan import compile_plan

GEN = """\
title: Gen
format: tiny
scenes:
  - narration: A generated picture of the night sky.
    visual: {kind: genimage, prompt: a galaxy over a lake, seed: 3}
"""


def plan_of(root: Path, brand_extra: str, video: str = GEN, name: str = "gen"):
    brand = root / "brands" / "test.yaml"
    brand.write_text(brand.read_text() + brand_extra)
    write(root / "videos" / "test" / f"{name}.yaml", video)
    return compile_plan(load_project(root))


def library(root: Path, *names: str) -> None:
    lib = root / "brands" / "media" / "stills"
    lib.mkdir(parents=True, exist_ok=True)
    for n in names:
        if n.endswith(".txt"):
            (lib / n).write_text("not a picture")
        else:
            Image.new("RGB", (32, 18), (9, 9, 9)).save(lib / n)


# ------------------------------------------------------------------ genimage --

def test_no_model_and_no_fallback_is_a_spec_error_that_says_what_to_do(mini):
    plan = plan_of(mini, "")
    err = plan.errors["test/gen"]
    assert "videos/test/gen.yaml:5:" in err and "scenes[0].visual" in err
    assert "brand 'test' has no images.model; set images.model to a local diffusers folder" in err
    assert "docs/visuals-images-avatar.md" in err and "[model]" in err
    assert "test/gen" not in plan.videos


def test_a_configured_but_missing_model_is_an_error_without_fallback(mini):
    plan = plan_of(mini, "images: {model: ../models/sd15}\n")
    assert "images.model is unusable: folder models/sd15 not found" in plan.errors["test/gen"]


def test_fallback_media_is_decided_at_compile_time_and_warned(mini):
    library(mini, "a-lake-at-night.jpg", "desert-dunes.png", "notes.txt")
    plan = plan_of(mini, "images: {fallback: media, library: media/stills, style: 'film grain'}\n")
    step = plan.steps["test/gen/genimage/00"]
    assert step.kind == "image.fallback"
    assert step.params == {"fallback": "media", "reason": "brand 'test' has no images.model",
                           "prompt": "a galaxy over a lake"}
    assert step.inputs["image"].file == "brands/media/stills/a-lake-at-night.jpg"  # shares "lake" with the prompt
    seg = plan.steps["test/gen/tiny/segment/00"]
    assert seg.inputs["visual"].step == step.id and seg.params["motion"] == "zoom_in"
    warning, = plan.warnings["test/gen"]
    assert warning.startswith("videos/test/gen.yaml:5:") and "declared fallback 'media'" in warning
    assert "[warning]" in warning
    assert json.loads(plan.model_dump_json())["warnings"]["test/gen"] == [warning]  # in the printable plan


def test_media_pick_is_deterministic_and_seed_rerolls_among_ties():
    stills = [Path(f"/lib/{n}.jpg") for n in ("aurora", "comet", "moon", "nebula")]
    picks = {pick_still(stills, "a quiet night", seed) for seed in range(12)}
    assert len(picks) > 1  # no name matches: the seed re-rolls
    assert pick_still(stills, "a quiet night", 5) == pick_still(stills, "a  quiet night ", 5)
    assert {pick_still(stills, "the comet tail", seed) for seed in range(12)} == {Path("/lib/comet.jpg")}
    assert full_prompt("a comet.", "oil painting") == "a comet, oil painting"


def test_fallback_slide_shows_the_prompt_without_motion(mini):
    plan = plan_of(mini, "images: {fallback: slide}\n")
    fb = plan.steps["test/gen/tiny/genimage/00"]
    slide = plan.steps[fb.inputs["image"].step]
    assert fb.kind == "image.fallback" and fb.params["fallback"] == "slide"
    assert slide.kind == "slide.html" and slide.params["body"] == "a galaxy over a lake"
    assert plan.steps["test/gen/tiny/segment/00"].params["motion"] == "none"
    assert "declared fallback 'slide'" in plan.warnings["test/gen"][0]


def test_unusable_model_with_fallback_says_why(mini):
    (mini / "models" / "half").mkdir(parents=True)
    library(mini, "x.jpg")
    plan = plan_of(mini, "images: {model: ../models/half, fallback: media, library: media/stills}\n")
    # the reason is a step param (in the action key and manifests): project-relative, never a machine path
    assert plan.steps["test/gen/genimage/00"].params["reason"].endswith(
        "images.model is unusable: models/half has no model_index.json (give a diffusers-format folder: the output "
        "of save_pretrained() or a diffusers repository snapshot)")
    assert "images.model is unusable" in plan.warnings["test/gen"][0]


def test_empty_fallback_library_is_an_error(mini):
    plan = plan_of(mini, "images: {fallback: media, library: media/nothing-here}\n")
    assert "fallback library brands/media/nothing-here/ holds no stills" in plan.errors["test/gen"]


def test_check_and_build_print_the_warning(mini, capsys):
    library(mini, "x.jpg")
    plan_of(mini, "images: {fallback: media, library: media/stills}\n")
    assert cli.check(mini) == 0
    err = capsys.readouterr().err
    assert "warning: videos/test/gen.yaml:5:" in err and "declared fallback 'media'" in err


def test_the_sample_explainer_uses_the_declared_fallback():
    plan = compile_plan(load_project(REPO))
    assert "cosmos/dark-sky" in plan.videos, plan.errors.get("cosmos/dark-sky")
    fallbacks = [s for s in plan.steps.values() if s.video == "cosmos/dark-sky" and s.kind == "image.fallback"]
    assert fallbacks and all(s.inputs["image"].file.startswith("brands/media/stills/") for s in fallbacks)
    assert any("declared fallback 'media'" in w for w in plan.warnings["cosmos/dark-sky"])


# -------------------------------------------------------------------- avatar --

AVATAR = "avatar: {avatar_id: av-1, voice_id: vo-1, pip: {position: top_left, size: 0.3}}\n"


def test_full_presenter_with_heygen_voice(mini):
    video = GEN.replace("visual: {kind: genimage, prompt: a galaxy over a lake, seed: 3}", "visual: {kind: avatar}")
    plan = plan_of(mini, AVATAR, video)
    hg = plan.steps["test/gen/heygen/00"]
    assert hg.kind == "avatar.heygen" and hg.inputs == {}
    assert hg.params["script"] == "A generated picture of the night sky." and hg.params["voice_id"] == "vo-1"
    assert hg.params["aspect_ratio"] == "16:9" and hg.params["api_key_env"] == "HEYGEN_API_KEY"
    narration = plan.steps["test/gen/narration/00"]  # HeyGen's voice is the narration: lips and audio agree
    assert narration.kind == "tts.recorded" and narration.inputs["audio"].step == hg.id
    pip = plan.steps["test/gen/tiny/avatar/00"]
    assert pip.kind == "pip.ffmpeg" and pip.params["layout"] == "full" and "background" not in pip.inputs
    seg = plan.steps["test/gen/tiny/segment/00"]
    assert seg.inputs["visual"].step == pip.id and seg.params["visual_type"] == "video" and seg.params["loop"] is False


def test_pip_over_a_slide_lipsyncing_our_narration(mini):
    video = GEN.replace("visual: {kind: genimage, prompt: a galaxy over a lake, seed: 3}",
                        "visual: {kind: avatar, layout: pip, over: {kind: slide, title: Stars}}")
    plan = plan_of(mini, AVATAR.replace("voice_id: vo-1", "voice: narration"), video)
    hg = plan.steps["test/gen/heygen/00"]
    assert hg.params["script"] is None and hg.params["voice_id"] is None
    assert hg.inputs["audio"].step == "test/gen/narration/00"
    assert plan.steps["test/gen/narration/00"].kind == "tts.espeak"  # our voice stays the narration
    pip = plan.steps["test/gen/tiny/avatar/00"]
    assert pip.inputs["background"].step == "test/gen/tiny/slide/00"
    assert {k: pip.params[k] for k in ("layout", "position", "size", "border_color", "background_type",
                                        "background_motion")} == {
        "layout": "pip", "position": "top_left", "size": 0.3, "border_color": "#ff8800", "background_type": "image",
        "background_motion": "none"}


def test_pip_over_a_generated_image_uses_its_fallback(mini):
    library(mini, "x.jpg")
    video = GEN.replace("visual: {kind: genimage, prompt: a galaxy over a lake, seed: 3}",
                        "visual: {kind: avatar, layout: pip, position: bottom_left, "
                        "over: {kind: genimage, prompt: stars, motion: pan_left}}")
    plan = plan_of(mini, AVATAR + "images: {fallback: media, library: media/stills}\n", video)
    pip = plan.steps["test/gen/tiny/avatar/00"]
    assert pip.inputs["background"].step == "test/gen/genimage/00"
    assert pip.params["background_motion"] == "pan_left" and pip.params["position"] == "bottom_left"
    assert "scenes[0].visual.over:" in plan.warnings["test/gen"][0]


def test_portrait_format_asks_heygen_for_9_by_16(mini):
    video = GEN.replace("format: tiny", "format: tinyshort").replace(
        "visual: {kind: genimage, prompt: a galaxy over a lake, seed: 3}", "visual: {kind: avatar}")
    plan = plan_of(mini, AVATAR, video)
    assert plan.steps["test/gen/heygen/00"].params["aspect_ratio"] == "9:16"


def test_avatar_spec_errors(mini):
    av = GEN.replace("visual: {kind: genimage, prompt: a galaxy over a lake, seed: 3}", "visual: {kind: avatar}")
    plan = plan_of(mini, "", av, name="noavatar")
    assert "brand 'test' has no avatar; add `avatar:` with a HeyGen avatar_id" in plan.errors["test/noavatar"]
    pip = av.replace("{kind: avatar}", "{kind: avatar, layout: pip}")
    long = av.replace("A generated picture of the night sky.", "word " * 40)
    write(mini / "videos/test/long.yaml", long)
    plan = plan_of(mini, AVATAR.replace("{avatar_id", "{max_duration_s: 10, avatar_id"), pip, name="nopip")
    assert "layout: pip needs `over:`" in plan.errors["test/nopip"]
    # one avatar scene is one HeyGen video: 40 words at 150 wpm is 16 s, over this brand's 10 s
    assert "limited to 10 s (avatar.max_duration_s); this narration is about 16 s" in plan.errors["test/long"]
