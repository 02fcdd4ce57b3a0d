"""The tag format of the original design: paste a script as tagged blocks, or export one to it.

    [title]The Maillard Reaction, Explained[/title]
    [alt_title]Why Seared Steak Tastes Better[/alt_title]
    [thumbnail]BROWN = FLAVOUR[/thumbnail]
    [description]Why browned food tastes so good.[/description]
    [tags]maillard reaction, searing[/tags]
    [length]90s[/length]

    [chapter]The chemistry[/chapter]
    [narration]The Maillard reaction happens when proteins and sugars meet high heat.[/narration]
    [slide]
    # Maillard reaction
    - Proteins plus sugars
    - High, dry heat
    [/slide]

Every [narration] starts a scene; the visual block after it ([slide], [image], [clip], [manim],
[remotion], [avatar]) is that scene's picture, [chapter] names the chapter the next scene starts
and [settings] (YAML) sets anything else of the scene (voice, audio, pad ...). [image] holds a
local picture's path or, for anything else, a prompt for a generated image. [manim] and [remotion]
take YAML (`template:` + `params:`, or the name on the first line and the params below it). Opening
tags take attributes: [slide template=bold], [image seed=3 motion=pan_left]. Inside a block only
its own closing tag ends it, so brackets in narration are fine; its own opening tag inside it is an
error (a forgotten [/slide] would swallow the scenes after it). Lines starting with # between
blocks are comments. Errors point at file:line:col.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import Diagnostic, SpecError
from .project import MEDIA_SUFFIXES
from .yamlpos import safe_load
from core.spec import Scene, Script

META = ("title", "alt_title", "thumbnail", "description", "tags", "length")
VISUALS = ("slide", "image", "genimage", "clip", "manim", "remotion", "avatar")
SCENE = ("narration", "chapter", "settings")
TAGS = META + VISUALS + SCENE
_OPEN = re.compile(r"\[(/?)([A-Za-z_]+)((?:\s+[A-Za-z_]+=(?:\"[^\"]*\"|[^\s\]]+))*)\s*\]")
_ATTR = re.compile(r"([A-Za-z_]+)=(\"[^\"]*\"|[^\s\]]+)")


@dataclass
class Block:
    tag: str
    attrs: dict[str, Any]
    body: str
    line: int
    col: int


@dataclass
class _Scene:
    line: int
    narration: str
    chapter: str | None = None
    visual: dict | None = None
    visual_line: int = 0
    settings: dict = field(default_factory=dict)


class _Errors:
    def __init__(self, file: str, source: str):
        self.file, self.source, self.items = file, source, []

    def add(self, line: int, col: int, message: str) -> None:
        self.items.append(Diagnostic(self.file, line, col, "", message, "tagformat", self.source))

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)


def _linecol(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _attr_value(raw: str) -> Any:
    if raw.startswith('"'):
        return raw[1:-1]
    try:
        v = safe_load(raw)
    except yaml.YAMLError:
        return raw
    return v if isinstance(v, (int, float, bool)) else raw


def _clean(body: str) -> str:
    return textwrap.dedent(body.strip("\n")).strip()


def tokenize(text: str, errors: _Errors) -> list[Block]:
    blocks: list[Block] = []
    pos, n = 0, len(text)
    while pos < n:
        ws = re.compile(r"\s+").match(text, pos)
        if ws:
            pos = ws.end()
            continue
        line, col = _linecol(text, pos)
        if text.startswith("#", pos):  # a comment line between blocks
            nl = text.find("\n", pos)
            pos = n if nl < 0 else nl + 1
            continue
        m = _OPEN.match(text, pos)
        if not m:
            stray = text[pos:text.find("\n", pos) if "\n" in text[pos:] else n][:40]
            errors.add(line, col, f"text outside a tag: {stray!r} (put it in a block such as [narration]...[/narration])")
            nl = text.find("\n", pos)
            pos = n if nl < 0 else nl + 1
            continue
        closing, tag = m.group(1), m.group(2).lower()
        if tag not in TAGS:
            errors.add(line, col, f"unknown tag [{m.group(2)}] (tags: {', '.join(TAGS)})")
            pos = m.end()
            continue
        if closing:
            errors.add(line, col, f"[/{tag}] closes a block that was never opened")
            pos = m.end()
            continue
        close = re.compile(r"\[/" + tag + r"\]", re.I).search(text, m.end())
        again = _reopened(text, tag, m.end(), close.start() if close else n)
        if again is not None:
            # a forgotten [/slide] would otherwise swallow every scene up to the next slide's [/slide]
            aline, acol = _linecol(text, again)
            errors.add(line, col, f"[{tag}] is not closed before the next [{tag}] at line {aline}:{acol}: "
                                  f"add [/{tag}] after its text")
            # go on at the next tag, as if the block had been closed there, so later errors are real ones
            pos = next((t.start() for t in _OPEN.finditer(text, m.end(), again + 1)
                        if not t.group(1) and t.group(2).lower() in TAGS), again)
            continue
        if not close:
            errors.add(line, col, f"[{tag}] is never closed: add [/{tag}] after its text")
            return blocks
        attrs = {k.lower(): _attr_value(v) for k, v in _ATTR.findall(m.group(3))}
        blocks.append(Block(tag, attrs, text[m.end():close.start()], line, col))
        pos = close.end()
    return blocks


def _reopened(text: str, tag: str, start: int, end: int) -> int | None:
    """Where an opening tag of the same kind appears again inside an open block (`[slide]` ... `[slide]`)."""
    for m in _OPEN.finditer(text, start, end):
        if not m.group(1) and m.group(2).lower() == tag:
            return m.start()
    return None


# --------------------------------------------------------------- parse --

def _yaml_body(block: Block, errors: _Errors) -> Any:
    try:
        return safe_load(_clean(block.body)) if _clean(block.body) else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        errors.add(block.line + (mark.line if mark else 0) + (1 if block.body.startswith("\n") else 0), 1,
                   f"[{block.tag}] holds invalid YAML: {getattr(exc, 'problem', None) or exc}")
        return None


def _named(block: Block, errors: _Errors, name_key: str, data_key: str) -> dict:
    """[manim]/[remotion]: a YAML mapping of the visual's fields, or the name on line one + data below."""
    fields = {name_key, data_key, "file", "scene"}
    body = _clean(block.body)
    out: dict = {}
    try:
        data = safe_load(body) if body else None
    except yaml.YAMLError:
        data = None
    first, _, rest = body.partition("\n")
    if isinstance(data, dict) and set(data) & fields:
        out.update(data)
    elif body:
        if re.fullmatch(r"[A-Za-z0-9_.-]+", first.strip()):
            out[name_key] = first.strip()
            params = _yaml_body(Block(block.tag, {}, rest, block.line + 1, 1), errors) if rest.strip() else None
            if params is not None and not isinstance(params, dict):
                errors.add(block.line, block.col, f"[{block.tag}]: the lines after the name must be a YAML mapping of {data_key}")
            elif params:
                out[data_key] = params
        elif isinstance(data, dict):
            out[data_key] = data
        else:
            _yaml_body(block, errors)  # reports the YAML error, if that is the problem
            if not errors.items or errors.items[-1].line < block.line:
                errors.add(block.line, block.col, f"[{block.tag}] needs YAML: `{name_key}: ...` and `{data_key}: ...`, "
                                                  f"or the {name_key} on the first line")
    out.update(block.attrs)
    return out


