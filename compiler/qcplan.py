"""QC steps of one video format (issue 11, contract in core/qc.py), compiled for the final profile only.

Each function below adds the QC steps of one area to `c.plan` and returns refs to their `findings.json`;
`compile_qc` calls them all and adds the `qc.verdict` step that judges the build (qc.json).
They find the steps they check by the plan's id conventions (prefix = "<vid>/<format>"):
  narration  <vid>/narration/NN          segment   <prefix>/segment/NN      slide  <prefix>/slide/NN
  timeline   <prefix>/timeline           captions  <prefix>/captions        assembly <prefix>/assemble
  metadata   <prefix>/metadata           thumbnail <vid>/<format>/thumbnail  script files <vid>/scriptfiles
QC steps are <prefix>/qc/<name> (per scene: <prefix>/qc/<name>/NN); narration embeddings <brand>/_qc/embed/<slug>.

Import step primitives from `.steps`, never from `.plan`: plan.py calls this module, so importing plan.py
here would close an import cycle (tests/test_architecture.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import renderers

from .project import needs_script
from .steps import Ref, make_step, out

if TYPE_CHECKING:
    from core.spec import FormatPreset, Scene, Script

# Renderer kinds whose output is synthetic media (YouTube's "altered or synthetic content" declaration).
SYNTHETIC_KINDS = {"tts.piper": "a synthetic (TTS) voice", "tts.espeak": "a synthetic (TTS) voice",
                   "image.diffusers": "a generated picture", "video.diffusers": "a generated video clip",
                   "avatar.heygen": "an AI avatar"}


def media_checks(c, prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """Audio, picture and caption checks (docs/quality.md, "Audio, picture and captions"): one `qc.scene` per
    scene (its segment and narration only, so an edit re-checks that scene), one `qc.master` on the final video
    (which also places the scenes' findings on the final timeline: only its findings.json is returned for them)
    and one `qc.captions`."""
    from . import genvisuals

    if c.profile != "final":
        return []
    vid, brand, video, qc = c.lv.id, c.brand, c.video, c.brand.qc
    a, pic, cap = qc.audio, qc.picture, qc.captions
    scene_ids = []
    for i, scene in enumerate(script.scenes):
        segment = c.plan.steps[f"{prefix}/segment/{i:02d}"]
        narration = f"{vid}/narration/{i:02d}"
        kind = scene.visual.kind
        moving = segment.params.get("visual_type") == "video" and kind not in ("manim", "remotion")
        voice = c.res.voice(scene)
        wpm = voice.words_per_minute * voice.rate
        if kind == "avatar" and brand.avatar is not None and not genvisuals.avatar_lipsyncs(scene, brand, voice):
            wpm = brand.avatar.words_per_minute * brand.avatar.speed  # HeyGen's voice speaks
        scene_ids.append(make_step(c.plan, f"{prefix}/qc/scene/{i:02d}", vid, "qc.scene", {
            "lead": segment.params.get("lead", 0.2), "target_wpm": None if scene.audio or voice.engine == "recorded"
            else wpm, "expect_motion": moving,
            "silence_s": a.silence_s, "silence_error_s": a.silence_error_s, "silence_noise_db": a.silence_noise_db,
            "pace_tolerance": a.pace_tolerance, "pace_error_tolerance": a.pace_error_tolerance,
            "pace_min_words": a.pace_min_words, "clipping_runs": a.clipping_runs,
            "clipping_error_runs": a.clipping_error_runs, "black_s": pic.black_s, "black_error_s": pic.black_error_s,
            "black_pixel_threshold": pic.black_pixel_threshold, "freeze_s": pic.freeze_s,
            "freeze_error_s": pic.freeze_error_s, "freeze_noise_db": pic.freeze_noise_db},
            {"video": out(segment.id, "video.mp4"), "audio": out(segment.id, "audio.wav"),
             "timings": out(narration, "timings.json")}))
    music = video.music is not False and (video.music or brand.music) is not None
    limit = c.res.limit(fmt_name, script)
    master = make_step(c.plan, f"{prefix}/qc/master", vid, "qc.master", {
        "width": fmt.width, "height": fmt.height, "fps": fmt.fps, "max_duration_s": limit.seconds,
        "limit_source": limit.source, "loudness_lufs": brand.quality.loudness_lufs,
        "true_peak_db": brand.quality.true_peak_db, "loudness_tolerance_lu": a.loudness_tolerance_lu,
        "loudness_error_lu": a.loudness_error_lu, "true_peak_tolerance_db": a.true_peak_tolerance_db,
        "true_peak_error_db": a.true_peak_error_db, "silence_s": a.silence_s, "silence_error_s": a.silence_error_s,
        "av_mismatch_s": pic.av_mismatch_s, "av_mismatch_error_s": pic.av_mismatch_error_s,
        "duration_tolerance_s": pic.duration_tolerance_s, "music": music, "music_ratio_db": a.music_ratio_db,
        "music_error_ratio_db": a.music_error_ratio_db},
        {"video": out(f"{prefix}/assemble", "video.mp4"), "timeline": out(f"{prefix}/timeline", "timeline.json"),
         "scenes": [out(s, "findings.json") for s in scene_ids],
         "narrations": [out(f"{prefix}/segment/{i:02d}", "audio.wav") for i in range(len(script.scenes))]
         if music else None})
    vertical = fmt.height > fmt.width
    captions = make_step(c.plan, f"{prefix}/qc/captions", vid, "qc.captions", {
        "max_line_chars": cap.max_line_chars_vertical if vertical else cap.max_line_chars,
        "max_lines": cap.max_lines, "min_coverage": cap.min_coverage, "min_coverage_error": cap.min_coverage_error,
        "timing_tolerance_s": cap.timing_tolerance_s, "timing_error_s": cap.timing_error_s,
        "max_chars_per_s": cap.max_chars_per_s},
        {"srt": out(f"{prefix}/captions", "captions.srt"), "vtt": out(f"{prefix}/captions", "captions.vtt"),
         "timeline": out(f"{prefix}/timeline", "timeline.json")})
    return [out(master, "findings.json"), out(captions, "findings.json")]


def text_checks(c, prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """On-screen text of slides and the thumbnail (measured in Chromium when they render): one `qc.text` step per
    format that reads the slides' and the thumbnail's facts, so it re-runs only when one of them changes."""
    slides, where = [], []
    for i, scene in enumerate(script.scenes):
        sid = f"{prefix}/slide/{i:02d}"
        step = c.plan.steps.get(sid)
        if step is None or step.kind != "slide.html":
            continue
        slides.append(out(sid, "slide.png"))
        where.append({"scene": i, "fields": slide_fields(scene)})
    thumb = f"{c.lv.id}/{fmt_name}/thumbnail"
    if thumb not in c.plan.steps:
        return []
    from_spec = bool(c.res.thumbnail(script).text)  # else the thumbnail shows the title (Compiler.thumbnail)
    sid = make_step(c.plan, f"{prefix}/qc/text", c.lv.id, "qc.text", {
        "slides": where, "thumbnail_field": ["thumbnail", "text"] if from_spec else ["title"],
        "thresholds": c.brand.qc.text.model_dump(mode="json"),
        "measured_by": {k: renderers.get(k).version for k in ("slide.html", "thumbnail.html")}},
        {"thumbnail": out(thumb, "thumbnail.jpg"), "slides": slides or None})
    return [out(sid, "findings.json")]


def slide_fields(scene: "Scene") -> dict[str, list[str | int]]:
    """The spec fields a scene's slide shows, by the template's text names (see Compiler.visual_slide and the
    genimage fallback, which shows the prompt as the slide's body; a picture-in-picture avatar's slide is `over`)."""
    vis, at = scene.visual, ["visual"]
    if vis.kind == "avatar" and getattr(vis, "over", None) is not None:
        vis, at = vis.over, ["visual", "over"]
    if vis.kind == "genimage":
        return {"body": [*at, "prompt"]}
    return {"title": [*at, "title"], "bullets": [*at, "bullets"], "body": [*at, "body"]}


def script_text(script: "Script") -> str:
    """What the similarity check compares: the narration, scene by scene."""
    return "\n\n".join(sc.narration for sc in script.scenes)


def embedding(c, vid: str, script: "Script") -> Ref:
    """The narration's sentence embedding of one video, read by every similarity check of its brand. Its params
    are the text, so it re-runs only when that narration changes. It belongs to the brand, not to the video
    (`<brand>/_qc/embed/<slug>`, under the pseudo video `<brand>/_qc`; `_` is never in a slug): whichever video
    compiles first makes it, and a video that fails to compile or build never takes its siblings down with it."""
    brand, slug = vid.split("/", 1)
    sid = f"{brand}/_qc/embed/{slug}"
    if sid in c.plan.steps:  # made by an earlier video of the brand this compile: n videos ask for it n times
        return out(sid, "embedding.json")
    return out(make_step(c.plan, sid, f"{brand}/_qc", "embed.minilm", {"text": script_text(script)}), "embedding.json")


def embedding_index(c, brand: str, vid: str) -> Ref | None:
    """The brand's `embed.index` step over every video of the brand with a script (made once per compile), or
    None when this video has no sibling to compare with (no embedding, no model to load)."""
    sid = f"{brand}/_qc/embed-index"
    if sid in c.plan.steps:  # made by an earlier video of the brand: it has two members or more, this one among them
        return out(sid, "index.json")
    members = [(ovid, olv) for ovid, olv in sorted(c.project.videos.items())
               if olv.brand == brand and olv.script is not None and not needs_script(olv)]
    if not any(ovid != vid for ovid, _ in members):
        return None
    make_step(c.plan, sid, f"{brand}/_qc", "embed.index", {"videos": [ovid for ovid, _ in members]},
              {"embeddings": [embedding(c, ovid, olv.script) for ovid, olv in members]})
    return out(sid, "index.json")


def synthetic_sources(c, prefix: str, fmt_name: str) -> list[dict[str, Any]]:
    """What in this format's video and thumbnail is synthetic, by the renderers its steps use."""
    roots = [s for s in (f"{prefix}/assemble", f"{c.lv.id}/{fmt_name}/thumbnail") if s in c.plan.steps]
    found: list[dict[str, Any]] = []
    for sid in c.plan.closure(roots):
        what = SYNTHETIC_KINDS.get(c.plan.steps[sid].kind)
        if what is None:
            continue
        tail = sid.rsplit("/", 1)[-1]
        scene = int(tail) if tail.isdigit() else None
        if {"what": what, "scene": scene} not in found:
            found.append({"what": what, "scene": scene})
    return found


def script_checks(c, prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """Script, metadata and policy checks: one `qc.script` and one `qc.policy` step per format."""
    lv, brand, video, vid = c.lv, c.brand, c.video, c.lv.id
    thumb = c.res.thumbnail(script)
    scenes = []
    for sc in script.scenes:
        texts: list[list[Any]] = []
        if sc.visual.kind == "slide":
            texts.append([["visual", "title"], sc.visual.title])
            texts += [[["visual", "bullets", k], b] for k, b in enumerate(sc.visual.bullets)]
            texts.append([["visual", "body"], sc.visual.body])
        scenes.append({"narration": sc.narration, "texts": [t for t in texts if t[1]]})
    checks = make_step(c.plan, f"{prefix}/qc/script", vid, "qc.script", {
        "title": c.title, "description": video.description or (script.description or ""),
        "tags": list(video.tags) + list(script.tags) + list(brand.tags), "footer": brand.description_footer,
        "alt_titles": list(script.alt_titles), "thumbnail_text": thumb.text or "",
        "banned_phrases": list(brand.banned_phrases), "scenes": scenes,
        "thresholds": brand.qc.script.model_dump(mode="json")},
        {"metadata": out(f"{prefix}/metadata", "metadata.json"), "timeline": out(f"{prefix}/timeline", "timeline.json")})
    compare = brand.qc.policy.similarity_warn is not None or brand.qc.policy.similarity_error is not None
    index = embedding_index(c, lv.brand, vid) if compare else None
    channel = brand.channel
    declared = "channel" in brand.model_fields_set and "made_for_kids" in channel.model_fields_set
    policy = make_step(c.plan, f"{prefix}/qc/policy", vid, "qc.policy", {
        "video": vid, "synthetic": synthetic_sources(c, prefix, fmt_name),
        "synthetic_media": channel.synthetic_media, "made_for_kids": channel.made_for_kids,
        "made_for_kids_declared": declared, "thresholds": brand.qc.policy.model_dump(mode="json")},
        # nothing to compare with (the brand's only video, or the check is off): no embedding, no model to load
        {"embedding": embedding(c, vid, script) if index else None, "index": index})
    return [out(checks, "findings.json"), out(policy, "findings.json")]


def compile_qc(c, prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> Ref:
    """Every QC step of one format and the verdict over them; returns the ref to qc.json."""
    refs = media_checks(c, prefix, fmt_name, fmt, script) + text_checks(c, prefix, fmt_name, fmt, script) \
        + script_checks(c, prefix, fmt_name, fmt, script)
    verdict = make_step(c.plan, f"{prefix}/qc/verdict", c.lv.id, "qc.verdict", {
        "video": c.lv.id, "format": fmt_name, "thresholds": c.brand.qc.model_dump(mode="json")},
        {"findings": refs})
    return out(verdict, "qc.json")
