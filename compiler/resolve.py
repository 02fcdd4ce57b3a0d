"""Closest setting wins: the one place that layers brand -> recipe -> video -> scene.

`check`, stage 1 (script generation) and stage 2 (the plan) all resolve styles, voices, duration
limits and the LLM configuration here, so they can never disagree about which value applies.
Resolved values go into step params and thus into action keys: change a rule here only on purpose.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from core.errors import SpecError
from core.spec import Arm, Brand, Llm, Scene, Script, Style, Thumbnail, Video, Voice
from .project import LoadedVideo, Project, recipe_of

# what applies when no layer sets a style field
BUILTIN = {"template": "default", "pad": 0.6, "transition": "cut", "transition_s": 0.5, "image_motion": "zoom_in"}
AVATAR_MAX_S = 300.0  # avatar presenters (HeyGen) render at most five minutes per video
DEFAULT_PROMPTS = "default"  # the `prompt_template` arm value meaning recipes/prompts/ itself
LAYERS = ("scene", "video", "variant", "recipe", "brand")  # closest first; "variant": the arms `doit learn` chose

ENV_PROVIDER, ENV_MODEL, ENV_BASE_URL = "SHOWRUNNER_LLM_PROVIDER", "SHOWRUNNER_LLM_MODEL", "SHOWRUNNER_LLM_BASE_URL"
# provider shortcuts for the environment variable: local OpenAI-compatible servers on their default ports
ENV_ALIASES = {"ollama": "http://localhost:11434/v1", "llamacpp": "http://localhost:8080/v1",
               "llama.cpp": "http://localhost:8080/v1", "lmstudio": "http://localhost:1234/v1",
               "vllm": "http://localhost:8000/v1"}


@dataclass(frozen=True)
class Limit:
    """A cap on the video's length and who sets it."""

    seconds: float
    label: str  # short, for messages and the script prompt: "format 'long'"
    source: str  # as the timeline step records it: "format 'long' (recipes/formats.yaml)"


DEFAULT_LIMIT = Limit(3600.0, "the default limit", "the default limit")


def strictest(limits: Iterable[Limit]) -> Limit:
    """The smallest limit; on a tie the one listed first."""
    return min(limits, key=lambda lim: lim.seconds)


