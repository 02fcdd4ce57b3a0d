"""YouTube metadata: title, description with chapters from scene boundaries, tags, within limits.

Limits (YouTube Data API): title <= 100 characters without < or >; description <= 5000 UTF-8
bytes without < or >; tags <= 500 characters counted YouTube's way (commas count, a tag with a
space counts as quoted). Chapters need >= 3 entries, the first at 0:00, each >= 10 s: the scenes'
`chapter:` marks that cannot stand are merged away, and metadata.json, the step's facts and a warning
say which and why (a generated script lock already leaves out those its estimate drops).
"""
from __future__ import annotations

import json
from pathlib import Path

from ._lib.chapters import clock, dropped_messages, plan_chapters
from .base import Context, Params, Renderer

TITLE_MAX, DESCRIPTION_MAX_BYTES, TAGS_MAX = 100, 5000, 500


def clean(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


def fit_title(title: str) -> str:
    title = " ".join(clean(title).split())
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1].rstrip() + "…"


def tags_length(tags: list[str]) -> int:
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def fit_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    seen = set()
    for t in tags:
        t = clean(" ".join(t.split())).replace(",", " ").strip()
        if not t or t.lower() in seen or len(t) > 100:
            continue
        if tags_length(out + [t]) > TAGS_MAX:
            continue
        seen.add(t.lower())
        out.append(t)
    return out


def chapters(scenes: list[dict], duration: float) -> list[dict]:
    """The chapter marks YouTube will show ({start_s, title}); see renderers/_lib/chapters.py."""
    return [{"start_s": m["start_s"], "title": m["title"]} for m in plan_chapters(scenes, duration)[0]]


def fit_description(body: str, chapter_lines: list[str], footer: str) -> str:
    parts = [clean(body).strip()]
    if chapter_lines:
        parts.append("Chapters\n" + "\n".join(chapter_lines))
    if footer.strip():
        parts.append(clean(footer).strip())
    text = "\n\n".join(p for p in parts if p)
    data = text.encode("utf-8")
    if len(data) > DESCRIPTION_MAX_BYTES:
        # keep chapters and footer; shorten the body
        tail = "\n\n".join(p for p in parts[1:] if p)
        room = DESCRIPTION_MAX_BYTES - len(tail.encode("utf-8")) - 5
        b = parts[0].encode("utf-8")[: max(0, room)].decode("utf-8", "ignore").rstrip()
        text = f"{b}…\n\n{tail}" if tail else b
        text = text.encode("utf-8")[:DESCRIPTION_MAX_BYTES].decode("utf-8", "ignore")
    return text


class Metadata(Renderer):
    kind = "metadata.youtube"
    version = 3
    inputs = ("timeline",)
    outputs = ("metadata.json",)

    class Params(Params):
        title: str
        description: str = ""
        tags: list[str] = []
        footer: str = ""
        category: str = "27"
        language: str = "en"

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        tl = json.loads(Path(ctx.inputs["timeline"]).read_text())
        kept, dropped = plan_chapters(tl["scenes"], tl["duration_s"])
        chaps = [{"start_s": m["start_s"], "title": m["title"]} for m in kept]
        # only chapters someone asked for (`chapter:`) are worth a warning, not slide titles or the 0:00 "Intro"
        asked = [{"start_s": m["start_s"], "title": m["title"], "reason": m["reason"]} for m in dropped
                 if tl["scenes"][m["scene"]].get("chapter")]
        lines = [f"{clock(c['start_s'])} {clean(c['title'])}" for c in chaps]
        meta = {"title": fit_title(p.title), "description": fit_description(p.description, lines, p.footer),
                "tags": fit_tags(p.tags), "category": p.category, "language": p.language,
                "chapters": chaps, "chapters_dropped": asked, "duration_s": tl["duration_s"]}
        ctx.out("metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        warnings = dropped_messages(asked)
        notice = getattr(ctx, "notice", None)  # the engine's always-shown warnings, where it offers them
        for w in warnings:
            if notice:
                notice("warning", w)
        return {"chapters": len(chaps), "chapters_dropped": asked, "warnings": warnings,
                "description_bytes": len(meta["description"].encode("utf-8"))}
