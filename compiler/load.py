"""Load phase: YAML files -> validated Spec objects that know their file:line:col.

A problem in one video never stops the others: `load_project` collects a SpecError per
video (or per brand/recipe file, which then fails every video that needs it). The loaded
project's data types live in project.py, the cross-file checks in checks.py.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from core.errors import Diagnostic, SpecError
from core.spec import Brand, FormatPreset, Recipe, Script, Video
from .checks import check_video
from .project import SCRIPT_SUFFIX, Loaded, LoadedVideo, OutsideProject, Project, SceneOrigin, confine
from .yamlpos import load_yaml, validate

M = TypeVar("M", bound=BaseModel)


def _load_yaml(path: Path, project: Project):
    """A spec file, unless it is a symlink that leads out of the project (its text would be echoed in errors)."""
    try:
        confine(project.root, path)
    except OutsideProject:
        shown = str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path)
        raise SpecError([Diagnostic(shown, 0, 0, "", "this spec file is a symlink that leads outside the project; "
                                                     "copy the file into the project instead", "spec")]) from None
    return load_yaml(path, project.display(path))


def _load_model(model: type[M], path: Path, project: Project) -> Loaded:
    data, pos = _load_yaml(path, project)
    return Loaded(validate(model, data, pos), pos, path)


# -------------------------------------------------------------- project ----

def load_project(root: Path, only: set[str] | None = None) -> Project:
    """Load every brand, recipe and video under `root`. `only` limits which videos are loaded."""
    root = root.resolve()
    project = Project(root=root)
    for path in sorted((root / "brands").glob("*.yaml")):
        try:
            project.brands[path.stem] = _load_model(Brand, path, project)
        except SpecError as exc:
            project.errors[project.display(path)] = exc
    formats_file = root / "recipes" / "formats.yaml"
    if formats_file.exists():
        try:
            data, pos = _load_yaml(formats_file, project)
            if not isinstance(data, dict):
                raise SpecError([pos.diag((), "expected a mapping of format names to presets")])
            for name, body in data.items():
                project.formats[name] = validate(FormatPreset, body, pos, (name,))
        except SpecError as exc:
            project.errors[project.display(formats_file)] = exc
    for path in sorted((root / "recipes").glob("*.yaml")):
        if path.name == "formats.yaml":
            continue
        try:
            project.recipes[path.stem] = _load_model(Recipe, path, project)
        except SpecError as exc:
            project.errors[project.display(path)] = exc
    videos_dir = root / "videos"
    for path in sorted(videos_dir.glob("*/*.yaml")):
        if path.name.endswith(SCRIPT_SUFFIX):
            continue
        vid = f"{path.parent.name}/{path.stem}"
        if only is not None and vid not in only:
            continue
        try:
            project.videos[vid] = load_video(project, path)
        except SpecError as exc:
            project.errors[vid] = exc
    return project


def load_video(project: Project, path: Path) -> LoadedVideo:
    brand_name, slug = path.parent.name, path.stem
    vid = f"{brand_name}/{slug}"
    loaded = _load_model(Video, path, project)
    video: Video = loaded.model
    pos = loaded.pos
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
        raise SpecError([pos.diag((), f"video file name '{slug}' must be lowercase letters, digits and dashes")])
    if brand_name not in project.brands:
        brand_file = f"brands/{brand_name}.yaml"
        known = ", ".join(sorted(project.brands)) or "none"
        broken = brand_file in project.errors
        msg = (f"brand '{brand_name}' has errors in {brand_file}" if broken
               else f"unknown brand '{brand_name}': create {brand_file} (known brands: {known})")
        raise SpecError([pos.diag((), msg)])
    lv = LoadedVideo(vid, brand_name, slug, loaded, None, None)

    script_path = None
    if video.script:
        try:
            script_path = confine(project.root, path.parent / video.script, video.script)
        except OutsideProject as exc:
            raise SpecError([pos.diag(("script",), f"script file {exc}")]) from None
        if not script_path.exists():
            raise SpecError([pos.diag(("script",), f"script file '{video.script}' not found next to the spec")])
    elif (path.parent / f"{slug}{SCRIPT_SUFFIX}").exists():
        script_path = path.parent / f"{slug}{SCRIPT_SUFFIX}"

    if video.scenes is not None:
        if script_path is not None and video.script:
            raise SpecError([pos.diag(("scenes",), "give either inline `scenes:` or `script:`, not both")])
        lv.script = Script(title=video.title, scenes=video.scenes)
        lv.scene_origins = [SceneOrigin(pos, ("scenes", i), path.parent) for i in range(len(video.scenes))]
    elif script_path is not None:
        sdata, spos = _load_yaml(script_path, project)
        lv.script = validate(Script, sdata, spos)
        lv.script_file = script_path
        lv.scene_origins = [SceneOrigin(spos, ("scenes", i), script_path.parent) for i in range(len(lv.script.scenes))]
    elif not video.topic:
        raise SpecError([pos.diag((), "a video needs `scenes:`, a `script:` file, or a `topic:` to generate a script from")])
    check_video(project, lv)
    return lv