class Resolver:
    """The layered settings of one video."""

    def __init__(self, project: Project, lv: LoadedVideo):
        self.project, self.lv = project, lv
        self.brand_name = lv.brand
        self.brand: Brand = project.brands[lv.brand].model
        self.video: Video = lv.spec.model
        _, recipe = recipe_of(project, lv)
        self.recipe = recipe.model if recipe else None

    # -------------------------------------------------------- variants --
    def variants(self) -> dict[str, list[Arm]]:
        """The arms each dimension offers: the brand's, with the recipe's replacing a dimension it declares."""
        return {**self.brand.variants, **(self.recipe.variants if self.recipe else {})}

    def arm(self, dimension: str) -> Arm | None:
        """The arm the video's `variant:` names for a dimension (None: none assigned, or not declared: `check`
        reports an unknown name at its file:line:col)."""
        name = self.video.variant.get(dimension)
        return next((a for a in self.variants().get(dimension, []) if a.name == name), None) if name else None

    def variant_style(self) -> Style | None:
        """The style fields the assigned arms set, as a layer between the video and the recipe: a video's own
        setting still wins (a person who writes `voice:` in the video means it)."""
        values = {d: a.value for d in ("voice", "template") if (a := self.arm(d)) is not None}
        return Style.model_construct(**values) if values else None  # names were checked by `check`

    # ---------------------------------------------------------- styles --
    def layers(self, scene: Scene | None = None) -> list[tuple[str, Any]]:
        """(layer name, its Style) for every layer that exists, closest first."""
        found = [("scene", scene), ("video", self.video), ("variant", self.variant_style()),
                 ("recipe", self.recipe.defaults if self.recipe else None), ("brand", self.brand.defaults)]
        return [(name, layer) for name, layer in found if layer is not None]

    def setting(self, name: str, scene: Scene | None = None) -> tuple[Any, str]:
        """(value, layer that set it) for a style field; ("builtin") when no layer sets it."""
        for layer_name, layer in self.layers(scene):
            value = getattr(layer, name, None)
            if value is not None:
                return value, layer_name
        return BUILTIN.get(name), "builtin"

    def style(self, name: str, scene: Scene | None = None) -> Any:
        return self.setting(name, scene)[0]

    def slide_template(self, scene: Scene, chosen: str | None = None) -> str:
        """A visual's own `template:` beats the layered one."""
        return chosen or self.style("template", scene)

    def motion(self, scene: Scene, chosen: str | None = None) -> str:
        """A still's own `motion:` beats the layered one; the built-in default is a slow zoom in."""
        return chosen or self.style("motion", scene) or BUILTIN["image_motion"]

    def thumbnail(self, script: Script) -> Thumbnail:
        """The video's `thumbnail:` block when it says anything, else the script's, else the (empty) video one."""
        thumb = self.video.thumbnail
        return thumb if (thumb.text or thumb.image or thumb.template) else (script.thumbnail or thumb)

    def thumbnail_template(self, thumb: Thumbnail) -> str:
        recipe = self.recipe.thumbnail_template if self.recipe and self.recipe.thumbnail_template else None
        arm = self.arm("thumbnail_template")
        return thumb.template or (arm.value if arm else None) or recipe or self.brand.thumbnail_template

    def prompt_template(self) -> str | None:
        """The folder of replacement prompt templates, from the assigned `prompt_template` arm ("default": none,
        the prompts of recipes/prompts/ themselves)."""
        arm = self.arm("prompt_template")
        return arm.value if arm and arm.value != DEFAULT_PROMPTS else None

    def title_style(self) -> str | None:
        """The script writer's instruction for the title, from the assigned `title_style` arm."""
        arm = self.arm("title_style")
        return arm.value if arm else None

    # ----------------------------------------------------------- voice --
    def voice_name(self, scene: Scene | None = None) -> str | None:
        return self.style("voice", scene)

    def voice(self, scene: Scene | None = None) -> Voice:
        """The named brand voice, or the brand's first voice when none is named (or the name is
        unknown: `check` reports that as an error before anything compiles)."""
        name = self.voice_name(scene)
        first = next(iter(self.brand.voices.values()))
        return (self.brand.voices.get(name) or first) if name else first

    # ---------------------------------------------------------- limits --
    def limits(self, formats: Iterable[str], avatar: bool = False) -> list[Limit]:
        """Every cap on the length, in order: each known format, the brand's quality.max_duration_s,
        and HeyGen's five minutes when `avatar` (every scene is an avatar scene)."""
        out = []
        for f in formats:
            fmt = self.project.formats.get(f)
            if fmt is not None:
                out.append(Limit(fmt.max_duration_s, f"format '{f}'", f"format '{f}' (recipes/formats.yaml)"))
        if self.brand.quality.max_duration_s:
            out.append(Limit(self.brand.quality.max_duration_s, f"brand '{self.brand_name}' quality.max_duration_s",
                             f"brand '{self.brand_name}' (quality.max_duration_s)"))
        if avatar:
            out.append(Limit(AVATAR_MAX_S, "avatar videos", "avatar-presented videos (at most 5:00)"))
        return out

    def limit(self, fmt: str, script: Script) -> Limit:
        """The cap for one format of a scripted video (the timeline enforces it)."""
        avatar = all(sc.visual.kind == "avatar" for sc in script.scenes)
        return strictest(self.limits([fmt], avatar))

    def script_limit(self, formats: Iterable[str]) -> Limit:
        """The cap a script is written for, before its scenes exist: the smallest over all formats
        and the brand. Ties go to the alphabetically first label (the script step's key records it)."""
        limits = sorted(self.limits(formats), key=lambda lim: lim.label)
        return strictest(limits) if limits else DEFAULT_LIMIT


# -------------------------------------------------------------- the LLM --

def llm_config(project: Project, lv: LoadedVideo, env: Mapping[str, str] | None = None) -> Llm | None:
    """Closest wins, field by field: video `llm:` > brand `llm:` > SHOWRUNNER_LLM_* environment.

    Where requests go and which key they carry are not a video's to choose: `base_url` comes from the
    brand or SHOWRUNNER_LLM_BASE_URL, `api_key_env` from the brand and must name a *_API_KEY variable
    (core.spec.VideoLlm refuses both in a video at its file:line:col, Llm checks the pattern)."""
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
