"""The committed samples and the README's examples are real: they validate, and the README video builds."""
from __future__ import annotations

import re
import shutil

from support import REPO, session
from compiler.load import load_project, validate
from core.spec import Brand
from compiler.yamlpos import parse_yaml


def readme_yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def test_samples_validate_and_meet_the_brief():
    project = load_project(REPO)
    assert not project.errors, {k: v.render() for k, v in project.errors.items()}
    assert len(project.brands) >= 2 and len(project.videos) >= 3
    explainer = project.videos["cosmos/dark-sky"].script
    assert len(explainer.scenes) >= 12
    formats = [f for lv in project.videos.values() for f in ([lv.spec.model.format] if isinstance(lv.spec.model.format, str) else (lv.spec.model.format or []))]
    recipes = [lv.spec.model.recipe for lv in project.videos.values()]
    assert "short" in formats or "short" in recipes
    # every visual kind the studio shows has a sample, Remotion included (cosmos/moon-phases-short)
    kinds = {sc.visual.kind for lv in project.videos.values() if lv.script for sc in lv.script.scenes}
    assert {"slide", "image", "clip", "manim", "remotion"} <= kinds, kinds


def test_readme_brand_example_is_a_valid_brand():
    brand_block = next(b for b in readme_yaml_blocks() if b.startswith("name:"))
    data, pos = parse_yaml(brand_block, "README.md")
    assert isinstance(validate(Brand, data, pos), Brand)


def test_readme_video_example_builds(tmp_path):
    video_block = next(b for b in readme_yaml_blocks() if b.startswith("title:"))
    root = tmp_path / "proj"
    shutil.copytree(REPO / "brands", root / "brands")
    shutil.copytree(REPO / "recipes", root / "recipes", ignore=shutil.ignore_patterns("node_modules"))
    shutil.copytree(REPO / "videos/cosmos/media", root / "videos/cosmos/media")
    (root / "videos/cosmos/readme-example.yaml").write_text(video_block)
    s = session(root)
    assert not s.plan().errors, s.plan().errors
    vid = "cosmos/readme-example"
    failed = s.engine.build(s.plan().videos[vid].steps, jobs=2)
    assert failed == {}
    s.engine.materialize(vid)
    assert (root / "build/cosmos/readme-example/video.mp4").stat().st_size > 10_000
