"""A loaded project as data: brands, recipes, formats and videos, each knowing its file:line:col.

`load.py` fills it in; checks, the resolver and both compile stages read it. Nothing here reads
YAML, so every module of the compiler can import it without importing the loader.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from core.errors import SpecError
from core.spec import FormatPreset, Script, Video
from .yamlpos import Positions

SCRIPT_SUFFIX = ".script.yaml"
MEDIA_SUFFIXES = {
    "image": {".png", ".jpg", ".jpeg", ".webp", ".bmp"},
    "clip": {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"},
    "audio": {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus"},
}


@dataclass
class Loaded:
    """A validated model plus where it came from."""

    model: Any
    pos: Positions
    file: Path  # absolute

    @property
    def display(self) -> str:
        return self.pos.file


@dataclass
class SceneOrigin:
    pos: Positions
    prefix: tuple  # path of the scene inside its file, e.g. ("scenes", 3)
    base: Path  # directory that relative media paths are resolved against


@dataclass
class LoadedVideo:
    id: str  # "<brand>/<slug>"
    brand: str
    slug: str
    spec: Loaded
    script: Script | None  # None: needs generation (topic-only video without a lock)
    script_file: Path | None
    scene_origins: list[SceneOrigin] = field(default_factory=list)


@dataclass
class Project:
    root: Path
    brands: dict[str, Loaded] = field(default_factory=dict)
    recipes: dict[str, Loaded] = field(default_factory=dict)
    formats: dict[str, FormatPreset] = field(default_factory=dict)
    videos: dict[str, LoadedVideo] = field(default_factory=dict)
    errors: dict[str, SpecError] = field(default_factory=dict)  # video id or file -> error

    @cached_property
    def real_root(self) -> Path:
        return self.root.resolve()

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.real_root))
        except ValueError:
            return str(path)


# ------------------------------------------------------------- lookups ----

def recipe_of(project: Project, lv: LoadedVideo) -> tuple[str, Loaded | None]:
    brand = project.brands[lv.brand].model
    name = lv.spec.model.recipe or brand.recipe
    return name, project.recipes.get(name)


def formats_of(project: Project, lv: LoadedVideo) -> list[str]:
    video: Video = lv.spec.model
    if video.format is not None:
        return [video.format] if isinstance(video.format, str) else list(video.format)
    _, recipe = recipe_of(project, lv)
    return list(recipe.model.formats) if recipe else ["long"]


class OutsideProject(ValueError):
    """A path from a spec that leads out of the project: absolute, through `..`, or through a symlink.
    Checks report it at the field's file:line:col; the compiler never hands such a path to a step."""


def confine(root: Path, path: Path, ref: str | None = None) -> Path:
    """`path` with every symlink resolved, if it stays inside the project `root`; else OutsideProject.

    A spec is untrusted input (often written by someone else, or by an LLM): it may name files in
    the project, never elsewhere on the machine (~/.ssh, /etc/passwd, a symlink to either). Every
    path field of a spec goes through here, via `resolve_media` or `project_path`."""
    shown = ref if ref is not None else str(path)
    try:
        real = path.resolve(strict=False)
        real.relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):  # outside, or a symlink loop
        lexical = Path(os.path.normpath(path.absolute()))
        how = ("it is, or goes through, a symlink that points out of it" if lexical.is_relative_to(root.absolute())
               else "it leads out of it")
        raise OutsideProject(f"'{shown}' must be inside the project ({root.name}/), but {how}. Copy the file into "
                             "the project, e.g. next to the spec, and give its relative path") from None
    return real


def resolve_media(base: Path, ref: str, project: Project) -> Path:
    """A spec's path: relative to `base` (the spec's folder, or brands/ for brand settings), else to the
    project root; symlinks resolved and confined to the project (OutsideProject otherwise)."""
    p = Path(ref)
    if p.is_absolute() or p.drive:
        raise OutsideProject(f"'{ref}' is an absolute path: give a path relative to the spec's folder, inside the "
                             "project (copy the file into the project if it lives elsewhere)")
    cand = base / p
    if not cand.exists() and (project.root / p).exists():
        cand = project.root / p
    return confine(project.root, cand, ref)


def estimate_seconds(text: str, words_per_minute: float, rate: float) -> float:
    words = len(re.findall(r"\w+", text))
    return words / (words_per_minute * rate) * 60.0


# ------------------------------------------------------- script locks ----

def lock_path(lv: LoadedVideo) -> Path:
    return lv.spec.file.parent / f"{lv.slug}{SCRIPT_SUFFIX}"


def is_topic_video(lv: LoadedVideo) -> bool:
    """A video whose script is generated: a topic, and neither inline scenes nor an explicit script file."""
    v = lv.spec.model
    return bool(v.topic) and v.scenes is None and not v.script


def needs_script(lv: LoadedVideo) -> str | None:
    """Why this video's script must be (re)generated now, or None."""
    if not is_topic_video(lv):
        return None
    if lv.script is None:
        return "no script lock yet"
    gen = lv.script.generated
    salt = lv.spec.model.salt
    if gen is not None and gen.salt != salt:
        return f"salt changed from {gen.salt!r} to {salt!r}, so the script is re-rolled"
    return None
