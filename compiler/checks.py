"""Cross-file checks of a loaded video: recipe, formats, voices, templates, media, length budget.

One checker per visual kind (`VISUAL_CHECKS`), matching the compiler's `visual_<kind>` methods, so
every kind the plan can render is checked, and checked the way it will be compiled. A checker
returns diagnostics; `check_video` raises them together as one SpecError.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.errors import Diagnostic, SpecError
from core.spec import Brand, Music, Scene, Video, Voice
from . import catalogue, genvisuals
from .animation_sources import TemplateLoadError, params_model, scene_classes, template_file
from .imagesize import image_problem
from .project import (MEDIA_SUFFIXES, LoadedVideo, OutsideProject, Project, estimate_seconds, formats_of, recipe_of,
                      resolve_media)
from .resolve import DEFAULT_PROMPTS, Resolver
from .yamlpos import Positions, validate


# ------------------------------------------------------------ file checks --

def check_template(project: Project, name: str | None, kind: str, p: Positions, at: tuple) -> list[Diagnostic]:
    if not name:
        return []
    try:
        found = catalogue.template_file(project.root, kind, name).is_file()
    except catalogue.NotInCatalogue as exc:
        return [p.diag(at, str(exc))]
    if not found:
        known = ", ".join(catalogue.html_templates(project.root, kind))
        return [p.diag(at, f"unknown {kind} template '{name}' ({catalogue.TEMPLATE_DIRS[kind]}: {known})")]
    return []


def check_path(project: Project, ref: str | None, p: Positions, at: tuple, base: Path) -> list[Diagnostic]:
    """A path field stays inside the project (see project.confine); existence is checked by the callers
    that know what the file is for."""
    if not ref:
        return []
    try:
        resolve_media(base, ref, project)
    except OutsideProject as exc:
        return [p.diag(at, str(exc), category="media")]
    return []


def check_media(project: Project, ref: str | None, kinds: str, p: Positions, at: tuple, base: Path) -> list[Diagnostic]:
    diags = check_file(project, ref, p, at, base, "media")
    if diags or not ref:
        return diags
    f = resolve_media(base, ref, project)
    if f.suffix.lower() not in MEDIA_SUFFIXES[kinds]:
        return [p.diag(at, f"'{ref}' is not a supported {kinds} file ({', '.join(sorted(MEDIA_SUFFIXES[kinds]))})",
                       category="media")]
    try:
        with open(f, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        return [p.diag(at, f"media file '{ref}' is unreadable: {exc.strerror}", category="media")]
    return check_pixels(f, ref, p, at) if kinds == "image" else []


def check_pixels(f: Path, ref: str, p: Positions, at: tuple) -> list[Diagnostic]:
    """An image input must be a real picture of at most imagesize.MAX_PIXELS (header read only)."""
    if f.suffix.lower() == ".svg":  # vector: drawn at the size the template gives it
        return []
    problem = image_problem(f)
    return [p.diag(at, f"'{ref}': {problem}", category="media")] if problem else []


def check_text(project: Project, ref: str, p: Positions, at: tuple, base: Path, what: str) -> list[Diagnostic]:
    diags = check_file(project, ref, p, at, base, what)
    if diags:
        return diags
    try:
        resolve_media(base, ref, project).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [p.diag(at, f"{what} file '{ref}' is not UTF-8 text (give text or markdown)", category="media")]
    except OSError as exc:
        return [p.diag(at, f"{what} file '{ref}' is unreadable: {exc.strerror}", category="media")]
    return []


def check_video_model(project: Project, brand_name: str, brand: Brand, p: Positions, at: tuple) -> list[Diagnostic]:
    """A configured video model must exist; an absent one only means Ken Burns motion (a plan warning)."""
    if brand.video_model is None:
        return []
    try:
        problem = genvisuals.model_problem(project.root, genvisuals.model_dir(project.root, brand.video_model.model))
    except OutsideProject as exc:
        problem = str(exc)
    if problem:
        return [p.diag(at, f"brand '{brand_name}' video_model is unusable: {problem} (see {genvisuals.DOCS})",
                       category="model")]
    return []


def check_brand_paths(project: Project, brand: Brand, p: Positions) -> list[Diagnostic]:
    """Every path a brand names (all relative to brands/) stays inside the project; files that every
    video of the brand uses (logo, voice models) must exist. Music, creator examples and model folders
    are checked where they are used."""
    brands = project.root / "brands"
    diags = check_file(project, brand.logo, p, ("logo",), brands, "logo")
    for name, voice in brand.voices.items():
        diags += check_file(project, voice.model, p, ("voices", name, "model"), brands, "voice model")
    if brand.images is not None:
        diags += check_path(project, brand.images.model, p, ("images", "model"), brands)
        diags += check_path(project, brand.images.library, p, ("images", "library"), brands)
    if brand.video_model is not None:
        diags += check_path(project, brand.video_model.model, p, ("video_model", "model"), brands)
    return diags


def check_file(project: Project, ref: str | None, p: Positions, at: tuple, base: Path, what: str) -> list[Diagnostic]:
    if not ref:
        return []
    try:
        f = resolve_media(base, ref, project)
    except OutsideProject as exc:
        return [p.diag(at, f"{what} file {exc}", category="media")]
    if not f.is_file():
        return [p.diag(at, f"{what} file '{ref}' not found (paths are relative to {project.display(base)}/)",
                       category="media")]
    return []


# ---------------------------------------------------------- visual checks --

@dataclass
class SceneCheck:
    """One scene being checked: where it is written and the settings that apply to it."""

    project: Project
    lv: LoadedVideo
    brand: Brand
    scene: Scene
    voice: Voice
    pos: Positions
    pre: tuple  # the scene's path in its file, e.g. ("scenes", 3)
    base: Path  # folder that the scene's media paths are relative to

    def template(self, name: str | None, at: tuple) -> list[Diagnostic]:
        return check_template(self.project, name, "slide", self.pos, at)

    def media(self, ref: str | None, kinds: str, at: tuple) -> list[Diagnostic]:
        return check_media(self.project, ref, kinds, self.pos, at, self.base)

    def video_model(self, at: tuple) -> list[Diagnostic]:
        return check_video_model(self.project, self.lv.brand, self.brand, self.pos, at)


Checker = Callable[[SceneCheck, Any, tuple], list[Diagnostic]]


def check_slide(c: SceneCheck, vis, at: tuple) -> list[Diagnostic]:
    return c.template(vis.template, at + ("template",)) + c.media(vis.image, "image", at + ("image",))


def check_image(c: SceneCheck, vis, at: tuple) -> list[Diagnostic]:
    diags = c.media(vis.file, "image", at + ("file",))
    return diags + (c.video_model(at + ("animate",)) if vis.animate else [])


def check_clip(c: SceneCheck, vis, at: tuple) -> list[Diagnostic]:
    return c.media(vis.file, "clip", at + ("file",))


def check_genimage(c: SceneCheck, vis, at: tuple) -> list[Diagnostic]:
    """The brand's image model, or its declared fallback, must be usable (see genvisuals.image_source)."""
    try:
        src = genvisuals.image_source(c.project.root, c.lv.brand, c.brand)
    except genvisuals.Unavailable as exc:
        return [c.pos.diag(at, str(exc), category="model")]
    diags: list[Diagnostic] = []
    if src.mode == "media":  # the library still the plan will pick, measured like any other image input
        images = c.brand.images
        still = genvisuals.pick_still(genvisuals.library_stills(c.project.root, images), vis.prompt, vis.seed)
        diags += check_pixels(still, c.project.display(still), c.pos, at + ("prompt",))
    return diags + (c.video_model(at + ("animate",)) if vis.animate and src.mode != "slide" else [])


