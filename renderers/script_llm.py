"""Script generation: topic -> script.json, by an LLM in two calls, checked, within the length budget.

1. creation: a free-form, engaging script for the brand's niche, audience and tone (prompt
   recipes/prompts/create.md.j2, with research and the creator's own scripts as references);
2. processing: the draft becomes the structured form (title, alternative titles, description,
   tags, thumbnail, chapters, scenes with visuals) under a JSON response schema built from pydantic
   models; an invalid reply is re-asked with the problems fed back (llm.max_repairs);
3. length: the narration's duration is estimated at the brand voice's measured speaking rate; a
   script over budget is sent back to be shortened (llm.max_shortens), then fails clearly if it is
   still over the hard limit (format, brand, avatar). The timeline checks again with real durations.

The result is cached under its key like any step (prompts, research and examples are file inputs,
so their digests are in the key), and compiler/locks.py writes it to the video's script lock.
"""
from __future__ import annotations

import json
import math
import re
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, Field

from clients.llm import make_client
from clients.llm.common import Message, Usage, with_retries
from core.errors import StepError
from core.spec import Llm

from ._lib import style_embed
from ._lib.chapters import CHAPTER_MIN_S, dropped_messages, plan_chapters
from ._lib.script_draft import (MAX_BULLET_CHARS, MAX_BULLETS, SLIDE_TITLE_MAX_CHARS, THUMBNAIL_TEXT_MAX_CHARS,
                                THUMBNAIL_TEXT_MAX_WORDS, TITLE_MAX, Catalog, check_reply, draft_model, estimate_s,
                                llm_schema, load_manim_template, script_json, words)
from .base import Context, Params, Renderer

PROMPTS = ("system", "create", "process", "repair", "shorten", "continue")
SOFT_OVER = 1.25  # a script may run this much over its target before it is sent back to be shortened
SPEECH_SHARE = 0.85  # share of a video's length that is speech (the rest: leads and pads between scenes)
MAX_CONTINUES = 2  # a draft cut off at the output limit is continued at most this often, then the step fails
# finish reasons (lower case) of a reply that ended by itself, or says nothing (then the text itself is judged)
COMPLETE = {"", "stop", "end_turn", "eos", "finish_reason_unspecified"}
CUT_OFF = {"length", "max_tokens"}  # ... and of one that hit the output limit
LIMITS = {"title": TITLE_MAX, "thumbnail_words": THUMBNAIL_TEXT_MAX_WORDS, "thumbnail_chars": THUMBNAIL_TEXT_MAX_CHARS,
          "slide_title": SLIDE_TITLE_MAX_CHARS, "bullets": MAX_BULLETS, "bullet_chars": MAX_BULLET_CHARS}


class BrandVoice(BaseModel):
    name: str
    niche: str = ""
    audience: str = ""
    tone: str = ""
    style_guide: str = ""
    banned_phrases: list[str] = []


class FormatInfo(BaseModel):
    name: str
    width: int
    height: int
    max_duration_s: float


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def read_texts(paths: list[Path], names: list[str], budget: int) -> list[dict]:
    """Files as prompt material, shortened evenly when together they exceed `budget` characters."""
    texts = [Path(p).read_text(encoding="utf-8", errors="replace").strip() for p in paths]
    total = sum(len(t) for t in texts)
    out = []
    for i, t in enumerate(texts):
        room = len(t) if total <= budget else max(400, int(budget * len(t) / total))
        cut = t[:room].rsplit("\n", 1)[0] if len(t) > room else t
        out.append({"name": names[i] if i < len(names) else Path(paths[i]).name, "text": cut, "truncated": len(t) > room})
    return out


def ends_mid_sentence(draft: str) -> bool:
    """A free-form draft whose last line stops inside a sentence was cut off, whatever the finish reason.

    The draft is paragraphs of narration, each followed by a "Visual: ..." line: it ends after a
    sentence's closing punctuation or after a Visual line."""
    last = draft.rstrip().rsplit("\n", 1)[-1].strip()
    if not last or re.match(r"(?i)[*_#>\s]*visual\s*:", last):
        return False
    return not re.search(r"[.!?…。！？」』\"'”’)\]*_~]$", last)