def _slide(block: Block) -> dict:
    vis: dict[str, Any] = {"kind": "slide"}
    bullets, body = [], []
    for raw in _clean(block.body).splitlines():
        line = raw.strip()
        if not line:
            if body and body[-1] != "":
                body.append("")
            continue
        if re.match(r"#{1,6}\s", line) and "title" not in vis:
            vis["title"] = line.lstrip("#").strip()
        elif re.match(r"([-*+]|\d+[.)])\s+", line):
            bullets.append(re.sub(r"^([-*+]|\d+[.)])\s+", "", line))
        elif m := re.fullmatch(r"!\[[^\]]*\]\(([^)]+)\)", line):
            vis["image"] = m.group(1).strip()
        else:
            body.append(line)
    if bullets:
        vis["bullets"] = bullets
    text = "\n".join(body).strip()
    if text:
        vis["body"] = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    vis.update(block.attrs)
    return vis


def _is_media(text: str, kind: str) -> bool:
    return bool(text) and not re.search(r"\s", text) and Path(text).suffix.lower() in MEDIA_SUFFIXES[kind]


def _visual(block: Block, errors: _Errors) -> dict | None:
    body = _clean(block.body)
    if block.tag == "slide":
        return _slide(block)
    if block.tag in ("image", "genimage"):
        if block.tag == "image" and _is_media(body, "image"):
            return {"kind": "image", "file": body, **block.attrs}
        return {"kind": "genimage", "prompt": " ".join(body.split()), **block.attrs}
    if block.tag == "clip":
        return {"kind": "clip", "file": body, **block.attrs}
    if block.tag == "manim":
        return {"kind": "manim", **_named(block, errors, "template", "params")}
    if block.tag == "remotion":
        return {"kind": "remotion", **_named(block, errors, "composition", "props")}
    data = _yaml_body(block, errors) if body else {}
    if data is not None and not isinstance(data, dict):
        errors.add(block.line, block.col, "[avatar] takes an optional YAML mapping (layout, over)")
        data = {}
    return {"kind": "avatar", **(data or {}), **block.attrs}


