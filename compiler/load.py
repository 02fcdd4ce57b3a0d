"""Load phase: YAML files -> validated Spec objects that know their file:line:col.

A problem in one video never stops the others: `load_project` collects a SpecError per
video (or per brand/recipe file, which then fails every video that needs it).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .animation_sources import check_visual
from core.errors import Diagnostic, SpecError
from core.spec import Brand, FormatPreset, Recipe, Script, Video
from .yamlpos import Positions, load_yaml

M = TypeVar("M", bound=BaseModel)

SCRIPT_SUFFIX = ".script.yaml"
MEDIA_SUFFIXES = {
    "image": {".png", ".jpg", ".jpeg", ".webp", ".bmp"},
    "clip": {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"},
    "audio": {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus"},
}
TEMPLATE_DIRS = {"slide": "recipes/templates/slide", "thumbnail": "recipes/templates/thumbnail"}
AVATAR_MAX_S = 300.0  # avatar presenters (HeyGen) render at most five minutes per video


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

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


# ----------------------------------------------------------- validation ----

def _data_path(data: Any, loc: tuple) -> tuple:
    """Map a pydantic error location onto the data path, dropping union tags."""
    out: list = []
    cur = data
    items = list(loc)
    i = 0
    while i < len(items):
        part = items[i]
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and i + 1 < len(items) and items[i + 1] in cur:
            pass  # discriminator tag such as 'slide' in ('visual', 'slide', 'title')
        elif isinstance(cur, dict) and part == cur.get("kind"):
            pass  # the tag itself, for a model-level error such as ('visual', 'manim')
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            pass  # pydantic's union member names
        else:
            out.append(part)
            cur = None
        i += 1
    return tuple(out)


def _message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see the JSON Schema in schemas/)"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown kind {ctx.get('tag')!r} (expected one of: {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return "missing 'kind' (e.g. kind: slide)"
    msg = err["msg"]
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else msg


def validate(model: type[M], data: Any, pos: Positions, prefix: tuple = ()) -> M:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([pos.diag(prefix, f"expected a mapping of fields, got {type(data).__name__}")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        diags = []
        for err in exc.errors():
            path = _data_path(data, tuple(err["loc"]))
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                path = path + ("kind",)
            missing = err["type"] == "missing"
            extra = err["type"] == "extra_forbidden"
            diags.append(pos.diag(prefix + (path[:-1] if missing else path), _message(err), prefer_key=extra))
            if missing:
                diags[-1].path = pos.diag(prefix + path, "").path
        raise SpecError(diags) from None


def _load_model(model: type[M], path: Path, project: Project) -> Loaded:
    data, pos = load_yaml(path, project.display(path))
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
            data, pos = load_yaml(formats_file, project.display(formats_file))
            for name, body in (data or {}).items():
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
        script_path = (path.parent / video.script)
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
        sdata, spos = load_yaml(script_path, project.display(script_path))
        lv.script = validate(Script, sdata, spos)
        lv.script_file = script_path
        lv.scene_origins = [SceneOrigin(spos, ("scenes", i), script_path.parent) for i in range(len(lv.script.scenes))]
    elif not video.topic:
        raise SpecError([pos.diag((), "a video needs `scenes:`, a `script:` file, or a `topic:` to generate a script from")])
    check_video(project, lv)
    return lv


# ------------------------------------------------------ semantic checks ----

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


def resolve_media(base: Path, ref: str, project: Project) -> Path:
    p = Path(ref)
    if p.is_absolute():
        return p
    cand = (base / p)
    if cand.exists():
        return cand
    return (project.root / p) if (project.root / p).exists() else cand


def estimate_seconds(text: str, words_per_minute: float, rate: float) -> float:
    words = len(re.findall(r"\w+", text))
    return words / (words_per_minute * rate) * 60.0


def check_video(project: Project, lv: LoadedVideo) -> None:
    """Cross-file checks: recipe, formats, voices, templates, media files, length budget."""
    video: Video = lv.spec.model
    brand: Brand = project.brands[lv.brand].model
    pos = lv.spec.pos
    diags: list[Diagnostic] = []
    recipe_name, recipe = recipe_of(project, lv)
    if recipe is None:
        where = ("recipe",) if video.recipe else ()
        known = ", ".join(sorted(project.recipes)) or "none"
        diags.append(pos.diag(where, f"unknown recipe '{recipe_name}' (recipes: {known})", prefer_key=False))
    fmt_names = formats_of(project, lv)
    for i, f in enumerate(fmt_names):
        if f not in project.formats:
            known = ", ".join(sorted(project.formats)) or "none"
            at = ("format", i) if isinstance(video.format, list) else ("format",)
            diags.append(pos.diag(at, f"unknown format '{f}' (formats in recipes/formats.yaml: {known})"))
    voices = ", ".join(sorted(brand.voices))

    def check_template(name: str | None, kind: str, p: Positions, at: tuple) -> None:
        if name and not (project.root / TEMPLATE_DIRS[kind] / f"{name}.html.j2").exists():
            known = ", ".join(sorted(t.name[:-len(".html.j2")] for t in (project.root / TEMPLATE_DIRS[kind]).glob("*.html.j2")))
            diags.append(p.diag(at, f"unknown {kind} template '{name}' ({TEMPLATE_DIRS[kind]}: {known})"))

    def check_media(ref: str | None, kinds: str, p: Positions, at: tuple, base: Path) -> None:
        if not ref:
            return
        f = resolve_media(base, ref, project)
        if not f.is_file():
            diags.append(p.diag(at, f"media file '{ref}' not found (paths are relative to the spec's folder)", category="media"))
            return
        if f.suffix.lower() not in MEDIA_SUFFIXES[kinds]:
            diags.append(p.diag(at, f"'{ref}' is not a supported {kinds} file ({', '.join(sorted(MEDIA_SUFFIXES[kinds]))})", category="media"))
            return
        try:
            with open(f, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            diags.append(p.diag(at, f"media file '{ref}' is unreadable: {exc.strerror}", category="media"))

    if video.voice and video.voice not in brand.voices:
        diags.append(pos.diag(("voice",), f"unknown voice '{video.voice}' (brand voices: {voices})"))
    check_template(video.template, "slide", pos, ("template",))
    check_template(video.thumbnail.template, "thumbnail", pos, ("thumbnail", "template"))
    check_media(video.thumbnail.image, "image", pos, ("thumbnail", "image"), lv.spec.file.parent)
    if isinstance(video.music, type(brand.music)) and video.music:
        check_media(video.music.file, "audio", pos, ("music", "file"), lv.spec.file.parent)
    if brand.music and video.music is None:
        check_media(brand.music.file, "audio", project.brands[lv.brand].pos, ("music", "file"), project.root / "brands")
    if video.title and (len(video.title) > 100 or re.search(r"[<>]", video.title)):
        diags.append(pos.diag(("title",), "YouTube titles are at most 100 characters and cannot contain < or >"))

    def check_text(ref: str, p: Positions, at: tuple, base: Path, what: str) -> None:
        f = resolve_media(base, ref, project)
        if not f.is_file():
            diags.append(p.diag(at, f"{what} file '{ref}' not found (paths are relative to {project.display(base)}/)",
                                category="media"))
            return
        try:
            f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            diags.append(p.diag(at, f"{what} file '{ref}' is not UTF-8 text (give text or markdown)", category="media"))
        except OSError as exc:
            diags.append(p.diag(at, f"{what} file '{ref}' is unreadable: {exc.strerror}", category="media"))

    for i, ref in enumerate(video.research):
        check_text(ref, pos, ("research", i), lv.spec.file.parent, "research")
    for i, ref in enumerate(brand.creator_examples):
        check_text(ref, project.brands[lv.brand].pos, ("creator_examples", i), project.root / "brands", "creator example")

    if lv.script is not None:
        total = 0.0
        for i, scene in enumerate(lv.script.scenes):
            o = lv.scene_origins[i]
            p, pre = o.pos, o.prefix
            vname = scene.voice or video.voice or (recipe.model.defaults.voice if recipe else None) or brand.defaults.voice
            if vname and vname not in brand.voices:
                at = pre + ("voice",) if scene.voice else (("voice",) if video.voice else pre)
                diags.append(p.diag(at, f"unknown voice '{vname}' (brand voices: {voices})"))
                voice = next(iter(brand.voices.values()))
            else:
                voice = brand.voices[vname] if vname else next(iter(brand.voices.values()))
            check_template(scene.template, "slide", p, pre + ("template",))
            vis = scene.visual
            if vis.kind == "slide":
                check_template(vis.template, "slide", p, pre + ("visual", "template"))
                check_media(vis.image, "image", p, pre + ("visual", "image"), o.base)
            elif vis.kind == "image":
                check_media(vis.file, "image", p, pre + ("visual", "file"), o.base)
            elif vis.kind == "clip":
                check_media(vis.file, "clip", p, pre + ("visual", "file"), o.base)
            elif vis.kind in ("manim", "remotion"):
                diags += check_visual(project, vis, p, pre + ("visual",), o.base)
            if vis.kind in ("genimage", "avatar", "image"):
                from .genvisuals import check_generated  # generated visuals: models, fallbacks, HeyGen limits

                diags += check_generated(project, lv.brand, brand, scene, voice, p, pre)
                over, at = getattr(vis, "over", None), pre + ("visual", "over")
                if over is not None and over.kind == "slide":
                    check_template(over.template, "slide", p, at + ("template",))
                    check_media(over.image, "image", p, at + ("image",), o.base)
                elif over is not None and over.kind in ("image", "clip"):
                    check_media(over.file, over.kind, p, at + ("file",), o.base)
                elif over is not None and over.kind in ("manim", "remotion"):
                    diags += check_visual(project, over, p, at, o.base)
            if scene.audio or voice.engine == "recorded":
                if not scene.audio:
                    diags.append(p.diag(pre, f"voice '{vname}' uses recorded audio: give this scene an `audio:` file"))
                check_media(scene.audio, "audio", p, pre + ("audio",), o.base)
            total += estimate_seconds(scene.narration, voice.words_per_minute, voice.rate)
        limits = [(project.formats[f].max_duration_s, f"format '{f}'") for f in fmt_names if f in project.formats]
        if brand.quality.max_duration_s:
            limits.append((brand.quality.max_duration_s, f"brand '{lv.brand}' quality.max_duration_s"))
        if all(sc.visual.kind == "avatar" for sc in lv.script.scenes):  # an avatar-presented video
            limits.append((AVATAR_MAX_S, "avatar videos"))
        for limit, what in limits:
            if total > limit:
                first = lv.scene_origins[0]
                diags.append(first.pos.diag(("scenes",), (
                    f"narration is too long for {what}: about {math.ceil(total)} s of speech, limit {limit:g} s "
                    "(shorten the narration, split the video, or choose a longer format)")))
    if diags:
        raise SpecError(diags)