def check_avatar(c: SceneCheck, vis, at: tuple) -> list[Diagnostic]:
    """A HeyGen presenter: the brand needs one, a scene fits in one HeyGen video, and the picture
    under a picture-in-picture presenter is checked by its own kind's checker."""
    diags: list[Diagnostic] = []
    av, name = c.brand.avatar, c.lv.brand
    if av is None:
        diags.append(c.pos.diag(at + ("kind",), (
            f"brand '{name}' has no avatar; add `avatar:` with a HeyGen avatar_id (and voice_id) to "
            f"brands/{name}.yaml (see {genvisuals.DOCS})"), category="avatar"))
    else:
        secs = genvisuals.avatar_seconds(c.scene, c.brand, c.voice)
        if secs > av.max_duration_s:
            diags.append(c.pos.diag(c.pre + ("narration",), (
                f"an avatar scene is one HeyGen video, limited to {av.max_duration_s:g} s (avatar.max_duration_s); "
                f"this narration is about {secs:.0f} s: split it into several scenes"), category="avatar"))
    if vis.over is not None:
        diags += VISUAL_CHECKS[vis.over.kind](c, vis.over, at + ("over",))
    return diags


def check_manim(c: SceneCheck, vis, at: tuple) -> list[Diagnostic]:
    """Template name and params against the template's own `Params` model (a typo is a
    file:line:col error), or a user scene file inside the project and its class."""
    root = c.project.root
    if vis.template:
        try:
            path = template_file(root, vis.template)
        except catalogue.NotInCatalogue as exc:
            return [c.pos.diag(at + ("template",), str(exc))]
        if not path.is_file():
            known = ", ".join(catalogue.manim_templates(root)) or "none"
            return [c.pos.diag(at + ("template",), f"unknown manim template '{vis.template}' "
                                                   f"({catalogue.MANIM_DIR}: {known})")]
        try:
            model = params_model(path)
        except TemplateLoadError as exc:
            return [c.pos.diag(at + ("template",), f"manim template {catalogue.MANIM_DIR}/{path.name} "
                                                   f"cannot be loaded: {exc}")]
        try:
            validate(model, vis.params, c.pos, at + ("params",))
        except SpecError as exc:
            for d in exc.diagnostics:
                if d.message.startswith("unknown field") and d.path.rsplit(".", 1)[0].endswith(".params"):
                    names = ", ".join(f.alias or n for n, f in model.model_fields.items())
                    d.message = f"unknown field (template {vis.template} takes: {names})"
                else:
                    d.message = f"{d.message} (template {vis.template})"
            return exc.diagnostics
        return []
    try:
        f = resolve_media(c.base, vis.file, c.project)
    except OutsideProject as exc:
        return [c.pos.diag(at + ("file",), f"manim scene file {exc}", category="media")]
    if not f.is_file() or f.suffix != ".py":
        what = "not found (paths are relative to the spec's folder)" if not f.is_file() else "is not a .py file"
        return [c.pos.diag(at + ("file",), f"manim scene file '{vis.file}' {what}", category="media")]
    try:
        classes = scene_classes(f)
    except TemplateLoadError as exc:
        return [c.pos.diag(at + ("file",), f"manim scene file '{vis.file}': {exc}")]
    if vis.scene not in classes:
        return [c.pos.diag(at + ("scene",), f"no class '{vis.scene}' in {vis.file} "
                                            f"(classes: {', '.join(classes) or 'none'})")]
    return []


