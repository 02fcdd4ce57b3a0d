"""YouTube metadata: title, description with chapters from scene boundaries, tags, within limits.

Limits (YouTube Data API): title <= 100 characters without < or >; description <= 5000 UTF-8
bytes without < or >; tags <= 500 characters counted YouTube's way (commas count, a tag with a
space counts as quoted). Chapters need >= 3 entries, the first at 0:00, each >= 10 s.
"""
from __future__ import annotations

import json
from pathlib import Path

from .base import Context, Params, Renderer

TITLE_MAX, DESCRIPTION_MAX_BYTES, TAGS_MAX = 100, 5000, 500
CHAPTER_MIN_S, CHAPTERS_MIN = 10.0, 3


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


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def chapters(scenes: list[dict], duration: float) -> list[dict]:
    """Chapters start at scenes with `chapter:`; without any, at each new slide title.
    Chapters under 10 s are merged into their neighbour (YouTube ignores chapter lists otherwise)."""
    explicit = any(sc.get("chapter") for sc in scenes)
    marks: list[dict] = []
    for sc in scenes:
        name = sc.get("chapter") if explicit else sc.get("title")
        if not marks:
            marks.append({"start_s": 0.0, "title": name or "Intro"})
        elif name and name != marks[-1]["title"]:
            marks.append({"start_s": sc["start_s"], "title": name})
    kept = list(marks)
    i = 0
    while i < len(kept):
        end = kept[i + 1]["start_s"] if i + 1 < len(kept) else duration
        if end - kept[i]["start_s"] >= CHAPTER_MIN_S or len(kept) == 1:
            i += 1
        elif i == 0:
            del kept[1]  # the opening chapter must stay at 0:00: absorb the next one
        else:
            del kept[i]  # too short: its scenes join the previous chapter
            i = max(0, i - 1)
    return kept if len(kept) >= CHAPTERS_MIN else []


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
    version = 2
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
        chaps = chapters(tl["scenes"], tl["duration_s"])
        lines = [f"{clock(c['start_s'])} {clean(c['title'])}" for c in chaps]
        meta = {"title": fit_title(p.title), "description": fit_description(p.description, lines, p.footer),
                "tags": fit_tags(p.tags), "category": p.category, "language": p.language,
                "chapters": chaps, "duration_s": tl["duration_s"]}
        ctx.out("metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        return {"chapters": len(chaps), "description_bytes": len(meta["description"].encode("utf-8"))}
