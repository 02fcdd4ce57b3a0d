"""Stage 1 of compiling: topic-only videos -> `script.llm` steps whose results become script locks.

A video's graph depends on its script (how many scenes, which visuals), so scripts compile and
build first; the lock `videos/<brand>/<slug>.script.yaml` they produce is what stage 2
(`compile_plan`) reads. A video with a current lock (its recorded salt matches the spec) has no
stage-1 step at all, so a no-op rebuild never calls an LLM. Pure like plan.py, except that it
lists the project's manim templates, Remotion compositions and media (files, like load does).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from core.errors import Diagnostic, SpecError
from . import catalogue
from .plan import Compiler, Plan, Ref, make_step
from .project import (MEDIA_SUFFIXES, LoadedVideo, OutsideProject, Project, formats_of, is_topic_video, lock_path,
                      needs_script, confine, resolve_media)
from .resolve import ENV_MODEL, ENV_PROVIDER, Resolver, llm_config
from core.spec import Llm
from core.timeline import LEAD_S

LLM_KINDS = ("slide", "genimage", "manim", "remotion", "image", "clip")  # what a generated scene may show
STEP = "script"


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

def local_media(lv: LoadedVideo, project: Project) -> list[str]:
    """Stills and clips in the video folder's media/ that a generated scene may show."""
    d = lv.spec.file.parent / "media"
    ok = MEDIA_SUFFIXES["image"] | MEDIA_SUFFIXES["clip"]
    if not d.is_dir():
        return []
    found = []
    for p in d.iterdir():
        if p.is_file() and p.suffix.lower() in ok:
            try:
                confine(project.root, p)
            except OutsideProject:  # a symlink out of the project is never offered
                continue
            found.append(f"media/{p.name}")
    return sorted(found)


def notes_for_writer(notes: str, title_style: str | None) -> str:
    """The video's notes, plus the title style of its `title_style` arm (doit learn) when it has one."""
    if not title_style:
        return notes
    return f"{notes.rstrip()}\n\nTitle style: {title_style}".lstrip()


def script_step(project: Project, lv: LoadedVideo, plan: Plan, cfg: Llm, roll: int) -> str:
    brand = project.brands[lv.brand].model
    video = lv.spec.model
    pos = lv.spec.pos
    res = Resolver(project, lv)
    fmt_names = [f for f in formats_of(project, lv) if f in project.formats]
    limit = res.script_limit(fmt_names)
    limit_s, limit_source = limit.seconds, limit.label
    if video.target_length and video.target_length > limit_s:
        raise SpecError([pos.diag(("target_length",), f"target_length {video.target_length:g} s is over the "
                                                      f"{limit_s:g} s limit of {limit_source}")])
    target = video.target_length or (round(limit_s * 0.8) if limit_s <= 90 else min(240.0, limit_s * 0.8))

    voice = res.voice()

    renderable = [k for k in LLM_KINDS if callable(getattr(Compiler, f"visual_{k}", None))]
    kinds = [k for k in (cfg.visuals or renderable) if k in renderable]
    if cfg.visuals and not kinds:
        at = ("llm", "visuals") if video.llm and video.llm.visuals else ()
        raise SpecError([pos.diag(at, f"none of llm.visuals {cfg.visuals} can be rendered by this build "
                                      f"(available: {', '.join(renderable)})")])
    templates = catalogue.manim_template_files(project.root) if "manim" in kinds else []
    remotion = catalogue.remotion_props(project.root) if "remotion" in kinds else {}
    media = local_media(lv, project) if {"image", "clip"} & set(kinds) else []
    has = {k: any(Path(m).suffix.lower() in MEDIA_SUFFIXES[k] for m in media) for k in ("image", "clip")}
    kinds = [k for k in kinds if (k != "manim" or templates) and (k != "remotion" or remotion)
             and (k not in has or has[k])]

    prompts = {}
    for n in catalogue.prompt_names():
        try:
            rel = catalogue.prompt_rel(project.root, n, res.prompt_template())
            catalogue.inside(project.root, catalogue.PROMPT_DIR, rel)
        except catalogue.NotInCatalogue as exc:
            raise SpecError([Diagnostic(rel, 0, 0, "", str(exc), "llm")]) from None
        if not (project.root / rel).is_file():
            raise SpecError([Diagnostic(rel, 0, 0, "", f"prompt template missing: script generation needs {rel}",
                                        "llm")])
        prompts[f"prompt_{n}"] = Ref(file=rel)
    try:  # `check` reported these at their file:line:col already; nothing outside the project is ever sent
        research = [resolve_media(lv.spec.file.parent, r, project) for r in video.research]
        examples = [resolve_media(project.root / "brands", r, project) for r in brand.creator_examples]
    except OutsideProject as exc:
        raise SpecError([pos.diag(("research",), str(exc), category="media")]) from None
    params = {
        "topic": video.topic, "notes": notes_for_writer(video.notes, res.title_style()), "title": video.title or "",
        "language": brand.channel.language,
        "brand": {"name": brand.name, "niche": brand.niche, "audience": brand.audience, "tone": brand.tone,
                  "style_guide": brand.style_guide, "banned_phrases": list(brand.banned_phrases)},
        "formats": [{"name": f, "width": project.formats[f].width, "height": project.formats[f].height,
                     "max_duration_s": project.formats[f].max_duration_s} for f in fmt_names],
        "target_s": float(target), "limit_s": float(limit_s), "limit_source": limit_source,
        "words_per_minute": voice.words_per_minute * voice.rate,
        "scene_overhead_s": float(res.style("pad")) + LEAD_S,
        "kinds": kinds, "media": media, "remotion": remotion,
        "research_names": [Path(r).name for r in video.research],
        "example_names": [Path(r).name for r in brand.creator_examples],
        "llm": cfg.model_dump(mode="json"), "roll": roll,
    }
    inputs = {**prompts, "research": [Ref(file=project.display(p)) for p in research],
              "examples": [Ref(file=project.display(p)) for p in examples],
              "manim_templates": [Ref(file=project.display(p)) for p in templates]}
    return make_step(plan, f"{lv.id}/{STEP}", lv.id, "script.llm", params, inputs, video.salt)
