"""Stage 1 of compiling: topic-only videos -> `script.llm` steps whose results become script locks.

A video's graph depends on its script (how many scenes, which visuals), so scripts compile and
build first; the lock `videos/<brand>/<slug>.script.yaml` they produce is what stage 2
(`compile_plan`) reads. A video with a current lock (its recorded salt matches the spec) has no
stage-1 step at all, so a no-op rebuild never calls an LLM. Pure like plan.py, except that it
lists the project's manim templates, Remotion compositions and media (files, like load does).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

from pydantic import ValidationError

from core.errors import Diagnostic, SpecError
from .load import MEDIA_SUFFIXES, SCRIPT_SUFFIX, LoadedVideo, Project, formats_of, recipe_of, resolve_media
from .plan import BUILTIN, Compiler, Plan, Ref, make_step
from core.spec import Llm
from core.timeline import LEAD_S

ENV_PROVIDER, ENV_MODEL, ENV_BASE_URL = "SHOWRUNNER_LLM_PROVIDER", "SHOWRUNNER_LLM_MODEL", "SHOWRUNNER_LLM_BASE_URL"
# provider shortcuts for the environment variable: local OpenAI-compatible servers on their default ports
ENV_ALIASES = {"ollama": "http://localhost:11434/v1", "llamacpp": "http://localhost:8080/v1",
               "llama.cpp": "http://localhost:8080/v1", "lmstudio": "http://localhost:1234/v1",
               "vllm": "http://localhost:8000/v1"}
PROMPT_DIR = "recipes/prompts"
PROMPTS = ("system", "create", "process", "repair", "shorten", "continue")
LLM_KINDS = ("slide", "genimage", "manim", "remotion", "image", "clip")  # what a generated scene may show
STEP = "script"


def lock_path(lv: LoadedVideo) -> Path:
    return lv.spec.file.parent / f"{lv.slug}{SCRIPT_SUFFIX}"


def is_topic_video(lv: LoadedVideo) -> bool:
    """A video whose script is generated: a topic, and neither inline scenes nor an explicit script file."""
    v = lv.spec.model
    return bool(v.topic) and v.scenes is None and not v.script


def needs_script(lv: LoadedVideo) -> str | None:
    """Why this video's script must be (re)generated now, or None."""
    if not is_topic_video(lv):
        return None
    if lv.script is None:
        return "no script lock yet"
    gen = lv.script.generated
    salt = lv.spec.model.salt
    if gen is not None and gen.salt != salt:
        return f"salt changed from {gen.salt!r} to {salt!r}, so the script is re-rolled"
    return None


def llm_config(project: Project, lv: LoadedVideo, env: Mapping[str, str] | None = None) -> Llm | None:
    """Closest wins, field by field: video `llm:` > brand `llm:` > SHOWRUNNER_LLM_* environment."""
    env = os.environ if env is None else env
    data: dict = {}
    provider = (env.get(ENV_PROVIDER) or "").strip().lower()
    if provider:
        if provider in ENV_ALIASES:
            data = {"provider": "openai", "base_url": ENV_ALIASES[provider]}
        else:
            data = {"provider": provider}
        if env.get(ENV_MODEL):
            data["model"] = env[ENV_MODEL]
        if env.get(ENV_BASE_URL):
            data["base_url"] = env[ENV_BASE_URL]
    brand = project.brands[lv.brand].model
    for layer in (brand.llm, lv.spec.model.llm):
        if layer is not None:
            data.update(layer.model_dump(exclude_unset=True))
    if not data.get("provider"):
        return None
    try:
        return Llm.model_validate(data)
    except ValidationError as exc:
        raise SpecError([lv.spec.pos.diag((), f"invalid LLM configuration ({ENV_PROVIDER} or llm:): "
                                              f"{exc.errors()[0]['msg']}", category="llm")]) from None


