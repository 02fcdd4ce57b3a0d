"""QC steps of one video format (issue 11, contract in core/qc.py), compiled for the final profile only.

Each function below adds the QC steps of one area to `c.plan` and returns refs to their `findings.json`.
They find the steps they check by the plan's id conventions (prefix = "<vid>/<format>"):
  narration  <vid>/narration/NN          segment   <prefix>/segment/NN      slide  <prefix>/slide/NN
  timeline   <prefix>/timeline           captions  <prefix>/captions        assembly <prefix>/assemble
  metadata   <prefix>/metadata           thumbnail <vid>/<format>/thumbnail  script files <vid>/scriptfiles
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import renderers

from .plan import Ref, make_step, out

if TYPE_CHECKING:
    from core.spec import FormatPreset, Scene, Script

    from .plan import Compiler


def media_checks(c: "Compiler", prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """Audio, picture and caption checks (per scene where the check is per scene)."""
    return []


def text_checks(c: "Compiler", prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
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


def script_checks(c: "Compiler", prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """Script, metadata and policy checks."""
    return []
