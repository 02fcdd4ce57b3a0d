"""QC of on-screen text: judges what Chromium measured while rendering the slides and the thumbnail.

The measuring happens in slide.html and thumbnail.html (renderers/_lib/onscreen.py puts it in their facts);
this step only reads those facts (`ctx.input_facts`) against the brand's `qc.text` thresholds, so it costs
milliseconds and re-runs only when a slide or the thumbnail changes, or the thresholds do. Its inputs are
the images themselves: their digests key the step. Facts are not part of a key, so `measured_by` carries the
measuring renderers' versions: a new way of measuring re-judges even where the pixels stayed the same.

Checks (docs/quality.md, "Text on screen"): text.clipped, text.overflow, text.caption_area,
text.logo_overlap, text.min_size, text.contrast, thumbnail.word_count, thumbnail.readability.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import StepError
from core.qc import Finding, QCFindings
from core.spec import QCText
from core.store import atomic_write_json

from .base import Context, Params, Renderer

FieldPath = list[str | int]


class SlideText(BaseModel):
    """Where one slide's text comes from: its scene, and the spec field behind each text the template names."""

    model_config = ConfigDict(extra="forbid")
    scene: int = Field(ge=0)
    at_s: float | None = None
    fields: dict[str, FieldPath] = Field(default_factory=dict,
                                         description='template text name ("title", "bullets", "body") -> spec field '
                                                     'path relative to the scene; a bullet appends its index')


def _label(name: str, text: str, thumbnail: bool) -> str:
    if name == "brand":
        return "the brand label" if thumbnail else "the brand footer"
    if name == "text":
        return "the thumbnail text"
    if name.startswith("bullets."):
        return f"bullet {int(name.split('.')[1]) + 1}"
    if name in ("title", "body"):
        return f"the {name}" if name == "title" else "the body text"
    return f"the text {text[:40]!r}"


def _field(name: str, fields: dict[str, FieldPath]) -> FieldPath | None:
    if name.startswith("bullets.") and "bullets" in fields:
        return [*fields["bullets"], int(name.split(".")[1])]
    return list(fields[name]) if name in fields else None


def judge(text: dict[str, Any], t: QCText, *, scene: int | None, at_s: float | None, fields: dict[str, FieldPath],
          thumbnail: bool = False) -> tuple[list[Finding], dict[str, float]]:
    """Findings and worst-case scores of one rendered frame's text measurements (onscreen.summarize)."""
    width, height = text["frame"]
    k = 1080 / min(width, height)  # px of this frame -> px of a 1080p frame
    layout = "metadata.thumbnail" if thumbnail else "visual.text_overflow"
    legibility = "metadata.thumbnail" if thumbnail else "visual.low_quality"
    safe = text.get("caption_safe") or 0.0
    area = "thumbnail" if thumbnail else "text"  # score names: text.* for slides, thumbnail.* for the thumbnail
    findings: list[Finding] = []
    scores: dict[str, float] = {}
    # the thumbnail's words: the element the template names "text", else (an unannotated template) the biggest text
    named = [el for el in text["elements"] if el["name"] == "text"]
    main = (named or sorted(text["elements"], key=lambda el: -el["px"])[:1] or [None])[0] if thumbnail else None

    def score(name: str, value: float, worst=max) -> None:
        scores[name] = round(worst(scores[name], value), 3) if name in scores else round(value, 3)

    def add(check: str, severity: str, reason: str, el: dict, message: str, value: float, limit: float) -> None:
        findings.append(Finding(check=check, scene=scene, at_s=at_s, severity=severity, reason=reason, message=message,
                                field=_field(el["name"], fields), value=round(value, 2), limit=round(limit, 2)))

    if text.get("fit_scales"):  # how far shrink-to-fit had to go (1: not at all, 0: down to the minimum)
        score(f"{area}.min_fit_scale", min(text["fit_scales"]), min)
    for el in text["elements"]:
        what = _label(el["name"], el["text"], thumbnail)
        shrunk = (f" even at its smallest size ({el['px']:g} px)" if el.get("fit_min") and el["px"] <= el["fit_min"]
                  else "")
        clipped, over = el["clipped_px"] * k, el["overflow_px"] * k
        score(f"{area}.max_clipped_px", clipped)
        score(f"{area}.max_overflow_px", over)
        if clipped > t.tolerance_px:
            add("text.clipped", "error", layout, el,
                f"{what} is cut off: it runs {clipped:.0f} px (at 1080p) past the edge of the frame or of the box that "
                f"clips it{shrunk}; "
                "shorten it or split it over two scenes", clipped, t.tolerance_px)
        elif over > t.tolerance_px:
            add("text.overflow", "warning", layout, el,
                f"{what} runs {over:.0f} px (at 1080p) out of the area the template gives it{shrunk}; shorten it",
                over, t.tolerance_px)
        intrusion = el.get("caption_px", 0.0) * k
        if safe:
            score("text.max_caption_px", intrusion)
        if intrusion > t.tolerance_px:
            add("text.caption_area", "warning", layout, el,
                f"{what} reaches {intrusion:.0f} px (at 1080p) into the bottom {safe:.0%} of the frame kept free for "
                "burned-in captions, which will cover it; shorten the slide's text", intrusion, t.tolerance_px)
        under = el["logo_px2"] * k * k
        score(f"{area}.logo_overlap_px2", under)
        if under > t.tolerance_px ** 2:
            add("text.logo_overlap", "warning", layout, el,
                f"{what} runs under the logo ({under:.0f} px² at 1080p); shorten it", under, t.tolerance_px ** 2)
        px = el["px"] * k
        if not thumbnail:
            score("text.min_px", px, min)
            if px < t.min_px:
                add("text.min_size", "warning", legibility, el,
                    f"{what} is {px:.0f} px tall at 1080p, below the {t.min_px:g} px minimum: too small to read "
                    "on a phone", px, t.min_px)
        worst = None
        for run in el.get("runs", []):
            if "contrast" not in run:
                continue
            large = run["px"] * k >= t.large_px or (run["weight"] >= 700 and run["px"] * k >= t.large_bold_px)
            need = t.min_contrast_large if large else t.min_contrast
            if worst is None or run["contrast"] / need < worst[0]["contrast"] / worst[1]:
                worst = (run, need, large)
        if worst is not None:
            run, need, large = worst
            score(f"{area}.min_contrast", run["contrast"], min)
            score(f"{area}.min_contrast_margin", run["contrast"] / need, min)
            if run["contrast"] < need:
                where = "the picture behind it" if run.get("bg_kind") == "image" else run["bg"]
                severity = "error" if run["contrast"] < t.reject_contrast else "warning"
                add("text.contrast", severity, legibility, el,
                    f"{what} ({run['fg']} on {where}) has a contrast of {run['contrast']:.2f}:1, below WCAG AA "
                    f"{need:g}:1 for {'large' if large else 'normal'} text; use palette colours further apart"
                    + (" or a darker shade behind the text" if run.get("bg_kind") == "image" else ""),
                    run["contrast"], need)
        if thumbnail and el is main:
            cap = el["cap_px"] * 320 / width
            score("thumbnail.cap_px_320", cap, min)
            if cap < t.thumbnail_min_cap_px:
                add("thumbnail.readability", "warning", legibility, el,
                    f"{what} is {cap:.1f} px tall (cap height) when the thumbnail is shown 320 px wide, below "
                    f"{t.thumbnail_min_cap_px:g} px: unreadable in a feed; use fewer, shorter words", cap,
                    t.thumbnail_min_cap_px)
            score("thumbnail.words", el["words"])
            if el["words"] > t.thumbnail_max_words:
                add("thumbnail.word_count", "warning", "metadata.thumbnail", el,
                    f"{what} has {el['words']} words; at most {t.thumbnail_max_words} read at a glance in a feed "
                    "(a few punchy words; the title says the rest)", el["words"], t.thumbnail_max_words)
    return findings, scores