def no_provider(project: Project, lv: LoadedVideo) -> Diagnostic:
    brand_file = f"brands/{lv.brand}.yaml"
    return lv.spec.pos.diag(("topic",), (
        "this topic-only video needs a script, and no LLM provider is configured to write one. Either:\n"
        f"  - configure one in {brand_file} (or in this spec), e.g.\n"
        "        llm: {provider: gemini, model: gemini-2.5-flash}        # key in $GEMINI_API_KEY\n"
        "        llm: {provider: openai, model: qwen2.5:7b-instruct, base_url: http://localhost:11434/v1}  # Ollama\n"
        f"    or for this shell only: {ENV_PROVIDER}=ollama {ENV_MODEL}=qwen2.5:7b-instruct\n"
        f"  - or write the script by hand in {project.display(lock_path(lv))} (scenes: with narration and visual),\n"
        f"  - or import one in the tag format: python -m compiler import-script my-script.txt {lv.id}\n"
        "  (docs/scripts.md)"), category="llm")


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


def compile_script_plan(project: Project, only: set[str] | None = None, reroll: set[str] | frozenset = frozenset(),
                        env: Mapping[str, str] | None = None) -> Plan:
    """One `<brand>/<slug>/script` step per video that needs a script; `reroll` forces a new roll."""
    plan = Plan()
    for vid, lv in sorted(project.videos.items()):
        if only is not None and vid not in only:
            continue
        forced = vid in reroll
        if not forced and needs_script(lv) is None:
            continue
        try:
            roll = 0
            if forced:
                if not is_topic_video(lv):
                    raise SpecError([lv.spec.pos.diag((), "only topic-only videos (a `topic:`, no `scenes:` and no "
                                                          "`script:`) have a generated script to re-roll", category="llm")])
                gen = lv.script.generated if lv.script is not None else None
                if lv.script is not None and gen is None:
                    raise SpecError([Diagnostic(project.display(lock_path(lv)), 0, 0, "", (
                        "this script lock has no `generated:` block: it was written by hand or imported, so it is "
                        "never re-rolled; delete the file (git keeps its history) to generate a new one"), "llm")])
                if gen is not None and gen.salt == lv.spec.model.salt:
                    roll = gen.roll + 1
            cfg = llm_config(project, lv, env)
            if cfg is None:
                raise SpecError([no_provider(project, lv)])
            script_step(project, lv, plan, cfg, roll)
        except SpecError as exc:
            plan.errors[vid] = exc.render()
    return plan


# ------------------------------------------------------------ catalog --

def manim_templates(root: Path) -> list[Path]:
    d = root / "recipes" / "manim"
    return sorted(p for p in d.glob("*.py") if not p.name.startswith("_")) if d.is_dir() else []


def remotion_compositions(root: Path) -> dict[str, dict[str, dict]]:
    """Composition ids in recipes/remotion/src/Root.tsx, with the props their `<Id>Props` type adds
    to BaseProps (name -> {type, required}); what the compiler fills in (size, palette...) is left out."""
    src = root / "recipes" / "remotion" / "src"
    try:
        rootfile = (src / "Root.tsx").read_text(encoding="utf-8")
    except OSError:
        return {}
    out: dict[str, dict[str, dict]] = {}
    for cid in re.findall(r"<Composition\b[^>]*?\bid=[\"']([A-Za-z0-9_-]+)[\"']", rootfile, re.S):
        props: dict[str, dict] = {}
        try:
            text = (src / f"{cid}.tsx").read_text(encoding="utf-8")
        except OSError:
            text = ""
        m = re.search(r"type\s+" + re.escape(cid) + r"Props\s*=\s*BaseProps\s*&\s*\{(.*?)\};", text, re.S)
        for name, opt, typ in re.findall(r"(\w+)(\??)\s*:\s*([^;,}]+)", m.group(1) if m else ""):
            t = typ.strip().replace("Array<string>", "string[]")
            props[name] = {"type": t if t in ("string", "number", "boolean", "string[]", "number[]") else "any",
                           "required": not opt}
        out[cid] = props
    return out


def local_media(lv: LoadedVideo, project: Project) -> list[str]:
    """Stills and clips in the video folder's media/ that a generated scene may show."""
    d = lv.spec.file.parent / "media"
    ok = MEDIA_SUFFIXES["image"] | MEDIA_SUFFIXES["clip"]
    return sorted(f"media/{p.name}" for p in d.iterdir() if p.is_file() and p.suffix.lower() in ok) if d.is_dir() else []


