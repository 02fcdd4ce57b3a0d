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

from .project import needs_script
from .steps import Ref, make_step, out

if TYPE_CHECKING:
    from core.spec import FormatPreset, Script

# Renderer kinds whose output is synthetic media (YouTube's "altered or synthetic content" declaration).
SYNTHETIC_KINDS = {"tts.piper": "a synthetic (TTS) voice", "tts.espeak": "a synthetic (TTS) voice",
                   "image.diffusers": "a generated picture", "video.diffusers": "a generated video clip",
                   "avatar.heygen": "an AI avatar"}


def media_checks(c, prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """Audio, picture and caption checks (per scene where the check is per scene)."""
    return []


def text_checks(c, prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """On-screen text of slides and the thumbnail (measured in Chromium when they render)."""
    return []


def script_text(script: "Script") -> str:
    """What the similarity check compares: the narration, scene by scene."""
    return "\n\n".join(sc.narration for sc in script.scenes)


def embedding(c, vid: str, script: "Script") -> Ref:
    """The narration's sentence embedding of one video, read by every similarity check of its brand. Its params
    are the text, so it re-runs only when that narration changes. It belongs to the brand, not to the video
    (`<brand>/_qc/embed/<slug>`, under the pseudo video `<brand>/_qc`; `_` is never in a slug): whichever video
    compiles first makes it, and a video that fails to compile or build never takes its siblings down with it."""
    brand, slug = vid.split("/", 1)
    return out(make_step(c.plan, f"{brand}/_qc/embed/{slug}", f"{brand}/_qc", "embed.minilm",
                         {"text": script_text(script)}), "embedding.json")


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
    others: list[Ref] = []
    names: list[str] = []
    compare = brand.qc.policy.similarity_warn is not None or brand.qc.policy.similarity_error is not None
    for ovid, olv in sorted(c.project.videos.items()):
        if not compare or ovid == vid or olv.brand != lv.brand or olv.script is None or needs_script(olv):
            continue
        others.append(embedding(c, ovid, olv.script))
        names.append(ovid)
    channel = brand.channel
    declared = "channel" in brand.model_fields_set and "made_for_kids" in channel.model_fields_set
    policy = make_step(c.plan, f"{prefix}/qc/policy", vid, "qc.policy", {
        "others": names, "synthetic": synthetic_sources(c, prefix, fmt_name),
        "synthetic_media": channel.synthetic_media, "made_for_kids": channel.made_for_kids,
        "made_for_kids_declared": declared, "thresholds": brand.qc.policy.model_dump(mode="json")},
        # nothing to compare with (the brand's only video, or the check is off): no embedding, no model to load
        {"embedding": embedding(c, vid, script) if others else None, "others": others or None})
    return [out(checks, "findings.json"), out(policy, "findings.json")]


def compile_qc(c, prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> Ref:
    """Every QC step of one format and the verdict over them; returns the ref to qc.json."""
    refs = media_checks(c, prefix, fmt_name, fmt, script) + text_checks(c, prefix, fmt_name, fmt, script) \
        + script_checks(c, prefix, fmt_name, fmt, script)
    verdict = make_step(c.plan, f"{prefix}/qc/verdict", c.lv.id, "qc.verdict", {
        "video": c.lv.id, "format": fmt_name, "thresholds": c.brand.qc.model_dump(mode="json")},
        {"findings": refs})
    return out(verdict, "qc.json")
