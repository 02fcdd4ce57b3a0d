"""Compile phase: Spec -> Plan. Pure: no rendering, no network; the Plan is JSON and printable.

A Step names its renderer kind and version, its resolved params (defaults already layered
brand -> recipe -> video -> scene), and its inputs: outputs of other steps or source files.
Keys are computed at execution time from the *digests* of those inputs (see execute.py).
"""
from __future__ import annotations

import hashlib
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import renderers

from . import catalogue, genvisuals
from core.errors import SpecError
from .qcplan import compile_qc
from .steps import FormatOutputs, Plan, Ref, Step, VideoPlan, make_step, out  # noqa: F401 (re-exported)
from .project import LoadedVideo, OutsideProject, Project, confine, formats_of, lock_path, needs_script, resolve_media
from .resolve import ENV_PROVIDER, Resolver, llm_config
from core.spec import Brand, FormatPreset, Scene, Video
from core.timeline import LEAD_S

CAPTION_SAFE = 0.36  # share of the frame's height kept free at the bottom for burned-in captions

Profile = Literal["final", "preview"]
PREVIEW_SCALE = 2      # the preview profile renders every format at 1/2 its width and height (1080p -> 540p)
PREVIEW_MAX_FPS = 30   # ... and at no more than 30 fps
PREVIEW_MUSIC_STRIDE_S = 20.0  # preview only: scene i's music starts i x this far into the (looped) music
PART_MIN_S = 60.0  # a soundtrack part (audio_parts.py) is at least this long, guessed from its narration's words
PART_MIN_PAD_S = 0.1  # ... and is split only after a scene with at least this much silence after its narration


def soundtrack_parts(scenes: list[Scene], pads: list[float], lead: float, *, chapters_only: bool,
                     split: bool = True) -> list[tuple[int, int]]:
    """The final soundtrack's parts, as (first scene, end) ranges: split between two scenes where it is silent
    (the earlier scene's pad, the later one's lead), only at a chapter mark when `chapters_only` (the music starts
    again there), once a part is at least PART_MIN_S long (2.5 words a second plus the pads); a short last part
    joins the one before. One part (audio.final's one step) for a short video or without `split`."""
    from renderers._lib.aac_join import PART_EDGE_ZEROS

    guess = [len(str(sc.narration or "").split()) / 2.5 + pad + lead for sc, pad in zip(scenes, pads)]
    if not split or lead * 48000 < PART_EDGE_ZEROS + 1024:
        return [(0, len(scenes))]
    parts, start = [], 0
    for i in range(1, len(scenes)):
        if (sum(guess[start:i]) >= PART_MIN_S and pads[i - 1] >= PART_MIN_PAD_S
                and (scenes[i].chapter or not chapters_only)):
            parts.append((start, i))
            start = i
    parts.append((start, len(scenes)))
    if len(parts) > 1 and sum(guess[start:]) < PART_MIN_S / 2:
        parts[-2:] = [(parts[-2][0], len(scenes))]
    return parts


PREVIEW_DIR = "build/.preview"  # where previews materialize (publish/units.py never reads a dot folder)


def preview_format(fmt: FormatPreset) -> FormatPreset:
    """A format at the preview size: width and height halved (kept even for yuv420p), fps capped."""
    def half(n: int) -> int:
        return max(2, round(n / PREVIEW_SCALE / 2) * 2)

    return fmt.model_copy(update={"width": half(fmt.width), "height": half(fmt.height),
                                  "fps": min(fmt.fps, PREVIEW_MAX_FPS)})


def seed_of(salt: str) -> int:
    return int(hashlib.sha256(salt.encode()).hexdigest()[:8], 16) % 100_000 if salt else 0