def script_step(project: Project, lv: LoadedVideo, plan: Plan, cfg: Llm, roll: int) -> str:
    brand = project.brands[lv.brand].model
    video = lv.spec.model
    pos = lv.spec.pos
    _, recipe = recipe_of(project, lv)
    fmt_names = [f for f in formats_of(project, lv) if f in project.formats]
    limits = [(project.formats[f].max_duration_s, f"format '{f}'") for f in fmt_names]
    if brand.quality.max_duration_s:
        limits.append((brand.quality.max_duration_s, f"brand '{lv.brand}' quality.max_duration_s"))
    limit_s, limit_source = min(limits) if limits else (3600.0, "the default limit")
    if video.target_length and video.target_length > limit_s:
        raise SpecError([pos.diag(("target_length",), f"target_length {video.target_length:g} s is over the "
                                                      f"{limit_s:g} s limit of {limit_source}")])
    target = video.target_length or (round(limit_s * 0.8) if limit_s <= 90 else min(240.0, limit_s * 0.8))

    layers = [video, recipe.model.defaults if recipe else None, brand.defaults]
    style = lambda name: next((getattr(x, name) for x in layers if x is not None and getattr(x, name) is not None),  # noqa: E731
                              BUILTIN.get(name))
    vname = style("voice")
    voice = brand.voices.get(vname) if vname else next(iter(brand.voices.values()))
    voice = voice or next(iter(brand.voices.values()))

    renderable = [k for k in LLM_KINDS if callable(getattr(Compiler, f"visual_{k}", None))]
    kinds = [k for k in (cfg.visuals or renderable) if k in renderable]
    if cfg.visuals and not kinds:
        at = ("llm", "visuals") if video.llm and video.llm.visuals else ()
        raise SpecError([pos.diag(at, f"none of llm.visuals {cfg.visuals} can be rendered by this build "
                                      f"(available: {', '.join(renderable)})")])
    templates = manim_templates(project.root) if "manim" in kinds else []
    remotion = remotion_compositions(project.root) if "remotion" in kinds else {}
    media = local_media(lv, project) if {"image", "clip"} & set(kinds) else []
    has = {k: any(Path(m).suffix.lower() in MEDIA_SUFFIXES[k] for m in media) for k in ("image", "clip")}
    kinds = [k for k in kinds if (k != "manim" or templates) and (k != "remotion" or remotion)
             and (k not in has or has[k])]

    prompts = {}
    for n in PROMPTS:
        rel = f"{PROMPT_DIR}/{n}.md.j2"
        if not (project.root / rel).is_file():
            raise SpecError([Diagnostic(rel, 0, 0, "", f"prompt template missing: script generation needs {rel}",
                                        "llm")])
        prompts[f"prompt_{n}"] = Ref(file=rel)
    research = [resolve_media(lv.spec.file.parent, r, project) for r in video.research]
    examples = [resolve_media(project.root / "brands", r, project) for r in brand.creator_examples]
    params = {
        "topic": video.topic, "notes": video.notes, "title": video.title or "", "language": brand.channel.language,
        "brand": {"name": brand.name, "niche": brand.niche, "audience": brand.audience, "tone": brand.tone,
                  "style_guide": brand.style_guide, "banned_phrases": list(brand.banned_phrases)},
        "formats": [{"name": f, "width": project.formats[f].width, "height": project.formats[f].height,
                     "max_duration_s": project.formats[f].max_duration_s} for f in fmt_names],
        "target_s": float(target), "limit_s": float(limit_s), "limit_source": limit_source,
        "words_per_minute": voice.words_per_minute * voice.rate,
        "scene_overhead_s": float(style("pad")) + LEAD_S,
        "kinds": kinds, "media": media, "remotion": remotion,
        "research_names": [Path(r).name for r in video.research],
        "example_names": [Path(r).name for r in brand.creator_examples],
        "llm": cfg.model_dump(mode="json"), "roll": roll,
    }
    inputs = {**prompts, "research": [Ref(file=project.display(p)) for p in research],
              "examples": [Ref(file=project.display(p)) for p in examples],
              "manim_templates": [Ref(file=project.display(p)) for p in templates]}
    return make_step(plan, f"{lv.id}/{STEP}", lv.id, "script.llm", params, inputs, video.salt)