def check_remotion(c: SceneCheck, vis, at: tuple) -> list[Diagnostic]:
    known = catalogue.remotion_compositions(c.project.root)
    if vis.composition not in known:
        where = f"{catalogue.REMOTION_DIR}/src/Root.tsx: {', '.join(known) or 'none'}"
        return [c.pos.diag(at + ("composition",), f"unknown Remotion composition '{vis.composition}' ({where})")]
    return []


# keyed by visual kind, like the compiler's `visual_<kind>` methods (a test keeps the two in step)
VISUAL_CHECKS: dict[str, Checker] = {
    "slide": check_slide, "image": check_image, "clip": check_clip, "genimage": check_genimage,
    "avatar": check_avatar, "manim": check_manim, "remotion": check_remotion,
}


# ------------------------------------------------------------- the video --

def check_variant(project: Project, lv: LoadedVideo, res: Resolver) -> list[Diagnostic]:
    """The video's `variant:` names declared arms, and each assigned arm's value is usable (a known voice, an
    existing template): reported where the arm is declared (the recipe's `variants:` or the brand's)."""
    diags: list[Diagnostic] = []
    video, pos, brand = lv.spec.model, lv.spec.pos, res.brand
    _, recipe = recipe_of(project, lv)
    offered = res.variants()
    for dim, name in video.variant.items():
        arms = offered.get(dim, [])
        if not arms:
            diags.append(pos.diag(("variant", dim), f"variant dimension '{dim}' is not declared: add "
                                                    f"`variants: {{{dim}: [...]}}` to the brand or recipe, or "
                                                    f"remove it here"))
            continue
        names = [a.name for a in arms]
        if name not in names:
            diags.append(pos.diag(("variant", dim), f"unknown {dim} arm '{name}' (declared: {', '.join(names)})"))
            continue
        i = names.index(name)
        from_recipe = recipe is not None and dim in recipe.model.variants
        where = recipe.pos if from_recipe else project.brands[lv.brand].pos
        at = ("variants", dim, i, "value")
        value = arms[i].value
        if dim == "voice" and value not in brand.voices:
            diags.append(where.diag(at, f"unknown voice '{value}' (brand voices: {', '.join(sorted(brand.voices))})"))
        elif dim == "template":
            diags += check_template(project, value, "slide", where, at)
        elif dim == "thumbnail_template":
            diags += check_template(project, value, "thumbnail", where, at)
        elif dim == "prompt_template" and value != DEFAULT_PROMPTS:
            try:
                found = catalogue.prompt_variant_files(project.root, value)
            except catalogue.NotInCatalogue as exc:
                diags.append(where.diag(at, str(exc)))
                continue
            if not found:
                names = ", ".join(f"{n}.md.j2" for n in catalogue.prompt_names())
                diags.append(where.diag(at, f"{catalogue.PROMPT_DIR}/{value}/ holds none of the prompt templates "
                                            f"({names}); put the ones this arm changes there"))
    return diags


