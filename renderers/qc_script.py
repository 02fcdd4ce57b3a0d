"""QC of the script and its YouTube metadata: limits, banned phrases, chapters, reading level, the hook.

The metadata step (renderers/metadata.py) cuts a title, description or tag list to fit YouTube's limits, so
an upload never fails on them; this check says when that cutting happened (a clipped title nobody wrote is a
defect). Findings point at the spec field they come from (core/qc.py): ["title"], ["description"], ["tags"],
["alt_titles", k], ["thumbnail", "text"] on the video, or (scene, ["narration"] / ["chapter"] /
["visual", "bullets", k]) on a scene. Severities come from the brand's `qc.script` thresholds.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from core.qc import Finding, QCFindings
from core.spec import QCScript

from ._lib.chapters import CHAPTER_MIN_S, CHAPTERS_MIN, clock, plan_chapters
from ._lib.readability import fk_grade
from .base import Context, Params, Renderer
from .metadata import clean, tags_length


def phrase_pattern(phrase: str) -> re.Pattern:
    """A banned phrase as whole words, any case, any run of spaces between its words."""
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def sentence_start(scene: dict, text: str, start: int) -> float:
    """When the sentence holding text[start:] begins (timeline.json's sentence timings), else the scene's start."""
    seen = 0
    for s in scene.get("sentences", []):
        at = text.find(s["text"], seen)
        if at < 0:
            continue
        if at <= start < at + len(s["text"]):
            return round(float(s["start"]), 2)
        seen = at
    return round(float(scene["start_s"]), 2)


class ScriptQC(Renderer):
    kind = "qc.script"
    version = 1
    inputs = ("metadata", "timeline")
    outputs = ("findings.json",)

    class Params(Params):
        title: str
        description: str = ""
        tags: list[str] = []
        footer: str = ""
        alt_titles: list[str] = []
        thumbnail_text: str = ""
        banned_phrases: list[str] = []
        scenes: list[dict[str, Any]]  # {narration, texts: [[field path, text], ...]} per scene
        thresholds: QCScript = QCScript()

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        t: QCScript = p.thresholds
        meta = json.loads(Path(ctx.inputs["metadata"]).read_text(encoding="utf-8"))
        tl = json.loads(Path(ctx.inputs["timeline"]).read_text(encoding="utf-8"))
        findings: list[Finding] = []
        scores: dict[str, float] = {}

        def add(check: str, severity: str, reason: str, message: str, **kw) -> None:
            if severity in ("info", "warning", "error"):
                findings.append(Finding(check=f"script.{check}", severity=severity, reason=reason, message=message,
                                        **kw))

        # ---- YouTube limits (what metadata.json had to cut) ----
        title = " ".join(p.title.split())
        scores["script.title_chars"] = float(len(title))
        if len(title) > t.title_max_chars:
            add("title_length", t.limits_severity, "metadata.title",
                f"the title has {len(title)} characters; YouTube allows {t.title_max_chars}, so it was cut to "
                f"{meta.get('title', '')!r}: shorten it", field=["title"], value=len(title), limit=t.title_max_chars)
        if re.search(r"[<>]", p.title):
            add("title_chars", t.limits_severity, "metadata.title",
                "the title contains < or >, which YouTube refuses; they were replaced by look-alikes (‹ ›): "
                "remove them", field=["title"])
        for k, alt in enumerate(p.alt_titles):
            a = " ".join(alt.split())
            if len(a) > t.title_max_chars or re.search(r"[<>]", a):
                add("alt_title_length", t.limits_severity, "metadata.title",
                    f"alternative title {k + 1} has {len(a)} characters" + (" and < or >" if re.search(r"[<>]", a)
                                                                             else "")
                    + f"; YouTube allows {t.title_max_chars} characters without < or >", field=["alt_titles", k],
                    value=len(a), limit=t.title_max_chars)
        lines = [f"{clock(c['start_s'])} {clean(c['title'])}" for c in meta.get("chapters", [])]
        parts = [clean(p.description).strip(), "Chapters\n" + "\n".join(lines) if lines else "",
                 clean(p.footer).strip()]
        wanted = len("\n\n".join(x for x in parts if x).encode("utf-8"))  # metadata.py's description, uncut
        scores["script.description_bytes"] = float(wanted)
        if wanted > t.description_max_bytes:
            add("description_length", t.limits_severity, "other",
                f"the description with its chapters and the brand footer needs {wanted} bytes; YouTube "
                f"allows {t.description_max_bytes}, so its text was cut: shorten it", field=["description"],
                value=wanted, limit=t.description_max_bytes)
        tags, seen = [], set()
        for tag in p.tags:
            tag = clean(" ".join(tag.split())).replace(",", " ").strip()
            if tag and tag.lower() not in seen:
                seen.add(tag.lower())
                tags.append(tag)
        length = tags_length(tags)
        scores["script.tags_chars"] = float(length)
        if length > t.tags_max_chars:
            dropped = [x for x in tags if x not in meta.get("tags", [])]
            add("tags_length", t.limits_severity, "other",
                f"the tags (video, script and brand together) count {length} characters; YouTube allows "
                f"{t.tags_max_chars}, so {len(dropped)} were left out ({', '.join(dropped[:5])}"
                f"{', ...' if len(dropped) > 5 else ''}): keep fewer", field=["tags"], value=length,
                limit=t.tags_max_chars)

        # ---- banned phrases ----
        hits = 0
        for phrase in p.banned_phrases:
            if not phrase.strip():
                continue
            rx = phrase_pattern(phrase)
            for i, sc in enumerate(p.scenes):
                tsc = tl["scenes"][i]
                for m in rx.finditer(sc["narration"]):
                    hits += 1
                    add("banned_phrase", t.banned_phrase_severity, "script.off_brand_tone",
                        f"the narration says the banned phrase {phrase!r} (brand banned_phrases): "
                        f"...{sc['narration'][max(0, m.start() - 30):m.end() + 30]}...", scene=i,
                        at_s=sentence_start(tsc, sc["narration"], m.start()), field=["narration"])
                for field, text in sc.get("texts", []):
                    if rx.search(text):
                        hits += 1
                        add("banned_phrase", t.banned_phrase_severity, "script.off_brand_tone",
                            f"the slide shows the banned phrase {phrase!r} (brand banned_phrases)", scene=i,
                            at_s=round(float(tsc["start_s"]), 2), field=list(field))
            for field, text in (("title", p.title), ("description", p.description)):
                if rx.search(text):
                    hits += 1
                    add("banned_phrase", t.banned_phrase_severity, "metadata.title" if field == "title" else "other",
                        f"the {field} contains the banned phrase {phrase!r} (brand banned_phrases)", field=[field])
            if p.thumbnail_text and rx.search(p.thumbnail_text):
                hits += 1
                add("banned_phrase", t.banned_phrase_severity, "metadata.thumbnail",
                    f"the thumbnail text contains the banned phrase {phrase!r} (brand banned_phrases)",
                    field=["thumbnail", "text"])
        scores["script.banned_phrases"] = float(hits)

        # ---- chapters (only the `chapter:` marks someone asked for) ----
        scenes = tl["scenes"]
        if any(sc.get("chapter") for sc in scenes):
            _, dropped = plan_chapters(scenes, tl["duration_s"])
            asked = [m for m in dropped if scenes[m["scene"]].get("chapter")]
            scores["script.chapters_dropped"] = float(len(asked))
            for m in asked:
                add("chapters", t.chapters_severity, "other",
                    f"chapter {m['title']!r} will not show on YouTube (chapters need the first at 0:00, at least "
                    f"{CHAPTERS_MIN}, each at least {CHAPTER_MIN_S:g} s): {m['reason']}", scene=m["scene"],
                    at_s=round(float(m["start_s"]), 2), field=["chapter"])

        # ---- reading level ----
        narration = "\n".join(sc["narration"] for sc in p.scenes)
        grade = fk_grade(narration)
        if grade is not None:
            scores["script.reading_grade"] = grade
            limit, severity = None, None
            if t.reading_grade_error is not None and grade > t.reading_grade_error:
                limit, severity = t.reading_grade_error, "error"
            elif t.reading_grade_warn is not None and grade > t.reading_grade_warn:
                limit, severity = t.reading_grade_warn, "warning"
            if severity:
                per = [(fk_grade(sc["narration"]) or 0.0, i) for i, sc in enumerate(p.scenes)]
                worst, i = max(per)
                add("reading_level", severity, "script.off_brand_tone",
                    f"the narration reads at US grade {grade:.1f} (Flesch-Kincaid; the brand's limit is {limit:g}); "
                    f"the hardest scene is {i + 1} (grade {worst:.1f}): use shorter sentences and simpler words",
                    scene=i, at_s=round(float(scenes[i]["start_s"]), 2), field=["narration"], value=grade, limit=limit)

        # ---- the hook: the first scene's narration ----
        first = scenes[0]
        hook_s = float(first.get("narration_s", first["end_s"] - first["start_s"]))
        hook_words = len(p.scenes[0]["narration"].split())
        scores["script.hook_s"] = round(hook_s, 2)
        scores["script.hook_words"] = float(hook_words)
        if t.hook_max_s is not None and hook_s > t.hook_max_s:
            add("hook_length", t.hook_severity, "script.weak_hook",
                f"the opening scene (the hook) is narrated for {hook_s:.1f} s; the brand's limit is {t.hook_max_s:g} s: "
                "get to the point sooner, or split the scene", scene=0, at_s=0.0, field=["narration"],
                value=round(hook_s, 2), limit=t.hook_max_s)
        elif t.hook_max_words is not None and hook_words > t.hook_max_words:
            add("hook_length", t.hook_severity, "script.weak_hook",
                f"the opening scene (the hook) has {hook_words} words; the brand's limit is {t.hook_max_words}: "
                "get to the point sooner, or split the scene", scene=0, at_s=0.0, field=["narration"],
                value=hook_words, limit=t.hook_max_words)

        result = QCFindings(findings=findings, scores=scores)
        ctx.out("findings.json").write_text(json.dumps(result.to_json(), sort_keys=True, indent=1))
        return {"findings": len(findings), "errors": sum(f.severity == "error" for f in findings)}
