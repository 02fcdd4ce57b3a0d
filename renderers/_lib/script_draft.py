"""The structured script an LLM fills in (script processing), its response schema and its checks.

The form is built per video from pydantic models: only the visual kinds this build renders, manim
templates with their own `Params` models, Remotion compositions with their props, local media that
exists. Problems come back as short lines an LLM can act on; they are fed back when re-asking.
"""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, create_model

from core.spec import (SLIDE_BULLET_MAX_CHARS, SLIDE_BULLETS_MAX, SLIDE_TITLE_MAX_CHARS, THUMBNAIL_TEXT_MAX_CHARS,
                       THUMBNAIL_TEXT_MAX_WORDS, TITLE_MAX_CHARS, Scene, Script, Thumbnail)

MAX_SCENE_WORDS = 110
MAX_BULLETS = SLIDE_BULLETS_MAX
MAX_BULLET_CHARS = SLIDE_BULLET_MAX_CHARS
TITLE_MAX = TITLE_MAX_CHARS
MAX_ALT_TITLES, MAX_TAGS = 5, 20
PY_TYPES = {"string": str, "number": float, "integer": int, "boolean": bool, "string[]": list[str], "number[]": list[float]}
# maxLength/minLength go to both providers: Gemini's responseJsonSchema and OpenAI-compatible json_schema take
# them (a server that ignores them still gets the limit in the description, and fit_reply trims locally)
SCHEMA_KEYS = {"type", "properties", "items", "required", "enum", "description", "anyOf", "minItems", "maxItems",
               "minLength", "maxLength", "minimum", "maximum", "additionalProperties", "nullable", "format",
               "prefixItems"}