def check_video(project: Project, lv: LoadedVideo) -> None:
    """Cross-file checks: recipe, formats, voices, templates, media files, length budget."""
    video: Video = lv.spec.model
    brand: Brand = project.brands[lv.brand].model
    brand_pos = project.brands[lv.brand].pos
    res = Resolver(project, lv)
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

    if video.voice and video.voice not in brand.voices:
        diags.append(pos.diag(("voice",), f"unknown voice '{video.voice}' (brand voices: {voices})"))
    diags += check_variant(project, lv, res)
    diags += check_brand_paths(project, brand, brand_pos)
    diags += check_template(project, video.template, "slide", pos, ("template",))
    diags += check_template(project, video.thumbnail.template, "thumbnail", pos, ("thumbnail", "template"))
    diags += check_media(project, video.thumbnail.image, "image", pos, ("thumbnail", "image"), lv.spec.file.parent)
    if isinstance(video.music, Music):
        diags += check_media(project, video.music.file, "audio", pos, ("music", "file"), lv.spec.file.parent)
    if brand.music and video.music is None:
        diags += check_media(project, brand.music.file, "audio", brand_pos, ("music", "file"), project.root / "brands")
    try:  # a logo outside the project is reported by check_brand_paths and never opened
        logo = resolve_media(project.root / "brands", brand.logo, project) if brand.logo else None
    except OutsideProject:
        logo = None
    if logo is not None and logo.is_file():
        diags += check_pixels(logo, brand.logo, brand_pos, ("logo",))
    if video.title and (len(video.title) > 100 or re.search(r"[<>]", video.title)):
        diags.append(pos.diag(("title",), "YouTube titles are at most 100 characters and cannot contain < or >"))
    for i, ref in enumerate(video.research):
        diags += check_text(project, ref, pos, ("research", i), lv.spec.file.parent, "research")
    for i, ref in enumerate(brand.creator_examples):
        diags += check_text(project, ref, brand_pos, ("creator_examples", i), project.root / "brands",
                            "creator example")

    if lv.script is not None:
        total = 0.0
        for i, scene in enumerate(lv.script.scenes):
            o = lv.scene_origins[i]
            p, pre = o.pos, o.prefix
            vname, layer = res.setting("voice", scene)
            if vname and vname not in brand.voices:
                at = pre + ("voice",) if layer == "scene" else (("voice",) if layer == "video" else pre)
                diags.append(p.diag(at, f"unknown voice '{vname}' (brand voices: {voices})"))
            voice = res.voice(scene)
            diags += check_template(project, scene.template, "slide", p, pre + ("template",))
            c = SceneCheck(project, lv, brand, scene, voice, p, pre, o.base)
            diags += VISUAL_CHECKS[scene.visual.kind](c, scene.visual, pre + ("visual",))
            if scene.audio or voice.engine == "recorded":
                if not scene.audio:
                    diags.append(p.diag(pre, f"voice '{vname}' uses recorded audio: give this scene an `audio:` file"))
                diags += check_media(project, scene.audio, "audio", p, pre + ("audio",), o.base)
            total += estimate_seconds(scene.narration, voice.words_per_minute, voice.rate)
        avatar = all(sc.visual.kind == "avatar" for sc in lv.script.scenes)  # an avatar-presented video
        for lim in res.limits(fmt_names, avatar):
            if total > lim.seconds:
                first = lv.scene_origins[0]
                diags.append(first.pos.diag(("scenes",), (
                    f"narration is too long for {lim.label}: about {math.ceil(total)} s of speech, limit "
                    f"{lim.seconds:g} s (shorten the narration, split the video, or choose a longer format)")))
    if diags:
        raise SpecError(diags)