def parse_duration(text: str) -> float | None:
    """'90', '90s', '1:30', '2 min', '2m30s', '1.5 minutes' -> seconds."""
    t = text.strip().lower()
    if m := re.fullmatch(r"(\d+):([0-5]?\d)", t):
        return int(m.group(1)) * 60 + int(m.group(2))
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?)?", t):
        return float(m.group(1))
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?)(?:\s*(\d+)\s*(s|sec|secs|seconds?)?)?", t):
        return float(m.group(1)) * 60 + (int(m.group(3)) if m.group(3) else 0)
    return None


def parse(text: str, file: str = "<script>") -> Script:
    """Tag-format text -> a validated Script; every problem is a SpecError diagnostic with line and column."""
    errors = _Errors(file, text)
    blocks = tokenize(text, errors)
    meta: dict[str, Any] = {}
    alt_titles: list[str] = []
    scenes: list[_Scene] = []
    chapter: tuple[str, int] | None = None
    lines: dict[str, int] = {}  # where each script-level field was given, for validation errors
    for b in blocks:
        body = _clean(b.body)
        if b.tag in META:
            lines.setdefault({"alt_title": "alt_titles", "length": "length_s"}.get(b.tag, b.tag), b.line)
        if b.tag in ("title", "description", "tags", "length", "thumbnail") and b.tag in meta:
            errors.add(b.line, b.col, f"a second [{b.tag}] block (give it once)")
            continue
        if b.tag == "title":
            meta["title"] = " ".join(body.split())
        elif b.tag == "alt_title":
            alt_titles.append(" ".join(body.split()))
        elif b.tag == "description":
            meta["description"] = body
        elif b.tag == "tags":
            meta["tags"] = [t.strip() for t in re.split(r"[,\n]", body) if t.strip()]
        elif b.tag == "length":
            secs = parse_duration(body)
            if secs is None:
                errors.add(b.line, b.col, f"[length] {body!r} is not a duration (e.g. 90s, 1:30, 2 min)")
            else:
                meta["length"] = secs
        elif b.tag == "thumbnail":
            data = _yaml_body(b, errors) if ":" in body and "\n" in body or body.startswith(("text:", "prompt:")) else None
            meta["thumbnail"] = {**(data if isinstance(data, dict) else {"text": " ".join(body.split())}), **b.attrs}
        elif b.tag == "chapter":
            chapter = (" ".join(body.split()), b.line)
        elif b.tag == "narration":
            scenes.append(_Scene(b.line, body, chapter[0] if chapter else None))
            chapter = None
        elif b.tag == "settings":
            if not scenes:
                errors.add(b.line, b.col, "[settings] before the first [narration]: settings belong to a scene")
                continue
            data = _yaml_body(b, errors)
            if data is not None and not isinstance(data, dict):
                errors.add(b.line, b.col, "[settings] takes a YAML mapping, e.g. `voice: chef`")
            elif data:
                scenes[-1].settings.update(data)
        else:  # a visual
            if not scenes:
                errors.add(b.line, b.col, f"[{b.tag}] before the first [narration]: a visual belongs to the scene "
                                          "whose narration comes before it")
                continue
            if scenes[-1].visual is not None:
                errors.add(b.line, b.col, f"a second visual for the scene at line {scenes[-1].line} "
                                          f"(one visual per [narration])")
                continue
            scenes[-1].visual = _visual(b, errors)
            scenes[-1].visual_line = b.line
    if chapter is not None:
        errors.add(chapter[1], 1, "[chapter] after the last scene: a chapter starts at the next [narration]")
    if not scenes and not errors.items:
        errors.add(1, 1, "no [narration] block: a script needs at least one scene")
    errors.raise_if_any()

    data: dict[str, Any] = {"scenes": []}
    for k in ("title", "description", "tags"):
        if k in meta:
            data[k] = meta[k]
    if alt_titles:
        data["alt_titles"] = alt_titles
    if "length" in meta:
        data["length_s"] = meta["length"]
    if "thumbnail" in meta:
        data["thumbnail"] = meta["thumbnail"]
    for sc in scenes:
        raw = {**sc.settings, "narration": sc.narration}
        if sc.chapter:
            raw["chapter"] = sc.chapter
        if sc.visual is not None:
            raw["visual"] = sc.visual
        data["scenes"].append(raw)
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            loc = tuple(e["loc"])
            line = lines.get(str(loc[0]), 1) if loc else 1
            if loc and loc[0] == "scenes" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(scenes):
                sc = scenes[loc[1]]
                line = sc.visual_line if "visual" in loc and sc.visual_line else sc.line
            where = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in loc).lstrip(".")
            msg = e["msg"][len("Value error, "):] if e["msg"].startswith("Value error, ") else e["msg"]
            errors.add(line, 1, f"{where}: {'unknown attribute or field' if e['type'] == 'extra_forbidden' else msg}")
        errors.raise_if_any()
        raise


