"""Compile phase: Spec -> Plan. Pure: no rendering, no network; the Plan is JSON and printable.

A Step names its renderer kind and version, its resolved params (defaults already layered
brand -> recipe -> video -> scene), and its inputs: outputs of other steps or source files.
Keys are computed at execution time from the *digests* of those inputs (see execute.py).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

import renderers

from .errors import SpecError
from .load import LoadedVideo, Project, formats_of, recipe_of, resolve_media
from .spec import Brand, Scene, Video, Voice
from .timeline import LEAD_S

BUILTIN = {"template": "default", "pad": 0.6, "transition": "cut", "image_motion": "zoom_in"}


class Ref(BaseModel):
    """An input: one output of another step, or a file in the repository."""

    step: str | None = None
    output: str | None = None
    file: str | None = None  # path relative to the repo root


class Step(BaseModel):
    id: str
    video: str
    kind: str
    version: int
    params: dict[str, Any]
    inputs: dict[str, Ref | list[Ref]] = Field(default_factory=dict)
    salt: str = ""
    outputs: list[str]

    def deps(self) -> list[str]:
        out = []
        for v in self.inputs.values():
            for r in (v if isinstance(v, list) else [v]):
                if r.step and r.step not in out:
                    out.append(r.step)
        return out


class FormatOutputs(BaseModel):
    format: str
    dir: str  # build/<brand>/<slug>[/<format>]
    files: dict[str, Ref]
    scenes: list[str]  # segment step ids, in order
    timeline: str


class VideoPlan(BaseModel):
    id: str
    spec: str
    steps: list[str]
    formats: list[FormatOutputs]


class Plan(BaseModel):
    steps: dict[str, Step] = Field(default_factory=dict)
    videos: dict[str, VideoPlan] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)  # video id or file -> rendered diagnostics
    pending: dict[str, str] = Field(default_factory=dict)  # video id -> why it cannot compile yet

    def add(self, step: Step) -> str:
        existing = self.steps.get(step.id)
        if existing is not None and existing != step:
            raise ValueError(f"two different steps share the id {step.id}")
        self.steps[step.id] = step
        return step.id

    def closure(self, ids: list[str]) -> list[str]:
        """`ids` plus everything they depend on, in dependency order."""
        seen: dict[str, None] = {}

        def visit(i: str) -> None:
            if i in seen:
                return
            for d in self.steps[i].deps():
                visit(d)
            seen[i] = None

        for i in ids:
            visit(i)
        return list(seen)


def make_step(plan: Plan, id: str, video: str, kind: str, params: dict, inputs: dict | None = None, salt: str = "") -> str:
    cls = renderers.get(kind)
    resolved = cls.Params(**params).model_dump(mode="json")
    inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
    missing = [n for n in cls.inputs if n not in inputs]
    if missing:
        raise ValueError(f"{id}: renderer {kind} needs inputs {missing}")
    return plan.add(Step(id=id, video=video, kind=kind, version=cls.version, params=resolved, inputs=inputs,
                         salt=salt, outputs=list(cls.outputs)))


def out(step: str, name: str) -> Ref:
    return Ref(step=step, output=name)


def seed_of(salt: str) -> int:
    return int(hashlib.sha256(salt.encode()).hexdigest()[:8], 16) % 100_000 if salt else 0


class Compiler:
    """Compiles one video; holds the layered defaults for it."""

    def __init__(self, project: Project, lv: LoadedVideo, plan: Plan):
        self.project, self.lv, self.plan = project, lv, plan
        self.brand: Brand = project.brands[lv.brand].model
        self.video: Video = lv.spec.model
        _, recipe = recipe_of(project, lv)
        self.recipe = recipe.model if recipe else None

    def file(self, path: Path) -> Ref:
        return Ref(file=self.project.display(path))

    def media(self, ref: str | None, base: Path) -> Ref | None:
        return self.file(resolve_media(base, ref, self.project)) if ref else None

    def style(self, name: str, scene: Scene | None = None) -> Any:
        layers = [scene, self.video, self.recipe.defaults if self.recipe else None, self.brand.defaults]
        for layer in layers:
            value = getattr(layer, name, None) if layer is not None else None
            if value is not None:
                return value
        return BUILTIN.get(name)

    def voice(self, scene: Scene) -> Voice:
        name = self.style("voice", scene)
        return self.brand.voices[name] if name else next(iter(self.brand.voices.values()))

    def template(self, kind: str, name: str) -> Ref:
        return Ref(file=f"recipes/templates/{kind}/{name}.html.j2")

    def compile(self) -> VideoPlan:
        lv, video, brand, plan = self.lv, self.video, self.brand, self.plan
        script = lv.script
        assert script is not None
        vid = lv.id
        before = set(plan.steps)
        salt = video.salt
        narrations = []
        for i, scene in enumerate(script.scenes):
            narrations.append(self.narration(i, scene))
        logo = self.media(brand.logo, self.project.root / "brands")
        title = video.title or script.title or (video.topic or lv.slug.replace("-", " ").title())
        formats = []
        for fi, fmt_name in enumerate(formats_of(self.project, lv)):
            fmt = self.project.formats[fmt_name]
            prefix = f"{vid}/{fmt_name}"
            segments = []
            for i, scene in enumerate(script.scenes):
                segments.append(self.segment(prefix, i, scene, narrations[i], fmt, logo))
            pads = [float(self.style("pad", sc)) for sc in script.scenes]
            limit, source = fmt.max_duration_s, f"format '{fmt_name}' (recipes/formats.yaml)"
            if brand.quality.max_duration_s and brand.quality.max_duration_s < limit:
                limit, source = brand.quality.max_duration_s, f"brand '{lv.brand}' (quality.max_duration_s)"
            timeline = make_step(plan, f"{prefix}/timeline", vid, "timeline.compose", {
                "fps": fmt.fps, "width": fmt.width, "height": fmt.height, "lead": LEAD_S, "pads": pads,
                "titles": [sc.visual.title or None if sc.visual.kind == "slide" else None for sc in script.scenes],
                "chapters": [sc.chapter for sc in script.scenes], "max_duration_s": limit,
                "limit_source": f"{source}; spec {lv.spec.display}"},
                {"timings": [out(n, "timings.json") for n in narrations]}, salt)
            captions = make_step(plan, f"{prefix}/captions", vid, "captions.subtitles",
                                 {"max_chars": 64 if fmt.height > fmt.width else 84,
                                  "line_chars": 32 if fmt.height > fmt.width else 42},
                                 {"timeline": out(timeline, "timeline.json")}, salt)
            music = None
            if video.music is not False:
                m = video.music or brand.music
                base = lv.spec.file.parent if video.music else self.project.root / "brands"
                music = (m, self.media(m.file, base)) if m else None
            assemble = make_step(plan, f"{prefix}/assemble", vid, "assemble.ffmpeg", {
                "fps": fmt.fps, "loudness_lufs": brand.quality.loudness_lufs, "true_peak_db": brand.quality.true_peak_db,
                **({"music_volume_db": music[0].volume_db, "music_duck_db": music[0].duck_db} if music else {})},
                {"videos": [out(s, "video.mp4") for s in segments], "audios": [out(s, "audio.wav") for s in segments],
                 "music": music[1] if music else None}, salt)
            thumb = self.thumbnail(prefix, title, logo, script)
            meta = make_step(plan, f"{prefix}/metadata", vid, "metadata.youtube", {
                "title": title, "description": video.description or (script.description or ""),
                "tags": list(video.tags) + list(script.tags) + list(brand.tags), "footer": brand.description_footer,
                "category": brand.channel.category, "language": brand.channel.language},
                {"timeline": out(timeline, "timeline.json")}, salt)
            docs = make_step(plan, f"{vid}/scriptfiles", vid, "doc.scriptfiles", {
                "title": title, "scenes": [{"narration": sc.narration, "visual": sc.visual.model_dump(mode="json")}
                                           for sc in script.scenes]}, {}, salt)
            files = {"video.mp4": out(assemble, "video.mp4"), "thumbnail.jpg": out(thumb, "thumbnail.jpg"),
                     "captions.srt": out(captions, "captions.srt"), "captions.vtt": out(captions, "captions.vtt"),
                     "metadata.json": out(meta, "metadata.json")}
            for name in renderers.get("doc.scriptfiles").outputs:
                files[name] = out(docs, name)
            out_dir = f"build/{vid}" + ("" if fi == 0 else f"/{fmt_name}")
            formats.append(FormatOutputs(format=fmt_name, dir=out_dir, files=files, scenes=segments, timeline=timeline))
        steps = [s for s in plan.steps if s not in before]
        return VideoPlan(id=vid, spec=lv.spec.display, steps=steps, formats=formats)

    def narration(self, i: int, scene: Scene) -> str:
        vid, voice = self.lv.id, self.voice(scene)
        salt = "/".join(x for x in (self.video.salt, scene.salt) if x)
        sid = f"{vid}/narration/{i:02d}"
        origin = self.lv.scene_origins[i]
        if scene.audio or voice.engine == "recorded":
            return make_step(self.plan, sid, vid, "tts.recorded", {"text": scene.narration},
                             {"audio": self.media(scene.audio, origin.base)}, salt)
        if voice.engine == "espeak":
            return make_step(self.plan, sid, vid, "tts.espeak", {
                "text": scene.narration, "voice": voice.espeak_voice, "rate": voice.rate, "pitch": voice.pitch,
                "sentence_pause": voice.sentence_pause}, {}, salt)
        model = self.media(voice.model, self.project.root / "brands") if voice.model else None
        return make_step(self.plan, sid, vid, "tts.piper", {
            "text": scene.narration, "rate": voice.rate, "speaker": voice.speaker,
            "sentence_pause": voice.sentence_pause, "seed": seed_of(salt)}, {"model": model}, salt)

    def segment(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None) -> str:
        vid, brand = self.lv.id, self.brand
        origin = self.lv.scene_origins[i]
        vis = scene.visual
        params: dict[str, Any] = {"width": fmt.width, "height": fmt.height, "fps": fmt.fps,
                                  "pad": float(self.style("pad", scene)), "lead": LEAD_S,
                                  "burn_captions": fmt.burn_captions, "caption_font": brand.fonts.body,
                                  "caption_color": brand.palette.text, "caption_accent": brand.palette.accent}
        handler = getattr(self, f"visual_{vis.kind}", None)
        if handler is None:
            raise SpecError([origin.pos.diag(origin.prefix + ("visual", "kind"),
                                             f"visual kind '{vis.kind}' has no renderer yet")])
        visual, extra = handler(prefix, i, scene, narration, fmt, logo)
        params.update(extra)
        return make_step(self.plan, f"{prefix}/segment/{i:02d}", vid, "segment.ffmpeg", params,
                         {"audio": out(narration, "audio.wav"), "timings": out(narration, "timings.json"),
                          "visual": visual})

    # One method per visual kind: returns (the segment's visual input, extra segment params).
    # visual_type "image" is a still (gets motion), "video" a clip (trimmed/looped to the scene).

    def visual_slide(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis, origin, brand = scene.visual, self.lv.scene_origins[i], self.brand
        template = vis.template or self.style("template", scene)
        slide = make_step(self.plan, f"{prefix}/slide/{i:02d}", self.lv.id, "slide.html", {
            "width": fmt.width, "height": fmt.height, "title": vis.title, "bullets": vis.bullets, "body": vis.body,
            "brand": brand.name, "palette": brand.palette.model_dump(), "fonts": brand.fonts.model_dump()},
            {"template": self.template("slide", template), "logo": logo, "image": self.media(vis.image, origin.base)})
        return out(slide, "slide.png"), {"visual_type": "image", "motion": "none"}

    def visual_image(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis = scene.visual
        motion = vis.motion or self.style("motion", scene) or BUILTIN["image_motion"]
        return (self.media(vis.file, self.lv.scene_origins[i].base),
                {"visual_type": "image", "fit": vis.fit, "motion": motion})

    def visual_clip(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis = scene.visual
        return (self.media(vis.file, self.lv.scene_origins[i].base),
                {"visual_type": "video", "fit": vis.fit, "start": vis.start, "loop": vis.loop})

    def thumbnail(self, prefix: str, title: str, logo: Ref | None, script) -> str:
        video, brand = self.video, self.brand
        thumb = video.thumbnail if (video.thumbnail.text or video.thumbnail.image or video.thumbnail.template) else (script.thumbnail or video.thumbnail)
        template = thumb.template or (self.recipe.thumbnail_template if self.recipe and self.recipe.thumbnail_template else None) or brand.thumbnail_template
        image = self.media(thumb.image, self.lv.spec.file.parent)
        if image is None:
            for i, sc in enumerate(script.scenes):
                if sc.visual.kind == "image":
                    image = self.media(sc.visual.file, self.lv.scene_origins[i].base)
                    break
        return make_step(self.plan, f"{prefix}/thumbnail", self.lv.id, "thumbnail.html", {
            "text": thumb.text or title, "brand": brand.name, "palette": brand.palette.model_dump(),
            "fonts": brand.fonts.model_dump()},
            {"template": self.template("thumbnail", template), "image": image, "logo": logo})


def compile_plan(project: Project) -> Plan:
    plan = Plan()
    for where, err in project.errors.items():
        plan.errors[where] = err.render()
    for vid, lv in sorted(project.videos.items()):
        if lv.script is None:
            plan.pending[vid] = "needs a script: no scenes and no script lock yet"
            continue
        try:
            plan.videos[vid] = Compiler(project, lv, plan).compile()
        except SpecError as exc:
            plan.errors[vid] = exc.render()
    return plan