class Compiler:
    """Compiles one video; its layered settings come from one Resolver (resolve.py).

    The `preview` profile (the studio's watch mode) compiles every format at the preview size with cheap
    encoders, under the step ids `<vid>/preview/<format>/...`, materialized under build/.preview/. Steps that
    do not depend on the frame (narration, script files, the Remotion bundle, generated stills, HeyGen
    clips, thumbnails) keep the final profile's ids, params and so keys: a preview costs no work of them
    that the final render would not reuse. The final profile's plan is the same as before profiles existed."""

    def __init__(self, project: Project, lv: LoadedVideo, plan: Plan, profile: Profile = "final",
                 memo: dict | None = None):
        """`memo`: lookups shared by the videos of one compile (template files: 1,000 videos ask for the same
        few); never kept across compiles, so an edited or replaced template is always seen."""
        self.project, self.lv, self.plan = project, lv, plan
        self.memo = memo if memo is not None else {}
        self.profile: Profile = profile
        self.encode: dict[str, Any] = {"profile": "preview"} if profile == "preview" else {}
        self.res = Resolver(project, lv)
        self.brand: Brand = self.res.brand
        self.video: Video = self.res.video
        self.copy_clips = False  # this format's clips go in by stream copy (clip_copy)

    def file(self, path: Path) -> Ref:
        return Ref(file=self.project.display(path))

    def media(self, ref: str | None, base: Path) -> Ref | None:
        """A spec's path as a repo-relative input; `check` reports paths outside the project at their
        file:line:col, this is the second wall (nothing outside the project ever becomes an input)."""
        if not ref:
            return None
        try:
            return self.file(resolve_media(base, ref, self.project))
        except OutsideProject as exc:
            raise SpecError([self.lv.spec.pos.diag((), str(exc), category="media")]) from None

    def template(self, kind: str, name: str) -> Ref:
        k = ("template", kind, name)
        if k not in self.memo:
            try:
                self.memo[k] = self.file(catalogue.template_file(self.project.root, kind, name))
            except catalogue.NotInCatalogue as exc:
                self.memo[k] = exc
        found = self.memo[k]
        if isinstance(found, catalogue.NotInCatalogue):
            raise SpecError([self.lv.spec.pos.diag((), str(found))]) from None
        return found

    def compile(self) -> VideoPlan:
        lv, video, brand, plan = self.lv, self.video, self.brand, self.plan
        script = lv.script
        assert script is not None
        vid = lv.id
        before = len(plan.steps)  # steps are only ever added: this video's new ones come after this many
        salt = video.salt
        narrations = []
        for i, scene in enumerate(script.scenes):
            narrations.append(self.narration(i, scene))
        logo = self.media(brand.logo, self.project.root / "brands")
        title = video.title or script.title or (video.topic or lv.slug.replace("-", " ").title())
        self.title = title
        formats = []
        for fi, fmt_name in enumerate(formats_of(self.project, lv)):
            fmt = self.project.formats[fmt_name]
            prefix = f"{vid}/{fmt_name}"
            if self.profile == "preview":
                fmt, prefix = preview_format(fmt), f"{vid}/preview/{fmt_name}"
            segments = []
            self.copy_clips = self.clip_copy(fmt)
            for i, scene in enumerate(script.scenes):
                segments.append(self.segment(prefix, i, scene, narrations[i], fmt, logo))
            pads = [float(self.res.style("pad", sc)) for sc in script.scenes]
            limit = self.res.limit(fmt_name, script)
            timeline = make_step(plan, f"{prefix}/timeline", vid, "timeline.compose", {
                "fps": fmt.fps, "width": fmt.width, "height": fmt.height, "lead": LEAD_S, "pads": pads,
                "titles": [sc.visual.title or None if sc.visual.kind == "slide" else None for sc in script.scenes],
                "chapters": [sc.chapter for sc in script.scenes], "max_duration_s": limit.seconds,
                "limit_source": f"{limit.source}; spec {lv.spec.display}"},
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
            crossfades, pieces = self.transitions(prefix, segments, fmt)
            mix = {"music_volume_db": music[0].volume_db, "music_duck_db": music[0].duck_db} if music else {}
            audios = [out(s, "audio.wav") for s in segments]
            premixed = {}
            if self.profile == "preview":
                # the preview's soundtrack per scene (audio_preview.py): each piece finished (mixed, levelled,
                # FLAC) from the narration, beside the segment's video encode; the assembly joins by stream copy
                level = {"loudness_lufs": brand.quality.loudness_lufs, "true_peak_db": brand.quality.true_peak_db}
                audios = [out(make_step(plan, f"{prefix}/audio/{i:02d}", vid, "audio.preview", {
                    **mix, **level, "fps": fmt.fps, "pad": plan.steps[seg].params["pad"],
                    "lead": plan.steps[seg].params["lead"], "music_offset_s": PREVIEW_MUSIC_STRIDE_S * i},
                    {"audio": out(narrations[i], "audio.wav"), "timings": out(narrations[i], "timings.json"),
                     "music": music[1] if music else None}, salt), "audio.mp4")
                    for i, seg in enumerate(segments)]
                premixed = {"premixed": 2}
            level = {"loudness_lufs": brand.quality.loudness_lufs, "true_peak_db": brand.quality.true_peak_db}
            sound: dict[str, Any] = {"audios": audios, "music": None if premixed else music[1] if music else None}
            if self.profile == "final":
                # the soundtrack from the narration, beside the segments' video encodes (audio_final.py); the
                # assembly then cuts and muxes. Same bytes as the assembly mixing the segments' audio itself.
                # A longer one in parts that an edit re-renders one by one (audio_parts.py)
                seg_pads = [plan.steps[sg].params["pad"] for sg in segments]
                lead = plan.steps[segments[0]].params["lead"] if segments else LEAD_S
                parts = soundtrack_parts(script.scenes, seg_pads, lead,
                                         chapters_only=bool(music) and music[0].sections == "chapters",
                                         split=not (music and music[0].sections == "continuous"))
                if len(parts) > 1:
                    sound = {"audio": out(self.soundtrack_parts(prefix, parts, narrations, seg_pads, lead, fmt.fps,
                                                                music, mix, level), "audio.m4a")}
                else:
                    sound = {"audio": out(make_step(plan, f"{prefix}/audio", vid, "audio.final", {
                        "fps": fmt.fps, "pads": seg_pads, "lead": lead, **level, **mix},
                        {"audios": [out(n, "audio.wav") for n in narrations],
                         "timings": [out(n, "timings.json") for n in narrations],
                         "music": music[1] if music else None}, salt), "audio.m4a")}
            assemble = make_step(plan, f"{prefix}/assemble", vid, "assemble.ffmpeg", {
                "fps": fmt.fps, **level, **mix, "crossfades": crossfades, **self.encode, **premixed,
                **({"bodies": True} if crossfades else {})},
                {"videos": self.bodies(prefix, segments, fmt), **sound, "transitions": pieces or None}, salt)
            thumb = self.thumbnail(f"{vid}/{fmt_name}", title, logo, script)  # frame-independent: shared by profiles
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
            out_dir = (PREVIEW_DIR if self.profile == "preview" else "build") + f"/{vid}" + ("" if fi == 0 else f"/{fmt_name}")
            qc = compile_qc(self, prefix, fmt_name, fmt, script) if self.profile == "final" else None
            formats.append(FormatOutputs(format=fmt_name, dir=out_dir, files=files, scenes=segments, timeline=timeline,
                                         qc=qc))
        steps = list(islice(plan.steps, before, None))
        generated = script.generated.model_dump(mode="json") if script.generated else None
        return VideoPlan(id=vid, spec=lv.spec.display, steps=steps, formats=formats, script=generated)

    def soundtrack_parts(self, prefix: str, parts: list[tuple[int, int]], narrations: list[str], pads: list[float],
                         lead: float, fps: int, music, mix: dict, level: dict) -> str:
        """The soundtrack in parts (renderers/audio_parts.py): per part a mix and an encode (levelled and coded),
        one gain for all, one join; returns the join's step."""
        plan, vid, salt = self.plan, self.lv.id, self.video.salt
        audios = [out(n, "audio.wav") for n in narrations]
        timings = [out(n, "timings.json") for n in narrations]
        mixes, encodes = [], []
        for k, (a, b) in enumerate(parts):
            edge = {"first": k == 0, "last": k == len(parts) - 1}
            mixes.append(make_step(plan, f"{prefix}/audio/part/{k:02d}", vid, "audio.part", {
                "fps": fps, "pads": pads[a:b], "lead": lead, **mix, **edge},
                {"audios": audios[a:b], "timings": timings[a:b], "music": music[1] if music else None}, salt))
        gain = make_step(plan, f"{prefix}/audio/gain", vid, "audio.gain", {"loudness_lufs": level["loudness_lufs"]},
                         {"parts": [out(m, "loudness.json") for m in mixes]}, salt)
        for k, m in enumerate(mixes):
            edge = {"first": k == 0, "last": k == len(parts) - 1}
            encodes.append(make_step(plan, f"{prefix}/audio/encode/{k:02d}", vid, "audio.encode", {
                "true_peak_db": level["true_peak_db"], **edge},
                {"mix": out(m, "mix.wav"), "loudness": out(m, "loudness.json"), "gain": out(gain, "gain.json")}, salt))
        return make_step(plan, f"{prefix}/audio", vid, "audio.join", {"scenes": len(narrations)}, {
            "parts": [out(e, "part.m4a") for e in encodes], "meters": [out(e, "meter.json") for e in encodes],
            "loudness": [out(m, "loudness.json") for m in mixes], "gain": out(gain, "gain.json")}, salt)

    def narration(self, i: int, scene: Scene) -> str:
        vid, voice = self.lv.id, self.res.voice(scene)
        salt = "/".join(x for x in (self.video.salt, scene.salt) if x)
        sid = f"{vid}/narration/{i:02d}"
        origin = self.lv.scene_origins[i]
        if (scene.visual.kind == "avatar" and self.brand.avatar is not None
                and not genvisuals.avatar_lipsyncs(scene, self.brand, voice)):
            clip = self.heygen_clip(i, scene, None)  # HeyGen speaks the text; its audio is the narration
            return make_step(self.plan, sid, vid, "tts.recorded", {"text": scene.narration},
                             {"audio": out(clip, "clip.mp4")}, salt)
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
                                  "pad": float(self.res.style("pad", scene)), "lead": LEAD_S,
                                  "burn_captions": fmt.burn_captions, "caption_font": brand.fonts.body,
                                  "caption_color": "#ffffff", "caption_accent": brand.palette.accent}
        handler = getattr(self, f"visual_{vis.kind}", None)
        if handler is None:
            raise SpecError([origin.pos.diag(origin.prefix + ("visual", "kind"),
                                             f"visual kind '{vis.kind}' has no renderer yet")])
        visual, extra = handler(prefix, i, scene, narration, fmt, logo)
        params.update(extra)
        # IDR frames where crossfades will cut this segment (its start and end boundaries)
        params.update({"split_head": self.crossfade(i, fmt)[1], "split_tail": self.crossfade(i + 1, fmt)[0],
                       **self.encode, **self.video_encoder(), **self.measure_pictures()})
        if self.copy_clips:  # nothing is encoded: no hardware encoder needed (or in the key)
            params["stream_copy"] = True
            params.pop("encoder", None)
        elif (params["visual_type"] == "video" and params.get("loop", True) and not params.get("start")
              and not fmt.burn_captions and self.profile == "final" and "encoder" not in params):
            params["repeat_loops"] = True  # a clip it loops twice or more: its period encoded once (segment_ffmpeg)
        return make_step(self.plan, f"{prefix}/segment/{i:02d}", vid, "segment.ffmpeg", params,
                         {"audio": out(narration, "audio.wav"), "timings": out(narration, "timings.json"),
                          "visual": visual})

    def clip_copy(self, fmt) -> bool:
        """Whether every scene of this format is a clip that goes in by stream copy: all clips, each one the format's
        H.264 as it is, all with one codec setup (the rules: renderers/_lib/mp4info.py). A video that could be
        copied but for a clip says why in a plan warning (shown by check and build), at that clip's `file:`."""
        from renderers._lib.mp4info import refusal, video_track

        quality, scenes = self.brand.quality, self.lv.script.scenes
        if self.profile != "final" or not quality.clip_copy or fmt.burn_captions or not scenes:
            return False
        if any(sc.visual.kind != "clip" or sc.visual.start or not sc.visual.loop or (i and self.crossfade(i, fmt)[0])
               for i, sc in enumerate(scenes)):
            return False
        config = None
        for i, scene in enumerate(scenes):
            path = self.project.root / self.media(scene.visual.file, self.lv.scene_origins[i].base).file
            key = ("mp4", str(path))
            if key not in self.memo:
                self.memo[key] = video_track(path)
            track = self.memo[key]
            why = refusal(track, fmt.width, fmt.height, fmt.fps, quality.clip_copy_max_mbps)
            if why is None and config is not None and track.config != config:
                why = "its codec setup (H.264 parameter sets) differs from the first clip's"
            if why:
                self.warn(i, ("visual", "file"), f"this video's clips are re-encoded, not copied as they are: "
                                                 f"{scene.visual.file}: {why} (`quality: {{clip_copy: false}}` on "
                                                 "the brand encodes clips without this note)")
                return False
            config = track.config
        return True

    def measure_pictures(self) -> dict[str, bool]:
        """A final segment measures black and frozen stretches while it encodes, for its qc.scene (which then
        decodes nothing), when the brand judges pictures at the thresholds the segment measures at."""
        from renderers._lib.qc_media import PICTURE_BLACK_TH, PICTURE_FREEZE_DB

        pic = self.brand.qc.picture
        measure = (self.profile == "final" and pic.black_pixel_threshold == PICTURE_BLACK_TH
                   and pic.freeze_noise_db == PICTURE_FREEZE_DB)
        return {"pictures": True} if measure else {}

    # One method per visual kind: returns (the segment's visual input, extra segment params).
    # visual_type "image" is a still (gets motion), "video" a clip (trimmed/looped to the scene).

    def visual_slide(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis, origin, brand = scene.visual, self.lv.scene_origins[i], self.brand
        template = self.res.slide_template(scene, vis.template)
        slide = make_step(self.plan, f"{prefix}/slide/{i:02d}", self.lv.id, "slide.html", {
            "width": fmt.width, "height": fmt.height, "title": vis.title, "bullets": vis.bullets, "body": vis.body,
            "brand": brand.name, "palette": brand.palette.model_dump(), "fonts": brand.fonts.model_dump(),
            "caption_safe": CAPTION_SAFE if fmt.burn_captions else 0.0},
            {"template": self.template("slide", template), "logo": logo, "image": self.media(vis.image, origin.base)})
        return out(slide, "slide.png"), {"visual_type": "image", "motion": "none"}

    def visual_image(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis = scene.visual
        motion = self.res.motion(scene, vis.motion)
        still = self.media(vis.file, self.lv.scene_origins[i].base)
        clip = self.animated(i, scene, still, "", 0) if vis.animate else None
        if clip is not None:
            return clip, {"visual_type": "video", "fit": vis.fit, "start": 0.0, "loop": True}
        return still, {"visual_type": "image", "fit": vis.fit, "motion": motion}

    def visual_clip(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis = scene.visual
        return (self.media(vis.file, self.lv.scene_origins[i].base),
                {"visual_type": "video", "fit": vis.fit, "start": vis.start, "loop": vis.loop})

    # ---- generated visuals: diffusers stills and clips, HeyGen presenters (docs/visuals-images-avatar.md) ----

    def scene_salt(self, scene: Scene) -> str:
        return "/".join(x for x in (self.video.salt, scene.salt) if x)

    def warn(self, i: int, at: tuple, message: str) -> None:
        """A plan warning with the scene's file:line:col; printed by check/build, kept in the plan JSON."""
        o = self.lv.scene_origins[i]
        text = o.pos.diag(o.prefix + at, message, category="warning").render(snippet=False)
        msgs = self.plan.warnings.setdefault(self.lv.id, [])
        if text not in msgs:
            msgs.append(text)

    def model_dir(self, ref: str) -> Path:
        try:
            return genvisuals.model_dir(self.project.root, ref)
        except OutsideProject as exc:
            raise SpecError([self.lv.spec.pos.diag((), f"model folder {exc}", category="model")]) from None

    def model_refs(self, folder: Path, variant: str | None) -> list[Ref]:
        """Every file of a model folder as an input, each confined to the project like a media path."""
        try:
            return [self.file(confine(self.project.root, f)) for f in genvisuals.model_files(folder, variant)]
        except OutsideProject as exc:
            raise SpecError([self.lv.spec.pos.diag((), f"model file {exc}", category="model")]) from None

    def generated_still(self, prefix: str, i: int, scene: Scene, vis, fmt, logo: Ref | None, at: tuple) -> tuple[Ref, str]:
        """(picture, mode): generated by the brand's local model, or its declared fallback (a plan warning)."""
        vid, brand, root = self.lv.id, self.brand, self.project.root
        try:
            src = genvisuals.image_source(root, self.lv.brand, brand)
        except genvisuals.Unavailable as exc:
            o = self.lv.scene_origins[i]
            raise SpecError([o.pos.diag(o.prefix + at, str(exc), category="model")]) from None
        images = brand.images
        assert images is not None
        salt = self.scene_salt(scene)
        if src.mode == "model":
            assert src.folder is not None
            negative = ", ".join(x for x in (vis.negative_prompt.strip(), images.negative.strip()) if x)
            sid = make_step(self.plan, f"{vid}/genimage/{i:02d}", vid, "image.diffusers", {
                "prompt": genvisuals.full_prompt(vis.prompt, images.style), "negative_prompt": negative,
                "seed": vis.seed, "steps": images.steps, "guidance": images.guidance, "width": images.width,
                "height": images.height, "variant": images.variant},
                {"model": self.model_refs(src.folder, images.variant)}, salt)
            return out(sid, "image.png"), "model"
        if src.mode == "media":
            still = genvisuals.pick_still(genvisuals.library_stills(root, images), vis.prompt, vis.seed)
            source, fid = self.file(still), f"{vid}/genimage/{i:02d}"
            what = f"still {self.project.display(still)}"
        else:
            slide = make_step(self.plan, f"{prefix}/slide/{i:02d}", vid, "slide.html", {
                "width": fmt.width, "height": fmt.height, "title": "", "bullets": [], "body": vis.prompt,
                "brand": brand.name, "palette": brand.palette.model_dump(), "fonts": brand.fonts.model_dump()},
                {"template": self.template("slide", self.res.slide_template(scene)), "logo": logo})
            source, fid = out(slide, "slide.png"), f"{prefix}/genimage/{i:02d}"
            what = "a slide showing the prompt"
        self.warn(i, at, f"genimage uses the declared fallback '{src.mode}' ({what}): {src.reason}")
        sid = make_step(self.plan, fid, vid, "image.fallback",
                        {"fallback": src.mode, "reason": src.reason, "prompt": vis.prompt}, {"image": source}, salt)
        return out(sid, "image.png"), src.mode

    def animated(self, i: int, scene: Scene, still: Ref, prompt: str, seed: int, at: tuple = ("visual",)) -> Ref | None:
        """Image-to-video with the brand's video model; None (Ken Burns on the still, with a warning) without one."""
        vm, vid = self.brand.video_model, self.lv.id
        if vm is None:
            self.warn(i, at + ("animate",), f"animate: true, but brand '{self.lv.brand}' has no video_model; "
                                            "the still gets Ken Burns motion instead")
            return None
        sid = make_step(self.plan, f"{vid}/genclip/{i:02d}", vid, "video.diffusers", {
            "seed": seed, "prompt": prompt, "frames": vm.frames, "fps": vm.fps, "steps": vm.steps, "width": vm.width,
            "height": vm.height, "motion_bucket_id": vm.motion_bucket_id, "noise_aug_strength": vm.noise_aug_strength,
            "decode_chunk_size": vm.decode_chunk_size, "boomerang": vm.boomerang, "variant": vm.variant},
            {"image": still, "model": self.model_refs(self.model_dir(vm.model), vm.variant)},
            self.scene_salt(scene))
        return out(sid, "clip.mp4")

    def visual_genimage(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None,
                        at: tuple = ("visual",)):
        vis = scene.visual
        still, mode = self.generated_still(prefix, i, scene, vis, fmt, logo, at)
        clip = self.animated(i, scene, still, vis.prompt, vis.seed, at) if vis.animate and mode != "slide" else None
        if clip is not None:
            return clip, {"visual_type": "video", "fit": "cover", "start": 0.0, "loop": True}
        motion = "none" if mode == "slide" else self.res.motion(scene, vis.motion)
        return still, {"visual_type": "image", "fit": "cover", "motion": motion}

    def heygen_clip(self, i: int, scene: Scene, narration: str | None) -> str:
        """The HeyGen render of one scene (paid, cached by key): HeyGen's voice, or lip-sync to our narration."""
        av, vid, brand = self.brand.avatar, self.lv.id, self.brand
        assert av is not None
        lipsync = genvisuals.avatar_lipsyncs(scene, brand, self.res.voice(scene))
        full_portrait = False
        if scene.visual.layout == "full":
            first = self.project.formats[formats_of(self.project, self.lv)[0]]
            full_portrait = first.height > first.width
        return make_step(self.plan, f"{vid}/heygen/{i:02d}", vid, "avatar.heygen", {
            "avatar_id": av.avatar_id, "voice_id": None if lipsync else av.voice_id,
            "script": None if lipsync else scene.narration, "speed": av.speed, "resolution": av.resolution,
            "aspect_ratio": "9:16" if full_portrait else "16:9", "background": av.background,
            "api_key_env": av.api_key_env, "max_duration_s": av.max_duration_s, "salt": self.scene_salt(scene)},
            {"audio": out(narration, "audio.wav")} if lipsync and narration else {}, self.scene_salt(scene))

    def visual_avatar(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis, av, vid = scene.visual, self.brand.avatar, self.lv.id
        assert av is not None
        clip = self.heygen_clip(i, scene, narration)
        params: dict[str, Any] = {"width": fmt.width, "height": fmt.height, "fps": fmt.fps, "lead": LEAD_S,
                                  "pad": float(self.res.style("pad", scene)), "layout": vis.layout}
        background = None
        if vis.layout == "pip":
            over = vis.over
            handler = getattr(self, f"visual_{over.kind}", None)
            if handler is None:
                o = self.lv.scene_origins[i]
                raise SpecError([o.pos.diag(o.prefix + ("visual", "over", "kind"),
                                            f"visual kind '{over.kind}' has no renderer yet")])
            sub = scene.model_copy(update={"visual": over})
            background, extra = (handler(prefix, i, sub, narration, fmt, logo, ("visual", "over"))
                                 if over.kind == "genimage" else handler(prefix, i, sub, narration, fmt, logo))
            pip = av.pip
            params.update({
                "position": vis.position or pip.position, "size": pip.size, "aspect": pip.aspect, "margin": pip.margin,
                "border": pip.border, "border_color": self.brand.palette.accent,
                "background_type": extra.get("visual_type", "image"), "background_fit": extra.get("fit", "cover"),
                "background_motion": extra.get("motion", "none"), "background_start": extra.get("start", 0.0),
                "background_loop": extra.get("loop", True)})
        sid = make_step(self.plan, f"{prefix}/avatar/{i:02d}", vid, "pip.ffmpeg", params, {
            "avatar": out(clip, "clip.mp4"), "timings": out(narration, "timings.json"), "background": background})
        return out(sid, "clip.mp4"), {"visual_type": "video", "fit": "cover", "start": 0.0, "loop": False}

    # ---- animations: manim and Remotion (docs/visuals-manim-remotion.md) ----

    def animation_params(self, scene: Scene, fmt) -> dict[str, Any]:
        """What every animation clip shares: the frame, the scene length, the brand look."""
        return {"width": fmt.width, "height": fmt.height, "fps": fmt.fps, "pad": float(self.res.style("pad", scene)),
                "lead": LEAD_S, "palette": self.brand.palette.model_dump(), "fonts": self.brand.fonts.model_dump()}

    def visual_manim(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis = scene.visual
        if vis.template:
            try:
                source = self.file(catalogue.manim_template_file(self.project.root, vis.template))
            except catalogue.NotInCatalogue as exc:
                raise SpecError([self.lv.spec.pos.diag((), str(exc))]) from None
        else:
            source = self.media(vis.file, self.lv.scene_origins[i].base)
        sid = make_step(self.plan, f"{prefix}/manim/{i:02d}", self.lv.id, "manim.scene", {
            "template": vis.template, "scene": vis.scene, "params": vis.params, **self.animation_params(scene, fmt)},
            {"source": source, "timings": out(narration, "timings.json")})
        return out(sid, "clip.mp4"), {"visual_type": "video", "fit": "cover", "start": 0.0, "loop": False}

    def visual_remotion(self, prefix: str, i: int, scene: Scene, narration: str, fmt, logo: Ref | None):
        vis, vid = scene.visual, self.lv.id
        script = Ref(file=f"{catalogue.REMOTION_DIR}/render.mjs")
        bundle = make_step(self.plan, f"{vid}/remotion/bundle", vid, "remotion.bundle", {}, {
            "script": script, "sources": [Ref(file=f) for f in catalogue.remotion_sources(self.project.root)]})
        sid = make_step(self.plan, f"{prefix}/remotion/{i:02d}", vid, "remotion.clip", {
            "composition": vis.composition, "props": vis.props, **self.animation_params(scene, fmt)},
            {"bundle": out(bundle, "bundle.tar.gz"), "script": script, "timings": out(narration, "timings.json")})
        return out(sid, "clip.mp4"), {"visual_type": "video", "fit": "cover", "start": 0.0, "loop": False}

    # ---- transitions: a scene's `transition` applies at its start boundary ----

    def crossfade(self, i: int, fmt) -> tuple[int, int]:
        """(frames from the end of scene i-1, frames from the start of scene i) for boundary i; (0, 0) for a cut."""
        scenes = self.lv.script.scenes
        if i <= 0 or i >= len(scenes) or self.res.style("transition", scenes[i]) != "crossfade":
            return 0, 0
        frames = max(2, round(float(self.res.style("transition_s", scenes[i])) * fmt.fps))
        return frames - frames // 2, frames // 2

    def video_encoder(self) -> dict[str, Any]:
        """The brand's hardware encoder for the final's segments and crossfades (which join by stream copy, so they
        share it); nothing for x264 (keys as before) and nothing in the preview (always x264 ultrafast)."""
        enc = self.brand.encoder
        return {"encoder": enc} if enc != "x264" and self.profile == "final" else {}

    def transitions(self, prefix: str, segments: list[str], fmt) -> tuple[list[dict], list[Ref]]:
        """One small step per crossfade boundary; it depends only on the two segments it joins."""
        crossfades, pieces = [], []
        for i in range(1, len(segments)):
            tail, head = self.crossfade(i, fmt)
            if not tail:
                continue
            sid = make_step(self.plan, f"{prefix}/transition/{i:02d}", self.lv.id, "transition.ffmpeg", {
                "fps": fmt.fps, "width": fmt.width, "height": fmt.height, "tail": tail, "head": head,
                **self.encode, **self.video_encoder()},
                {"a": out(segments[i - 1], "video.mp4"), "b": out(segments[i], "video.mp4")})
            crossfades.append({"at": i, "tail": tail, "head": head})
            pieces.append(out(sid, "video.mp4"))
        return crossfades, pieces

    def bodies(self, prefix: str, segments: list[str], fmt) -> list[Ref]:
        """What the assembly joins: each segment, or, where crossfades replace its edges, a `segment.cut` step of it
        (the segment without those frames, by stream copy), so an edit re-cuts only the segments it re-encodes."""
        refs = []
        for i, seg in enumerate(segments):
            head, tail = self.crossfade(i, fmt)[1], self.crossfade(i + 1, fmt)[0]
            if not head and not tail:
                refs.append(out(seg, "video.mp4"))
                continue
            sid = make_step(self.plan, f"{prefix}/cut/{i:02d}", self.lv.id, "segment.cut", {"head": head, "tail": tail},
                            {"video": out(seg, "video.mp4")})
            refs.append(out(sid, "video.mp4"))
        return refs

    def thumbnail(self, prefix: str, title: str, logo: Ref | None, script) -> str:
        brand = self.brand
        thumb = self.res.thumbnail(script)
        template = self.res.thumbnail_template(thumb)
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


def pending_reason(project: Project, lv: LoadedVideo) -> str | None:
    """Why stage 2 cannot compile this video yet (no lock, or a stale one), or None."""
    why = needs_script(lv)
    if why is None:
        return None if lv.script is not None else "needs a script"
    try:
        configured = llm_config(project, lv) is not None
    except SpecError as exc:
        return f"needs a script ({why}), but: {exc}"
    if configured:
        return f"needs a script ({why}): `doit script` or `python -m compiler build` generates it"
    return (f"needs a script ({why}) and no LLM provider is configured: add an `llm:` block to "
            f"brands/{lv.brand}.yaml or set {ENV_PROVIDER}, or write {project.display(lock_path(lv))} by hand "
            "(docs/scripts.md)")


def compile_plan(project: Project, profile: Profile = "final") -> Plan:
    """Stage 2 for every video with a script; `profile="preview"` compiles the studio's fast preview
    (see Compiler), whose plan shares only frame-independent steps (narration first) with the final one."""
    plan, memo = Plan(), {}
    for where, err in project.errors.items():
        plan.errors[where] = err.render()
    for vid, lv in sorted(project.videos.items()):
        why = pending_reason(project, lv)
        if why:
            plan.pending[vid] = why
            continue
        try:
            plan.videos[vid] = Compiler(project, lv, plan, profile, memo).compile()
        except SpecError as exc:
            plan.errors[vid] = exc.render()
        except Exception as exc:  # a bug, or a value no check caught: this video fails, the others compile
            for sid in [s for s, st in plan.steps.items() if st.video == vid]:
                del plan.steps[sid]
            plan.errors[vid] = f"{lv.spec.display}: internal error while compiling this video: {exc!r} [internal]"
    return plan