class TextQC(Renderer):
    kind = "qc.text"
    version = 1
    inputs = ("thumbnail",)
    optional_inputs = ("slides",)
    outputs = ("findings.json",)

    class Params(Params):
        slides: list[SlideText] = Field(default_factory=list, description="one per `slides` input, in order")
        thumbnail_field: FieldPath = Field(default_factory=lambda: ["title"],
                                           description="the video spec field the thumbnail's words come from")
        thresholds: QCText = Field(default_factory=QCText)
        measured_by: dict[str, int] = Field(default_factory=dict, description="versions of the measuring renderers")

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        measured = ctx.input_facts.get("slides", [])
        if len(measured) != len(p.slides):
            raise StepError(f"qc.text got {len(measured)} slides for {len(p.slides)} slide entries")
        findings: list[Finding] = []
        scores: dict[str, float] = {}

        def merge(found: tuple[list[Finding], dict[str, float]]) -> None:
            findings.extend(found[0])
            for name, v in found[1].items():
                worse = min if ".min" in name or "cap_px" in name else max
                scores[name] = worse(scores[name], v) if name in scores else v

        for where, facts in zip(p.slides, measured):
            merge(judge(_text(facts, f"the slide of scene {where.scene}"), p.thresholds, scene=where.scene,
                        at_s=where.at_s, fields=where.fields))
        merge(judge(_text(ctx.input_facts.get("thumbnail") or {}, "the thumbnail"), p.thresholds, scene=None,
                    at_s=None, fields={"text": p.thumbnail_field}, thumbnail=True))
        atomic_write_json(ctx.out("findings.json"), QCFindings(findings=findings, scores=scores).to_json())
        return {"findings": len(findings), "errors": sum(f.severity == "error" for f in findings),
                "warnings": sum(f.severity == "warning" for f in findings)}


def _text(facts: dict, what: str) -> dict:
    text = facts.get("text")
    if not isinstance(text, dict) or "elements" not in text:
        raise StepError(f"{what} carries no text measurements (rendered by an older slide/thumbnail renderer?)",
                        hint="rebuild: slide.html >= 3 and thumbnail.html >= 2 measure their text")
    return text