# -------------------------------------------------------------- export --

def _attrs(d: dict) -> str:
    out = []
    for k, v in d.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        s = str(v)
        out.append(f'{k}="{s}"' if (not s or re.search(r'[\s\]"]', s) or s != str(_attr_value(s))) else f"{k}={s}")
    return (" " + " ".join(out)) if out else ""


def _block_text(tag: str, body: str, attrs: dict | None = None, multiline: bool = False) -> str:
    if re.search(r"\[/" + tag + r"\]", body, re.I) or _reopened(body, tag, 0, len(body)) is not None:
        raise ValueError(f"text contains [{tag}] or [/{tag}] and cannot be exported to the tag format")
    if multiline or "\n" in body:
        return f"[{tag}{_attrs(attrs or {})}]\n{body}\n[/{tag}]"
    return f"[{tag}{_attrs(attrs or {})}]{body}[/{tag}]"


def _yaml(d: dict) -> str:
    return yaml.safe_dump(d, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False).strip()


def _seconds(s: float) -> str:
    return f"{int(s)}s" if float(s).is_integer() else f"{s:g}s"


def export(script: Script, header: str | None = None) -> str:
    """A Script in the tag format; `parse(export(s))` gives `s` back (without its `generated:` block)."""
    parts: list[str] = []
    if script.title:
        parts.append(_block_text("title", script.title))
    parts += [_block_text("alt_title", a) for a in script.alt_titles]
    if script.description:
        parts.append(_block_text("description", script.description))
    if script.tags:
        parts.append(_block_text("tags", ", ".join(script.tags)))
    if script.thumbnail:
        th = script.thumbnail.model_dump(exclude_none=True)
        if set(th) == {"text"} and "\n" not in th["text"]:
            parts.append(_block_text("thumbnail", th["text"]))
        elif th:
            parts.append(_block_text("thumbnail", _yaml(th), multiline=True))
    if script.length_s:
        parts.append(_block_text("length", _seconds(script.length_s)))
    parts = ["\n".join([f"# {line}" for line in (header or "").splitlines()] + parts)]
    for sc in script.scenes:
        chunk = []
        if sc.chapter:
            chunk.append(_block_text("chapter", sc.chapter))
        chunk.append(_block_text("narration", sc.narration))
        chunk.append(_export_visual(sc))
        settings = sc.model_dump(mode="json", exclude_none=True, exclude_defaults=True,
                                 exclude={"narration", "visual", "chapter"})
        if settings:
            chunk.append(_block_text("settings", _yaml(settings), multiline=True))
        parts.append("\n".join(chunk))
    return "\n\n".join(p for p in parts if p) + "\n"


def _export_visual(sc: Scene) -> str:
    v = sc.visual
    d = v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    d.pop("kind", None)
    if v.kind == "slide":
        attrs = {k: d.pop(k) for k in ("template",) if k in d}
        lines = []
        if v.title:
            lines.append(f"# {v.title}")
        lines += [f"- {b}" for b in v.bullets]
        if v.body:
            lines += (["", v.body] if lines else [v.body])
        if v.image:
            lines.append(f"![]({v.image})")
        return _block_text("slide", "\n".join(lines), attrs, multiline=True)
    if v.kind == "image":
        file = d.pop("file")
        return _block_text("image", file, d)
    if v.kind == "genimage":
        prompt = d.pop("prompt")
        return _block_text("image", prompt, d) if not _is_media(prompt, "image") else _block_text("genimage", prompt, d)
    if v.kind == "clip":
        file = d.pop("file")
        return _block_text("clip", file, d)
    if v.kind == "remotion":
        d = {"composition": v.composition, **d}
    if v.kind in ("manim", "remotion", "avatar"):
        return _block_text(v.kind, _yaml(d) if d else "", multiline=bool(d))
    raise ValueError(f"visual kind {v.kind!r} has no tag")