def join_draft(draft: str, more: str) -> str:
    """A continuation appended to the part before it: directly inside a word, with a space after one."""
    if not draft:
        return more
    if not more or more[:1].isspace() or draft[-1:].isspace():
        return draft + more
    return draft + ("" if draft[-1].isalnum() and more[0].isalnum() else " ") + more


class LlmScript(Renderer):
    kind = "script.llm"
    version = 2
    inputs = tuple(f"prompt_{n}" for n in PROMPTS)
    optional_inputs = ("research", "examples", "manim_templates")
    outputs = ("script.json", "usage.json", "draft.md")

    class Params(Params):
        topic: str = Field(min_length=1)
        notes: str = ""
        title: str = ""
        language: str = "en"
        brand: BrandVoice
        formats: list[FormatInfo]
        target_s: float = Field(gt=0)
        limit_s: float = Field(gt=0)
        limit_source: str = ""
        words_per_minute: float = Field(gt=0, description="the voice's measured rate times its rate multiplier")
        scene_overhead_s: float = Field(0.0, ge=0, description="lead + pad per scene")
        kinds: list[str]
        media: list[str] = []
        remotion: dict[str, dict[str, dict]] = {}
        research_names: list[str] = []
        example_names: list[str] = []
        llm: Llm
        roll: int = Field(0, ge=0, description="re-roll counter: a new roll is a new key, so a new script")

    def tool_fingerprint(self) -> dict:
        return {"google-genai": _version("google-genai"), "openai": _version("openai"), "jinja2": _version("Jinja2"),
                "style_model": style_embed.fingerprint()}

    def run(self, ctx: Context) -> dict:
        import jinja2
        from jinja2.sandbox import SandboxedEnvironment

        p = ctx.params
        # prompt templates are project files a spec author can edit: sandboxed, like slide templates
        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                   autoescape=False)
        self.tpl, self.tpl_names = {}, {}
        for n in PROMPTS:
            path = Path(ctx.inputs[f"prompt_{n}"])
            self.tpl_names[n] = path.name
            try:
                self.tpl[n] = env.from_string(path.read_text(encoding="utf-8"))
            except jinja2.TemplateSyntaxError as exc:
                raise StepError(f"prompt template {path.name}:{exc.lineno}: {exc.message}") from None
        research = read_texts(ctx.inputs.get("research") or [], p.research_names, int(p.llm.context_chars * 0.7))
        examples = read_texts(ctx.inputs.get("examples") or [], p.example_names, int(p.llm.context_chars * 0.3))
        manim = {}
        for path in ctx.inputs.get("manim_templates") or []:
            loaded = load_manim_template(Path(path))
            if loaded:
                manim[Path(path).stem] = loaded
        kinds = [k for k in p.kinds if (k != "manim" or manim) and (k != "remotion" or p.remotion)]
        cat = Catalog(kinds=kinds, media=p.media, manim=manim, remotion=p.remotion)
        self.form = draft_model(cat)
        self.schema = llm_schema(self.form)
        budget_s = min(p.limit_s, p.target_s * SOFT_OVER)
        self.vars = dict(
            topic=p.topic, notes=p.notes, title=p.title, language=p.language, brand=p.brand.model_dump(),
            research=research, examples=examples, menu=cat.menu(), formats=[f.model_dump() for f in p.formats],
            vertical=any(f.height > f.width for f in p.formats), target_s=p.target_s, limit_s=p.limit_s,
            limit_source=p.limit_source or "the format", budget_s=budget_s, limits=LIMITS,
            chapter_words=math.ceil(CHAPTER_MIN_S * p.words_per_minute / 60),
            words_target=max(20, int(p.target_s * SPEECH_SHARE * p.words_per_minute / 60)),
            words_max=max(25, int(budget_s * SPEECH_SHARE * p.words_per_minute / 60)))
        self.p, self.ctx = p, ctx
        self.client = make_client(p.llm)
        self.usage = Usage(p.llm.provider, p.llm.model, p.llm.price_input_per_1m, p.llm.price_output_per_1m)
        self.system = self.prompt("system", **self.vars)
        attempts: dict = {"create": 1, "process": 0, "shorten": []}
        self.fixed: list[str] = []  # over-long fields shortened here instead of asking the model again

        # 1. creation: a free-form script, complete (never one cut off at the output limit)
        ctx.progress(0.05, "writing the script")
        draft, attempts["continued"] = self.write_draft()

        # 2. processing: structured, checked, repaired
        ctx.progress(0.4, "structuring the script")
        script, attempts["process"] = self.structure(
            [Message("user", self.prompt("process", draft=draft, **self.vars))], "structuring the script")

        # 3. length budget
        estimated = estimate_s(script, p.words_per_minute, p.scene_overhead_s)
        while estimated > budget_s and len(attempts["shorten"]) < p.llm.max_shortens:
            ctx.progress(0.7, f"shortening ({estimated:.0f} s > {budget_s:.0f} s)")
            msg = self.prompt("shorten", script_json=json.dumps(script_json(script), indent=1, ensure_ascii=False),
                              estimated_s=estimated, **self.vars)
            script, n = self.structure([Message("user", msg)], "shortening the script")
            attempts["shorten"].append({"from_s": round(estimated, 1), "attempts": n})
            estimated = estimate_s(script, p.words_per_minute, p.scene_overhead_s)
        if estimated > p.limit_s:
            raise StepError(
                f"the generated script is too long: about {estimated:.0f} s of narration, over the {p.limit_s:g} s "
                f"limit of {p.limit_source or 'the format'} (asked to shorten it {len(attempts['shorten'])} time(s))",
                hint="set a shorter target_length, choose a longer format, raise llm.max_shortens, "
                     "or write the script by hand")
        chapters_dropped = self.fit_chapters(script)

        # 4. creator DNA: how close the wording is to the creator's own scripts
        similarity = None
        if examples:
            ctx.progress(0.9, "measuring style similarity")
            narration = "\n\n".join(sc.narration for sc in script.scenes)
            similarity = style_embed.similarity(narration, {e["name"]: e["text"] for e in examples})

        data = script.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        for sc, raw in zip(script.scenes, data["scenes"]):
            raw["visual"] = {"kind": sc.visual.kind, **raw.get("visual", {})}
        ctx.out("script.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        ctx.out("draft.md").write_text(draft + "\n", encoding="utf-8")
        usage = {**self.usage.summary(), "attempts": attempts, "scenes": len(script.scenes),
                 "words": sum(words(sc.narration) for sc in script.scenes), "estimated_s": round(estimated, 1),
                 "target_s": p.target_s, "budget_s": round(budget_s, 1), "limit_s": p.limit_s,
                 "over_target": estimated > budget_s, "style_similarity": similarity}
        # for the reviewer (the lock's generated.usage shows them): what was shortened here, which chapters left out
        usage.update({k: v for k, v in (("fixed", self.fixed), ("chapters_dropped", chapters_dropped)) if v})
        ctx.out("usage.json").write_text(json.dumps(usage, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return usage

    # ------------------------------------------------------------------ --
    def write_draft(self) -> tuple[str, int]:
        """The free-form draft, continued where a reply was cut off (bounded); (draft, continuations)."""
        p = self.p
        messages = [Message("user", self.prompt("create", **self.vars))]
        draft = ""
        for n in range(MAX_CONTINUES + 1):
            reply = self.ask(messages, None, "writing the script")
            draft = join_draft(draft, reply.text)
            finish = str(reply.finish or "").lower()
            if not draft.strip() and finish not in CUT_OFF:
                raise StepError(f"{p.llm.provider} ({p.llm.model}) returned an empty script draft",
                                hint="try again (bump salt:), or another model")
            if not reply.text.strip() and finish in CUT_OFF:
                break  # the whole output budget went elsewhere (a thinking model's thoughts): continuing cannot help
            if finish not in COMPLETE | CUT_OFF:
                raise StepError(f"{p.llm.provider} ({p.llm.model}) stopped the script draft early (finish reason "
                                f"{reply.finish}); the draft is not used",
                                hint="rephrase the topic or notes, try again (bump salt:), or another model")
            cut = finish in CUT_OFF or ends_mid_sentence(draft)
            if not cut:
                return draft.strip(), n
            if n == MAX_CONTINUES:
                break
            self.ctx.progress(0.2, "the draft was cut off; asking the model to continue")
            messages = messages[:1] + [Message("assistant", draft),
                                       Message("user", self.prompt("continue", **self.vars))]
        why = f"finish reason {reply.finish}" if finish in CUT_OFF else "it ends in the middle of a sentence"
        raise StepError(f"{p.llm.provider} ({p.llm.model}) returned a cut-off script draft ({why}), still "
                        f"incomplete after {n} continuation(s); the draft is not used",
                        hint="raise llm.max_output_tokens (or leave it unset), set a shorter target_length, "
                             "or use a model with a larger output limit")

    def fit_chapters(self, script) -> list[dict]:
        """Leave out chapter marks that YouTube would ignore at the estimated scene lengths (renderers/
        _lib/chapters.py, the rules the metadata step applies), so the lock lists only chapters that stand.
        Returns the dropped ones with the reason."""
        p = self.p
        scenes, t = [], 0.0
        for sc in script.scenes:
            scenes.append({"start_s": t, "chapter": sc.chapter, "title": None})
            t += words(sc.narration) / p.words_per_minute * 60.0 + p.scene_overhead_s
        if not any(sc.chapter for sc in script.scenes):
            return []
        kept, dropped = plan_chapters(scenes, t)
        keep = {m["scene"] for m in kept}
        out = []
        for m in dropped:
            sc = script.scenes[m["scene"]]
            if sc.chapter and m["scene"] not in keep:
                sc.chapter = None
                out.append({"title": m["title"], "estimated_start_s": round(m["start_s"], 1), "reason": m["reason"]})
        notice = getattr(self.ctx, "notice", None)  # the engine's always-shown warnings, where it offers them
        for msg in dropped_messages([{**d, "start_s": d["estimated_start_s"]} for d in out]) if notice else []:
            notice("warning", msg + " (left out of the script lock)")
        return out

    def prompt(self, name: str, **data) -> str:
        """Render one prompt template; the sandbox's refusals and template errors become StepErrors."""
        import jinja2

        try:
            return self.tpl[name].render(**data)
        except jinja2.exceptions.SecurityError as exc:
            raise StepError(f"prompt template {self.tpl_names[name]} tried an unsafe operation, refused by the "
                            f"sandbox: {exc}", hint="templates may only format the data they are given") from None
        except jinja2.TemplateError as exc:
            raise StepError(f"prompt template {self.tpl_names[name]}: {exc}") from None

    def ask(self, messages: list[Message], schema: dict | None, what: str):
        return with_retries(lambda: self.client.complete(self.system, messages, schema),
                            max_retries=self.p.llm.max_retries, usage=self.usage, what=what,
                            progress=lambda msg: self.ctx.notice("retry", msg))

    def structure(self, messages: list[Message], what: str):
        """Ask for the structured script; re-ask with the problems until it checks out (bounded)."""
        problems: list[str] = []
        for attempt in range(self.p.llm.max_repairs + 1):
            reply = self.ask(messages, self.schema, what)
            fixed: list[str] = []
            problems, script = check_reply(reply.text, self.form, self.p.brand.banned_phrases, fixed)
            if script is not None:
                self.fixed += fixed
                return script, attempt + 1
            if str(reply.finish).lower() in ("length", "max_tokens"):
                problems.insert(0, "your reply was cut off at the output limit; write more compactly")
            messages = messages + [Message("assistant", reply.text[:30000] or "(empty)"),
                                   Message("user", self.prompt("repair", problems=problems, **self.vars))]
        raise StepError(
            f"{self.p.llm.provider} ({self.p.llm.model}) returned an invalid script "
            f"{self.p.llm.max_repairs + 1} time(s) while {what}; last problems: " + "; ".join(problems[:6]),
            hint="try again (bump salt:), another model, a higher llm.max_repairs, or write the script by hand "
                 "(docs/scripts.md)")