@dataclass
class Catalog:
    """What a scene's visual may be, for this video."""

    kinds: list[str]
    media: list[str] = field(default_factory=list)  # "media/x.jpg" relative to the video's folder
    manim: dict[str, tuple[type[BaseModel], str]] = field(default_factory=dict)  # template -> (Params, doc)
    remotion: dict[str, dict[str, dict]] = field(default_factory=dict)  # composition -> prop -> {type, required}

    def images(self) -> list[str]:
        return [m for m in self.media if Path(m).suffix.lower() in {".png", ".jpg", ".jpeg", ".webp", ".bmp"}]

    def clips(self) -> list[str]:
        return [m for m in self.media if Path(m).suffix.lower() in {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"}]

    def menu(self) -> list[dict]:
        """What the prompt tells the LLM about each available visual."""
        out = []
        for kind in self.kinds:
            if kind == "manim":
                out += [{"kind": "manim", "name": n, "doc": doc,
                         "params": ", ".join(f"{k}{'' if f.is_required() else '?'}" for k, f in p.model_fields.items())}
                        for n, (p, doc) in self.manim.items()]
            elif kind == "remotion":
                out += [{"kind": "remotion", "name": n, "doc": "",
                         "params": ", ".join(f"{k}{'' if v.get('required') else '?'}" for k, v in props.items())}
                        for n, props in self.remotion.items()]
            elif kind in ("image", "clip"):
                files = self.images() if kind == "image" else self.clips()
                if files:
                    out.append({"kind": kind, "name": "", "doc": f"a local {'picture' if kind == 'image' else 'video clip'}",
                                "params": "file: one of " + ", ".join(files)})
            elif kind == "genimage":
                out.append({"kind": kind, "name": "", "doc": "a generated picture", "params": "prompt"})
            elif kind == "slide":
                out.append({"kind": kind, "name": "", "doc": "a branded text slide", "params": "title, bullets"})
            else:
                out.append({"kind": kind, "name": "", "doc": "", "params": ""})
        return out


def load_manim_template(path: Path) -> tuple[type[BaseModel], str] | None:
    """A template module's `Params` model and the first paragraph of its docstring (manim itself is
    imported only inside the template's construct(), so this stays cheap)."""
    # one module per template *content*: a changed file is a new module, an unchanged one is reused
    name = f"_showrunner_manim_{path.stem}_{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    mod = sys.modules.get(name)
    if mod is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # pydantic resolves the Params annotations through it
        try:
            spec.loader.exec_module(mod)
        except Exception:  # a broken template is the manim renderer's error to report, not the script's
            sys.modules.pop(name, None)
            return None
    params = getattr(mod, "Params", None)
    if not (isinstance(params, type) and issubclass(params, BaseModel)):
        return None
    doc = (mod.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    return params, doc


# ------------------------------------------------------------- the form --

class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _visual_tag(v: Any) -> str | None:
    get = v.get if isinstance(v, dict) else (lambda k, d=None: getattr(v, k, d))
    kind = get("kind")
    if kind == "manim":
        return f"manim:{get('template')}"
    if kind == "remotion":
        return f"remotion:{get('composition')}"
    return kind if isinstance(kind, str) else None


def draft_model(cat: Catalog) -> type[BaseModel]:
    """The pydantic model of one processed script for this catalog."""
    members: list[Any] = []

    def add(tag: str, model: type[BaseModel]) -> None:
        members.append(Annotated[model, Tag(tag)])

    for kind in cat.kinds:
        if kind == "slide":
            add("slide", create_model(
                "SlideVisual", __base__=_Form, kind=(Literal["slide"], ...),
                title=(str, Field(max_length=SLIDE_TITLE_MAX_CHARS,
                                  description=f"slide heading, at most 6 words ({SLIDE_TITLE_MAX_CHARS} characters)")),
                bullets=(list[Annotated[str, Field(max_length=MAX_BULLET_CHARS)]],
                         Field(default_factory=list, max_length=MAX_BULLETS,
                               description=f"0 to 5 short bullet lines (a few words each, at most "
                                           f"{MAX_BULLET_CHARS} characters)"))))
        elif kind == "genimage":
            add("genimage", create_model(
                "GeneratedImageVisual", __base__=_Form, kind=(Literal["genimage"], ...),
                prompt=(str, Field(min_length=3, description="what the picture shows: subject, setting, light, "
                                                            "camera; no text in the picture"))))
        elif kind == "image" and cat.images():
            add("image", create_model("LocalImageVisual", __base__=_Form, kind=(Literal["image"], ...),
                                      file=(Literal[tuple(cat.images())], ...)))
        elif kind == "clip" and cat.clips():
            add("clip", create_model("LocalClipVisual", __base__=_Form, kind=(Literal["clip"], ...),
                                     file=(Literal[tuple(cat.clips())], ...)))
        elif kind == "manim":
            for name, (params, _doc) in cat.manim.items():
                add(f"manim:{name}", create_model(
                    f"Manim_{name}", __base__=_Form, kind=(Literal["manim"], ...),
                    template=(Literal[name], ...), params=(params, ...)))
        elif kind == "remotion":
            for name, props in cat.remotion.items():
                fields = {k: ((PY_TYPES.get(v.get("type"), Any)), ... if v.get("required") else None)
                          for k, v in props.items()}
                pmodel = create_model(f"{name}Props", __base__=_Form, **fields)
                add(f"remotion:{name}", create_model(
                    f"Remotion_{name}", __base__=_Form, kind=(Literal["remotion"], ...),
                    composition=(Literal[name], ...), props=(pmodel, ...)))
    if not members:
        raise ValueError("no visual kind is available")
    tags = ", ".join(sorted({t.__metadata__[0].tag for t in members}))
    visual = Annotated[Union[tuple(members)], Discriminator(
        _visual_tag, custom_error_type="visual_kind",
        custom_error_message=f"unknown visual; use one of: {tags}")] if len(members) > 1 else members[0].__origin__
    scene = create_model(
        "DraftScene", __base__=_Form,
        narration=(str, Field(description="exactly what the narrator says in this scene: one idea, 1-4 sentences")),
        chapter=(str, Field("", description="a short chapter title when a new section starts here, else empty")),
        visual=(visual, ...))
    return create_model(
        "DraftScript", __base__=_Form,
        title=(str, Field(max_length=TITLE_MAX, description="the video title, at most 70 characters")),
        alt_titles=(list[Annotated[str, Field(max_length=TITLE_MAX)]],
                    Field(default_factory=list, max_length=MAX_ALT_TITLES, description="2-4 other title candidates")),
        description=(str, Field("", description="YouTube description: 2-4 sentences, no hashtags")),
        tags=(list[str], Field(default_factory=list, max_length=MAX_TAGS, description="5-12 search tags")),
        thumbnail_text=(str, Field("", max_length=THUMBNAIL_TEXT_MAX_CHARS,
                                   description=f"2-4 punchy words for the thumbnail (at most "
                                               f"{THUMBNAIL_TEXT_MAX_WORDS} words, {THUMBNAIL_TEXT_MAX_CHARS} "
                                               "characters)")),
        thumbnail_prompt=(str, Field("", description="the thumbnail's background picture (no text in it)")),
        scenes=(list[scene], Field(min_length=1)))


def llm_schema(model: type[BaseModel]) -> dict:
    """A conservative JSON Schema for structured output: refs inlined, oneOf -> anyOf, const -> enum,
    every property required (optional ones may be empty), only keywords Gemini and local servers accept."""
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(x) for x in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return walk(copy.deepcopy(defs[node["$ref"].split("/")[-1]]))
        node = dict(node)
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if "const" in node:
            node["enum"] = [node.pop("const")]
            node.setdefault("type", "string")
        out = {}
        for k, v in node.items():
            if k not in SCHEMA_KEYS:
                continue
            if k == "properties":
                out[k] = {name: walk(sub) for name, sub in v.items()}
            elif k == "additionalProperties":
                out[k] = walk(v) if isinstance(v, dict) else v
            else:
                out[k] = walk(v)
        if "properties" in out:
            out["required"] = list(out["properties"])
            out.setdefault("type", "object")
        return out

    return walk(raw)


# ------------------------------------------------------------ checking --

def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and (":" in part or part in ("slide", "genimage", "image", "clip")) and out.endswith("visual"):
            continue  # the union member's tag
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def strip_fences(text: str) -> str:
    """Local models like to wrap JSON in ``` fences or add a sentence around it."""
    t = text.strip()
    m = re.search(r"```(?:json)?\s*(.*?)```", t, re.S)
    if m:
        t = m.group(1).strip()
    if not t.startswith("{") and "{" in t and "}" in t:
        t = t[t.index("{"): t.rindex("}") + 1]
    return t


def words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def banned_hits(text: str, banned: list[str]) -> list[str]:
    low = text.lower()
    return [b for b in banned if b.strip() and re.search(r"(?<!\w)" + re.escape(b.lower()) + r"(?!\w)", low)]


# words a shortened text should not end on ("Why Toast Tastes Better Than the" -> "... Better Than")
_DANGLING = {"a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by", "from", "than",
             "&", "+", "-", "–", "—"}


def shorten(text: str, max_chars: int, *, max_words: int | None = None, ellipsis: bool = True) -> str:
    """`text` cut at a word boundary to at most `max_chars` (and `max_words`); unchanged when it fits.

    With `ellipsis`, a cut mid-thought ends in "…" (counted in the limit); a cut after a full sentence
    does not. Headline-like text (thumbnail words, slide headings) is cut without one."""
    t = " ".join(text.split())
    words = t.split(" ") if t else []
    if len(t) <= max_chars and (max_words is None or len(words) <= max_words):
        return text
    mark = "…" if ellipsis else ""
    room = max_chars - len(mark)
    keep: list[str] = []
    for w in words[:max_words] if max_words else words:
        if len(" ".join(keep + [w])) > room:
            break
        keep.append(w)
    if not keep:  # a single word longer than the room: cut inside it
        return t[:room].rstrip() + mark
    while len(keep) > 1 and keep[-1].lower().strip(",;:") in _DANGLING:
        keep.pop()
    out = " ".join(keep).rstrip(",;:-–— ") or keep[0]
    return out if out.endswith((".", "!", "?", "…")) else out + mark


def fit_reply(data: Any) -> list[str]:
    """Shorten over-long fields of a parsed structured reply in place, so a model that overshoots a limit
    is fixed here instead of being asked again (and again). Returns what was changed, for usage.json."""
    notes: list[str] = []
    if not isinstance(data, dict):
        return notes

    def fit(obj: Any, key: Any, where: str, max_chars: int, **kw: Any) -> None:
        v = obj[key]
        if isinstance(v, str):
            new = shorten(v, max_chars, **kw)
            if new != v:
                obj[key] = new
                notes.append(f"{where} shortened to fit: {v!r} -> {new!r}")

    def cap(obj: dict, key: str, where: str, n: int) -> list:
        v = obj.get(key)
        if not isinstance(v, list):
            return []
        if len(v) > n:
            notes.append(f"{where}: kept the first {n} of {len(v)}")
            obj[key] = v = v[:n]
        return v

    if "title" in data:
        fit(data, "title", "title", TITLE_MAX)
    for i in range(len(cap(data, "alt_titles", "alt_titles", MAX_ALT_TITLES))):
        fit(data["alt_titles"], i, f"alt_titles[{i}]", TITLE_MAX)
    cap(data, "tags", "tags", MAX_TAGS)
    if "thumbnail_text" in data:
        fit(data, "thumbnail_text", "thumbnail_text", THUMBNAIL_TEXT_MAX_CHARS, max_words=THUMBNAIL_TEXT_MAX_WORDS,
            ellipsis=False)
    scenes = data.get("scenes")
    for n, sc in enumerate(scenes if isinstance(scenes, list) else []):
        vis = sc.get("visual") if isinstance(sc, dict) else None
        if not isinstance(vis, dict) or vis.get("kind") != "slide":
            continue
        where = f"scenes[{n}].visual"
        if "title" in vis:
            fit(vis, "title", f"{where}.title", SLIDE_TITLE_MAX_CHARS, ellipsis=False)
        for j in range(len(cap(vis, "bullets", f"{where}.bullets", MAX_BULLETS))):
            fit(vis["bullets"], j, f"{where}.bullets[{j}]", MAX_BULLET_CHARS)
    return notes


def check_reply(text: str, form: type[BaseModel], banned: list[str],
                fixed: list[str] | None = None) -> tuple[list[str], Script | None]:
    """Parse and check one structured reply: (problems, script). No problems means script is valid.
    Over-long fields are shortened first (fit_reply); what was shortened is appended to `fixed`."""
    if not text.strip():
        return ["the reply was empty; reply with the JSON object"], None
    try:
        data = json.loads(strip_fences(text))
    except json.JSONDecodeError as exc:
        return [f"the reply is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                "reply with one complete JSON object and nothing else"], None
    notes = fit_reply(data)
    if fixed is not None:
        fixed.extend(notes)
    try:
        draft = form.model_validate(data)
    except ValidationError as exc:
        return [f"{_loc(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:20]], None
    problems: list[str] = []
    for where, t in [("title", draft.title)] + [(f"alt_titles[{i}]", a) for i, a in enumerate(draft.alt_titles)]:
        if not t.strip():
            problems.append(f"{where} is empty")
        elif len(t) > TITLE_MAX or re.search(r"[<>]", t):
            problems.append(f"{where} must be at most {TITLE_MAX} characters without < or > (it has {len(t)})")
    texts = [("title", draft.title), ("description", draft.description), ("thumbnail_text", draft.thumbnail_text)]
    for i, sc in enumerate(draft.scenes):
        n = words(sc.narration)
        if n == 0:
            problems.append(f"scenes[{i}].narration is empty")
        elif n > MAX_SCENE_WORDS:
            problems.append(f"scenes[{i}].narration has {n} words; split it into scenes of at most {MAX_SCENE_WORDS // 2 + 20} words")
        texts.append((f"scenes[{i}].narration", sc.narration))
        vis = sc.visual
        if getattr(vis, "kind", None) == "slide":
            texts.append((f"scenes[{i}].visual.title", vis.title))
            for j, b in enumerate(vis.bullets):
                if len(b) > MAX_BULLET_CHARS:
                    problems.append(f"scenes[{i}].visual.bullets[{j}] is {len(b)} characters; keep bullets under {MAX_BULLET_CHARS}")
                texts.append((f"scenes[{i}].visual.bullets[{j}]", b))
    for where, t in texts:
        for b in banned_hits(t, banned):
            problems.append(f"{where} uses the banned phrase {b!r}; rephrase without it")
    if problems:
        return problems, None
    try:
        script = to_script(draft)
    except ValidationError as exc:
        return [f"{_loc(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:20]], None
    return [], script


def to_script(draft: BaseModel) -> Script:
    scenes = []
    for sc in draft.scenes:
        vis = sc.visual.model_dump(mode="json", exclude_none=True)
        if vis.get("kind") == "manim":
            vis["params"] = sc.visual.params.model_dump(mode="json", exclude_defaults=True)
        if vis.get("kind") == "remotion":
            vis["props"] = sc.visual.props.model_dump(mode="json", exclude_none=True)
        scenes.append(Scene(narration=sc.narration.strip(), chapter=sc.chapter.strip() or None, visual=vis))
    thumb = None
    if draft.thumbnail_text.strip() or draft.thumbnail_prompt.strip():
        thumb = Thumbnail(text=draft.thumbnail_text.strip() or None, prompt=draft.thumbnail_prompt.strip() or None)
    return Script(title=draft.title.strip(), alt_titles=[a.strip() for a in draft.alt_titles if a.strip()],
                  description=draft.description.strip() or None, tags=[t.strip() for t in draft.tags if t.strip()],
                  thumbnail=thumb, scenes=scenes)


def estimate_s(script: Script, words_per_minute: float, overhead_s: float) -> float:
    """Speech at the voice's measured rate plus each scene's lead and pad."""
    return sum(words(sc.narration) / words_per_minute * 60.0 + overhead_s for sc in script.scenes)


def script_json(script: Script) -> dict:
    """The form the LLM sees when asked to shorten or fix a script (the same shape it filled in)."""
    out = {"title": script.title or "", "alt_titles": script.alt_titles, "description": script.description or "",
           "tags": script.tags, "thumbnail_text": (script.thumbnail.text or "") if script.thumbnail else "",
           "thumbnail_prompt": (script.thumbnail.prompt or "") if script.thumbnail else "", "scenes": []}
    for sc in script.scenes:
        vis = sc.visual.model_dump(mode="json", exclude_defaults=True)
        vis = {"kind": sc.visual.kind, **vis}
        if sc.visual.kind == "slide":
            vis = {"kind": "slide", "title": sc.visual.title, "bullets": list(sc.visual.bullets)}
        out["scenes"].append({"narration": sc.narration, "chapter": sc.chapter or "", "visual": vis})
    return out
