"""A spec is untrusted input: it names templates by name and files inside the project, nothing else.

Regression tests for issue 9 items 1-3: a template name that walks out of its recipes folder (and a
manim template that would run code at load time), and every path field pointed outside the project
by an absolute path, by `..`, or by a symlink committed inside the project.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from support import REPO, write
from compiler import catalogue
from compiler.load import load_project
from compiler.plan import compile_plan
from compiler.scriptplan import compile_script_plan

EVIL_PY = """\
from pathlib import Path
Path({marker!r}).write_text("pwned")
from pydantic import BaseModel
class Params(BaseModel):
    pass
def construct(scene, p, sr):
    pass
"""
INSIDE = "must be inside the project"


def _errors(project, vid: str) -> str:
    assert vid not in project.videos, f"{vid} loaded although it should not"
    return project.errors[vid].render()


def _plan_files(plan) -> list[str]:
    refs = []
    for step in plan.steps.values():
        for v in step.inputs.values():
            refs += [r.file for r in (v if isinstance(v, list) else [v]) if r.file is not None]
    return refs


@pytest.fixture
def outside(mini) -> Path:
    """A folder next to the project (never part of it) with a secret and an evil template."""
    out = mini.parent / "outside"
    out.mkdir()
    (out / "secret.png").write_bytes((mini / "videos/test/media/pic.png").read_bytes())
    (out / "secret.md").write_text("the neighbour's secrets\n")
    (out / "secret.mp4").write_bytes((mini / "videos/test/media/clip.mp4").read_bytes())
    (out / "evil.py").write_text(EVIL_PY.format(marker=str(out / "MARKER")))
    (out / "evil.html.j2").write_text("<html>{{ title }} from outside</html>\n")
    return out


# ------------------------------------------------------------- templates --

def test_a_manim_template_name_cannot_escape_and_is_never_imported(mini, outside):
    shutil.copytree(REPO / "recipes" / "manim", mini / "recipes" / "manim")  # the folder `..` walks out of
    write(mini / "videos/test/evil.yaml", "format: tiny\nscenes:\n  - narration: Hello.\n"
                                          "    visual: {kind: manim, template: ../../../outside/evil}\n")
    project = load_project(mini)
    plan = compile_plan(project)
    compile_script_plan(project, env={})
    assert not (outside / "MARKER").exists(), "the template outside recipes/manim/ was imported"
    err = _errors(project, "test/evil")
    assert "videos/test/evil.yaml:4:37: scenes[0].visual.template:" in err and "is not a valid template name" in err
    assert "test/evil" in plan.errors and {"test/alpha", "test/beta"} <= set(plan.videos)


def test_the_catalogue_resolves_names_only_inside_their_folder(mini, outside):
    (mini / "recipes/manim").mkdir()
    for bad in ("../../../outside/evil", "a/b", "a\\b", "x.y", "", ".hidden", "-x", "x" * 65):
        with pytest.raises(catalogue.NotInCatalogue):
            catalogue.manim_template_file(mini, bad)
        with pytest.raises(catalogue.NotInCatalogue):
            catalogue.template_file(mini, "slide", bad)
        with pytest.raises(catalogue.NotInCatalogue):
            catalogue.prompt_path(bad)
    # a symlink inside the folder that leads out of it is not a template either
    os.symlink(outside / "evil.py", mini / "recipes/manim/evil.py")
    os.symlink(outside / "evil.html.j2", mini / "recipes/templates/slide/evil.html.j2")
    with pytest.raises(catalogue.NotInCatalogue, match="leads outside recipes/manim/"):
        catalogue.manim_template_file(mini, "evil")
    with pytest.raises(catalogue.NotInCatalogue, match="leads outside recipes/templates/slide/"):
        catalogue.template_file(mini, "slide", "evil")
    assert "evil" not in catalogue.manim_templates(mini)
    write(mini / "videos/test/evil.yaml", "format: tiny\nscenes:\n  - narration: Hello.\n"
                                          "    visual: {kind: manim, template: evil}\n")
    write(mini / "videos/test/slide.yaml", "format: tiny\nscenes:\n  - narration: Hello.\n"
                                           "    visual: {kind: slide, template: evil}\n")
    project = load_project(mini)
    assert not (outside / "MARKER").exists()
    assert "videos/test/evil.yaml:4:37:" in _errors(project, "test/evil")
    assert "leads outside recipes/templates/slide/" in _errors(project, "test/slide")


@pytest.mark.parametrize("where, spec", [
    ("scenes[0].visual.template", "scenes:\n  - narration: Hi.\n    visual: {kind: slide, template: ../../../../outside/evil}\n"),
    ("scenes[0].template", "scenes:\n  - narration: Hi.\n    template: ../../../../outside/evil\n"),
    ("template", "template: ../../../../outside/evil\nscenes:\n  - narration: Hi.\n"),
    ("thumbnail.template", "thumbnail: {template: ../../../../outside/evil}\nscenes:\n  - narration: Hi.\n"),
])
def test_slide_and_thumbnail_template_names_cannot_escape(mini, outside, where, spec):
    write(mini / "videos/test/evil.yaml", "format: tiny\n" + spec)
    project = load_project(mini)
    err = _errors(project, "test/evil")
    assert f": {where}: '../../../../outside/evil' is not a valid template name" in err
    assert "videos/test/evil.yaml:" in err
    assert not any("outside" in f for f in _plan_files(compile_plan(project)))


def test_brand_and_recipe_thumbnail_templates_are_names(mini):
    brand = mini / "brands/test.yaml"
    brand.write_text(brand.read_text() + "thumbnail_template: ../../outside/evil\n")
    write(mini / "recipes/explainer.yaml", "formats: [tiny]\nthumbnail_template: /etc/passwd\n")
    project = load_project(mini)
    assert "brands/test.yaml:11:21: thumbnail_template:" in project.errors["brands/test.yaml"].render()
    assert "recipes/explainer.yaml:2:21: thumbnail_template:" in project.errors["recipes/explainer.yaml"].render()


# ----------------------------------------------------------------- media --

VIDEO_FIELDS = {  # field path -> (spec with {p} for the path, suffix of the outside file)
    "scenes[0].visual.file": ("scenes:\n  - narration: Hi.\n    visual: {{kind: image, file: '{p}'}}\n", ".png"),
    "scenes[0].visual.file ": ("scenes:\n  - narration: Hi.\n    visual: {{kind: clip, file: '{p}'}}\n", ".mp4"),
    "scenes[0].visual.image": ("scenes:\n  - narration: Hi.\n    visual: {{kind: slide, image: '{p}'}}\n", ".png"),
    "scenes[0].audio": ("scenes:\n  - narration: Hi.\n    audio: '{p}'\n", ".mp4"),
    "scenes[0].visual.over.file": ("scenes:\n  - narration: Hi.\n    visual: {{kind: avatar, layout: pip, over: "
                                   "{{kind: image, file: '{p}'}}}}\n", ".png"),
    "thumbnail.image": ("thumbnail: {{image: '{p}'}}\nscenes:\n  - narration: Hi.\n", ".png"),
    "music.file": ("music: {{file: '{p}'}}\nscenes:\n  - narration: Hi.\n", ".mp4"),
    "research[0]": ("topic: Toast\nresearch: ['{p}']\n", ".md"),
    "scenes[0].visual.file  ": ("scenes:\n  - narration: Hi.\n    visual: {{kind: manim, file: '{p}', scene: S}}\n",
                                ".py"),
    "script": ("script: '{p}'\n", ".md"),
}


def _ways_out(mini: Path, outside: Path, suffix: str) -> dict[str, str]:
    """The three ways out, as a spec in videos/test/ writes them."""
    target = outside / ("evil.py" if suffix == ".py" else f"secret{suffix}")
    link = mini / "videos/test/media" / f"link{suffix}"
    if not link.exists():
        os.symlink(target, link)
    return {"absolute": str(target), "dotdot": f"../../../outside/{target.name}", "symlink": f"media/link{suffix}"}


@pytest.mark.parametrize("way", ["absolute", "dotdot", "symlink"])
@pytest.mark.parametrize("field", list(VIDEO_FIELDS))
def test_video_paths_must_stay_inside_the_project(mini, outside, field, way):
    spec, suffix = VIDEO_FIELDS[field]
    ref = _ways_out(mini, outside, suffix)[way]
    write(mini / "videos/test/evil.yaml", "format: tiny\n" + spec.format(p=ref))
    project = load_project(mini)
    err = _errors(project, "test/evil")
    assert f"videos/test/evil.yaml:" in err and f": {field.strip()}:" in err, err
    assert INSIDE in err or "absolute path" in err, err
    assert "Copy the file into the project" in err or "copy the file into the project" in err, err
    assert not (outside / "MARKER").exists()
    assert {"test/alpha", "test/beta"} <= set(project.videos)


BRAND_FIELDS = {
    "logo": "logo: '{p}'\n",
    "music.file": "music: {{file: '{p}'}}\n",
    "voices.joe.model": "",  # set in the brand's own voices block below
    "creator_examples[0]": "creator_examples: ['{p}']\n",
    "images.model": "images: {{model: '{p}'}}\n",
    "images.library": "images: {{fallback: media, library: '{p}'}}\n",
    "video_model.model": "video_model: {{model: '{p}'}}\n",
}


@pytest.mark.parametrize("way", ["absolute", "dotdot", "symlink"])
@pytest.mark.parametrize("field", list(BRAND_FIELDS))
def test_brand_paths_must_stay_inside_the_project(mini, outside, field, way):
    (outside / "model").mkdir()
    (outside / "model" / "model_index.json").write_text("{}")
    is_dir = field in ("images.model", "images.library", "video_model.model")
    target = outside / ("model" if is_dir else ("secret.md" if "examples" in field else "secret.png"))
    os.symlink(target, mini / "brands/media/link")
    ref = {"absolute": str(target), "dotdot": f"../../outside/{target.name}", "symlink": "media/link"}[way]
    brand = mini / "brands/test.yaml"
    text = brand.read_text()
    if field == "logo":
        text = text.replace("logo: media/logo.svg\n", "")
    if field.startswith("voices"):
        text = text.replace("joe: {engine: piper,", f"joe: {{engine: piper, model: '{ref}',")
    brand.write_text(text + BRAND_FIELDS[field].format(p=ref))
    write(mini / "videos/test/gen.yaml", "format: tiny\nscenes:\n  - narration: Hi.\n"
                                         "    visual: {kind: genimage, prompt: a lake, animate: true}\n")
    project = load_project(mini)
    err = _errors(project, "test/alpha")
    assert "brands/test.yaml:" in err and f": {field}:" in err, err
    assert INSIDE in err or "absolute path" in err, err
    plan = compile_plan(project)
    assert not any(f.startswith(("/", "..")) for f in _plan_files(plan))


def test_a_symlink_inside_the_project_to_a_file_inside_is_fine(mini):
    os.symlink(mini / "videos/test/media/pic.png", mini / "videos/test/media/alias.png")
    write(mini / "videos/test/ok.yaml", "format: tiny\nscenes:\n  - narration: Hi.\n"
                                        "    visual: {kind: image, file: media/alias.png}\n")
    project = load_project(mini)
    assert "test/ok" in project.videos
    assert compile_plan(project).steps["test/ok/tiny/segment/00"].inputs["visual"].file == "videos/test/media/pic.png"


def test_a_spec_file_symlinked_from_outside_is_not_read(mini, outside):
    (outside / "creds.yaml").write_text("aws_secret_access_key: hunter2\n")
    os.symlink(outside / "creds.yaml", mini / "videos/test/creds.yaml")
    project = load_project(mini)
    err = project.errors["test/creds"].render()
    assert "symlink that leads outside the project" in err and "hunter2" not in err


def test_every_plan_input_is_a_project_relative_path(mini):
    plan = compile_plan(load_project(mini))
    files = _plan_files(plan)
    assert files and all(not Path(f).is_absolute() and not f.startswith("..") for f in files)
    assert str(mini) not in plan.model_dump_json()
