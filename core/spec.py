"""Spec models: what users write in brands/, recipes/ and videos/.

Every model forbids unknown fields so a typo is an error, not a silently ignored setting.
Defaults layer brand -> recipe -> video -> scene (closest wins) through the shared `Style`
fields; `compiler.resolve` applies them at compile time so step keys see the resolved values.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

# Text that must fit a fixed box: the slide and thumbnail templates are laid out for these, and the LLM's
# response schema (renderers/_lib/script_draft.py) carries the same limits. Longer text is clipped or runs
# into the logo, so a spec that exceeds them is an error, not a surprise in the rendered frame.
THUMBNAIL_TEXT_MAX_CHARS = 40
THUMBNAIL_TEXT_MAX_WORDS = 6
SLIDE_TITLE_MAX_CHARS = 60
SLIDE_BULLETS_MAX = 6
SLIDE_BULLET_MAX_CHARS = 90
TITLE_MAX_CHARS = 100  # YouTube's limit for a title


def _bullet_fits(v: str) -> str:
    if len(v) > SLIDE_BULLET_MAX_CHARS:
        raise ValueError(f"this bullet has {len(v)} characters; at most {SLIDE_BULLET_MAX_CHARS} fit on a slide "
                         "(shorten it, or say the rest in the narration)")
    return v


Bullet = Annotated[str, AfterValidator(_bullet_fits), Field(json_schema_extra={"maxLength": SLIDE_BULLET_MAX_CHARS})]

HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="CSS hex colour, e.g. '#1a2b3c'")]
Motion = Literal["none", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]
Fit = Literal["cover", "contain"]

# A spec chooses templates, compositions and prompts by NAME, never by path: a name cannot leave its
# recipes folder (no '/', '\\' or '.'), so a spec can never make the compiler import or render a file
# from elsewhere. compiler/catalogue.py resolves names to files and checks the folder again.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# composition ids: a name as above, plus CJK (Remotion's own rule, checked against Root.tsx by `check`)
COMPOSITION_PATTERN = r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff_-]{0,63}$"
# Spec fields that name an environment variable may name API keys only, never HOME, PATH or a secret
# of something else: an upper-case name ending in _API_KEY.
API_KEY_ENV_PATTERN = r"^[A-Z][A-Z0-9_]*_API_KEY$"


def _matches(pattern: str, what: str):
    rx = re.compile(pattern)

    def check(v: str) -> str:
        if rx.fullmatch(v) is None:
            raise ValueError(f"{v!r} is not a valid {what}")
        return v
    return check


TemplateName = Annotated[str, AfterValidator(_matches(
    NAME_PATTERN, "template name: give the name of a file in its recipes folder, without folder or suffix "
                  "(letters, digits, '_' and '-', at most 64; no '/', '\\' or '.')")),
    Field(json_schema_extra={"pattern": NAME_PATTERN})]
CompositionId = Annotated[str, AfterValidator(_matches(
    COMPOSITION_PATTERN, "Remotion composition id: the id registered in recipes/remotion/src/Root.tsx "
                         "(letters, digits and '-', at most 64; no '/', '\\' or '.')")),
    Field(json_schema_extra={"pattern": COMPOSITION_PATTERN})]
ApiKeyEnv = Annotated[str, AfterValidator(_matches(
    API_KEY_ENV_PATTERN, "API key variable: name an environment variable that ends in _API_KEY, in upper case "
                         "(e.g. GEMINI_API_KEY); other variables are never read")),
    Field(json_schema_extra={"pattern": API_KEY_ENV_PATTERN})]


# C0/C1 control characters except tab and newline, and lone surrogates: a NUL or an escape code in
# narration or a title breaks TTS, subtitles and file formats downstream
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def control_problem(text: str) -> str | None:
    """Why `text` may not appear in a spec value, or None."""
    bad = CONTROL.search(text)
    if bad is None:
        return None
    return (f"control character U+{ord(bad.group()):04X} at position {bad.start()} is not allowed in text "
            "(only tab and newline are)")


def _plain(value: Any) -> None:
    """Refuse control characters in any text, and NaN/infinity inside free-form data (params, props)."""
    if isinstance(value, str):
        if problem := control_problem(value):
            raise ValueError(problem)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number (not .nan or .inf)")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _plain(item)
    elif isinstance(value, dict):
        for k, item in value.items():
            _plain(k)
            _plain(item)


class Model(BaseModel):
    """Every spec model: unknown fields, non-finite numbers and control characters are errors, whether
    the data comes from YAML (compiler.yamlpos refuses them first, at the exact node) or from an LLM."""

    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, v: Any) -> Any:
        _plain(v)
        return v


# ---------------------------------------------------------------- brand ----

class Palette(Model):
    background: HexColor = "#101418"
    surface: HexColor = "#1c232b"
    text: HexColor = "#f5f7fa"
    accent: HexColor = "#ffb000"
    muted: HexColor = "#9aa5b1"


class Fonts(Model):
    heading: str = Field("DejaVu Sans", description="CSS font family for titles (must be installed)")
    body: str = Field("DejaVu Sans", description="CSS font family for body text")


class Voice(Model):
    """A narration voice. `engine` picks the renderer; `rate` > 1 speaks faster."""

    engine: Literal["piper", "espeak", "recorded"] = "piper"
    model: str | None = Field(None, description="Piper .onnx voice file, relative to brands/ and inside the project; "
                                                "default: the bundled en_US 'joe' voice")
    speaker: int | None = Field(None, description="speaker id for multi-speaker Piper models")
    espeak_voice: str = Field("en-us", description="espeak-ng voice name")
    pitch: int = Field(50, ge=0, le=99, description="espeak-ng pitch")
    rate: float = Field(1.0, gt=0.3, le=3.0, description="speaking rate multiplier")
    sentence_pause: float = Field(0.25, ge=0, le=3, description="silence between sentences, seconds")
    words_per_minute: float = Field(165.0, gt=40, le=400,
                                    description="measured speaking rate at rate 1.0, used to estimate lengths")


class Channel(Model):
    """The brand's YouTube channel and upload defaults."""

    id: str | None = Field(None, description="YouTube channel id (UC...); checked against the OAuth token before upload")
    category: str = Field("27", description="YouTube categoryId (27 Education, 28 Science & Technology, ...)")
    language: str = Field("en", description="BCP-47 language of title, description and audio")
    privacy: Literal["private", "unlisted", "public"] = "private"
    made_for_kids: bool = False
    synthetic_media: bool = Field(True, description="AI-content disclosure (status.containsSyntheticMedia)")
    playlists: list[str] = Field(default_factory=list, description="playlist ids every upload is added to")
    schedule: str | None = Field(None, description="default publish time, e.g. 'daily 15:00 America/New_York'")


class Music(Model):
    file: str = Field(description="background music file (relative to the spec)")
    volume_db: float = Field(-20.0, le=0, description="music level under narration before ducking")
    duck_db: float = Field(10.0, ge=0, le=40, description="extra attenuation while someone speaks")
    sections: Literal["chapters", "continuous"] = Field(
        "chapters", description="'chapters': the music starts again from the top at chapter marks, where a longer "
        "video's final soundtrack is split into parts that an edit re-renders one by one; 'continuous': one bed "
        "through the whole video (every edit re-renders the whole soundtrack)")


class Quality(Model):
    loudness_lufs: float = Field(-14.0, ge=-30, le=-5)
    true_peak_db: float = Field(-1.0, ge=-9, le=0)
    max_duration_s: float | None = Field(None, gt=0, description="brand maximum video length")
    clip_copy: bool = Field(True, description="a video made only of clips that already are the format's H.264 "
                                              "(size, frame rate, no B-frames, one codec setup) goes into the final "
                                              "video by stream copy: no re-encode, no quality lost (README, Clips)")
    clip_copy_max_mbps: float = Field(30.0, gt=0, le=1000, description="clips above this bit rate are re-encoded "
                                                                       "instead, so the upload stays a sensible size")


# ------------------------------------------------------------ quality gate ----
# The brand's `qc:` block (issue 11; core/qc.py is the contract). Each area's thresholds live in its own model,
# filled in by the check that reads them; the defaults are what a careful editor would accept.

class QCAudio(Model):
    """Thresholds of the audio checks (qc.scene / qc.master, docs/quality.md). Loudness and true-peak targets are
    the brand's `quality:`; these say how far a build may miss them. Each check has a warning (flag for review)
    and an error (reject) level."""

    silence_s: float = Field(3.0, gt=0, le=60, description="a silence inside or between narrations longer than this "
                                                           "is a warning (dead air)")
    silence_error_s: float = Field(5.0, gt=0, le=120, description="... and longer than this an error")
    silence_noise_db: float = Field(-50.0, ge=-90, le=-20,
                                    description="below this level (dBFS) audio counts as silence")
    pace_tolerance: float = Field(0.3, gt=0, le=2, description="words per minute off the voice's pace by more than "
                                                               "this share (0.3 = 30%) is a warning")
    pace_error_tolerance: float = Field(0.6, gt=0, le=5, description="... and by more than this share an error")
    pace_min_words: int = Field(8, ge=1, le=1000, description="scenes with fewer words are not judged on pace")
    loudness_tolerance_lu: float = Field(1.0, gt=0, le=20, description="integrated loudness off the brand's "
                                                                       "quality.loudness_lufs by more than this")
    loudness_error_lu: float = Field(3.0, gt=0, le=30, description="... and by more than this an error")
    true_peak_tolerance_db: float = Field(0.3, ge=0, le=6, description="true peak over quality.true_peak_db by more "
                                                                       "than this is a warning")
    true_peak_error_db: float = Field(0.0, ge=-6, le=6,
                                      description="a true peak above this (dBTP) is an error: players clip it")
    clipping_runs: int = Field(0, ge=0, description="more runs of >= 3 full-scale samples in a scene's narration "
                                                    "than this is a warning")
    clipping_error_runs: int = Field(20, ge=0, description="... and more than this an error")
    music_ratio_db: float = Field(-15.0, ge=-60, le=20, description="music under speech louder than this, relative "
                                                                   "to the speech (dB), is a warning")
    music_error_ratio_db: float = Field(-8.0, ge=-60, le=20, description="... and louder than this an error")

    @model_validator(mode="after")
    def _ordered(self) -> "QCAudio":
        _warn_before_error(self, ("silence_s", "silence_error_s"), ("pace_tolerance", "pace_error_tolerance"),
                           ("loudness_tolerance_lu", "loudness_error_lu"), ("clipping_runs", "clipping_error_runs"),
                           ("music_ratio_db", "music_error_ratio_db"))
        return self


class QCPicture(Model):
    """Thresholds of the picture checks (qc.scene / qc.master, docs/quality.md)."""

    black_s: float = Field(0.5, gt=0, le=60, description="a black stretch at least this long is a warning")
    black_error_s: float = Field(2.0, gt=0, le=600, description="... and at least this long an error")
    black_pixel_threshold: float = Field(0.03, ge=0, le=1, description="a pixel darker than this (share of the luma "
                                                                        "range above black) counts as black; low, so "
                                                                        "dark slides and night skies are not black")
    freeze_s: float = Field(2.0, gt=0, le=60, description="a frozen picture this long where motion was intended "
                                                          "(clips, animated stills, avatars) is a warning")
    freeze_error_s: float = Field(6.0, gt=0, le=600, description="... and this long an error")
    freeze_noise_db: float = Field(-60.0, ge=-90, le=-10, description="frame differences below this count as frozen")
    av_mismatch_s: float = Field(0.1, gt=0, le=60, description="audio and video streams differing in length by more "
                                                               "than this is a warning")
    av_mismatch_error_s: float = Field(0.5, gt=0, le=600, description="... and by more than this an error")
    duration_tolerance_s: float = Field(0.2, gt=0, le=60, description="the video's length off the timeline's by "
                                                                      "more than this is an error")

    @model_validator(mode="after")
    def _ordered(self) -> "QCPicture":
        _warn_before_error(self, ("black_s", "black_error_s"), ("freeze_s", "freeze_error_s"),
                           ("av_mismatch_s", "av_mismatch_error_s"))
        return self


class QCCaptions(Model):
    """Thresholds of the caption checks (qc.captions, docs/quality.md)."""

    max_line_chars: int = Field(42, ge=10, le=200, description="longest caption line, horizontal formats")
    max_line_chars_vertical: int = Field(32, ge=10, le=200, description="longest caption line, vertical formats")
    max_lines: int = Field(2, ge=1, le=10, description="most lines in one caption")
    min_coverage: float = Field(0.98, ge=0, le=1, description="share of the narration's words the captions must "
                                                              "carry (below: warning)")
    min_coverage_error: float = Field(0.9, ge=0, le=1, description="... below this share: error")
    timing_tolerance_s: float = Field(0.5, gt=0, le=10, description="a sentence's captions starting or ending "
                                                                    "further than this from the spoken sentence")
    timing_error_s: float = Field(1.5, gt=0, le=60, description="... further than this: error")
    max_chars_per_s: float = Field(25.0, gt=0, le=100, description="reading speed above this (characters a second "
                                                                    "on screen) is a warning")

    @model_validator(mode="after")
    def _ordered(self) -> "QCCaptions":
        _warn_before_error(self, ("timing_tolerance_s", "timing_error_s"))
        if self.min_coverage_error > self.min_coverage:
            raise ValueError(f"min_coverage_error ({self.min_coverage_error:g}) is above min_coverage "
                             f"({self.min_coverage:g}); the error level must be the stricter one")
        return self


def _warn_before_error(m: Model, *pairs: tuple[str, str]) -> None:
    """A warning threshold beyond its error threshold would make the warning unreachable: say so at load time."""
    for warn, error in pairs:
        if getattr(m, warn) > getattr(m, error):
            raise ValueError(f"{warn} ({getattr(m, warn):g}) is beyond {error} ({getattr(m, error):g}); the warning "
                             "level must come before the error level")


class QCText(Model):
    """Thresholds of the on-screen text checks (slides, thumbnail; qc.text, docs/quality.md). Sizes are in
    pixels of a 1080p frame: a font size is scaled by 1080 / the frame's short side, so one threshold serves
    1920x1080, 1080x1920 and 4K alike."""

    tolerance_px: float = Field(2.0, ge=0, le=50, description="text may run this far (px at 1080p) out of its box "
                                                              "before it counts as overflowing (antialiasing)")
    min_px: float = Field(20.0, gt=0, le=200, description="smallest font size on a slide, px at 1080p (a warning below)")
    min_contrast: float = Field(4.5, ge=1, le=21, description="WCAG AA contrast of normal text against what is "
                                                              "behind it (a warning below)")
    min_contrast_large: float = Field(3.0, ge=1, le=21, description="WCAG AA contrast of large text")
    large_px: float = Field(48.0, gt=0, description="text this big (px at 1080p) is large: WCAG's 24 px doubled, "
                                                     "since a video frame is seen smaller than a page")
    large_bold_px: float = Field(37.0, gt=0, description="bold (700+) text this big is large (WCAG's 18.7 px doubled)")
    reject_contrast: float = Field(1.5, ge=1, le=21, description="below this contrast text is an error, not a warning")
    thumbnail_max_words: int = Field(6, ge=1, le=50, description="more words on the thumbnail are a warning")
    thumbnail_min_cap_px: float = Field(12.0, gt=0, le=100, description="cap height of the thumbnail's words, px, "
                                                                        "when the thumbnail is shown 320 px wide")


QCSeverity = Literal["info", "warning", "error"]


class QCScript(Model):
    """Thresholds of the script and metadata checks (renderers/qc_script.py, docs/quality.md).

    Over a YouTube limit is an error by default: metadata.json is cut to fit, so the upload would carry a
    clipped title or description that nobody wrote. `None` switches a limit off."""

    title_max_chars: int = Field(100, ge=1, le=100, description="longest title (YouTube's limit: 100 characters)")
    description_max_bytes: int = Field(5000, ge=1, le=5000, description="longest description, UTF-8 bytes "
                                                                         "(YouTube's limit: 5000)")
    tags_max_chars: int = Field(500, ge=1, le=500, description="all tags together, counted YouTube's way "
                                                               "(YouTube's limit: 500)")
    limits_severity: QCSeverity = Field("error", description="severity of a title, description or tags over its "
                                                             "limit, or a title with < or >")
    banned_phrase_severity: QCSeverity = Field("error", description="severity of a brand banned phrase in the "
                                                                    "narration, title or description")
    chapters_severity: QCSeverity = Field("warning", description="severity of `chapter:` marks YouTube would not "
                                                                 "show (first at 0:00, at least 3, each >= 10 s)")
    reading_grade_warn: float | None = Field(12.0, gt=0, le=30, description="Flesch-Kincaid grade of the "
                                                                            "narration above which a build is flagged")
    reading_grade_error: float | None = Field(None, gt=0, le=30, description="grade above which it is rejected")
    hook_max_s: float | None = Field(20.0, gt=0, le=600, description="longest first-scene narration (the hook), "
                                                                     "seconds, before a flag")
    hook_max_words: int | None = Field(60, ge=1, le=2000, description="most words in the first scene's narration")
    hook_severity: QCSeverity = "warning"


class QCPolicy(Model):
    """Thresholds of the policy checks (renderers/qc_policy.py): similarity to the brand's other videos,
    the AI-content disclosure, the made-for-kids declaration."""

    similarity_warn: float | None = Field(0.9, gt=0, le=1, description="cosine similarity (all-MiniLM-L6-v2) of the "
                                                                       "narration to another video of the brand above "
                                                                       "which a build is flagged")
    similarity_error: float | None = Field(0.98, gt=0, le=1, description="similarity above which it is rejected "
                                                                         "(a near copy)")
    disclosure_severity: QCSeverity = Field("error", description="severity of synthetic media (TTS voice, generated "
                                                                 "pictures or video, an avatar) uploaded while "
                                                                 "channel.synthetic_media is false")
    made_for_kids_severity: QCSeverity = Field("warning", description="severity of a brand that does not declare "
                                                                      "channel.made_for_kids explicitly")


class QC(Model):
    autopublish: bool = Field(False, description="publish an auto-approved build without a person (doit publish)")
    sample_share: float = Field(0.1, ge=0, le=1, description="share of auto-approved builds sent to human review")
    audio: QCAudio = Field(default_factory=QCAudio)
    picture: QCPicture = Field(default_factory=QCPicture)
    captions: QCCaptions = Field(default_factory=QCCaptions)
    text: QCText = Field(default_factory=QCText)
    script: QCScript = Field(default_factory=QCScript)
    policy: QCPolicy = Field(default_factory=QCPolicy)


# --------------------------------------------------------------- variants ----
# Arms the learning loop (`doit learn`, publish/learn.py) chooses between, one dimension at a time. A brand (or a
# recipe, which wins per dimension) declares them; `doit learn` writes the chosen arm of each dimension into a new
# video's `variant:` block, so the build reads it from the spec like any other setting and stays reproducible.
# What an arm's `value` means depends on the dimension (compiler/resolve.py applies it):
VARIANT_DIMENSIONS: dict[str, str] = {
    "voice": "a voice name from the brand's `voices` (the video's narration voice)",
    "template": "a slide template in recipes/templates/slide/ (the video's default slide template)",
    "thumbnail_template": "a thumbnail template in recipes/templates/thumbnail/",
    "title_style": "an instruction for the script writer about the title, e.g. 'Phrase the title as a question.'",
    "prompt_template": "a folder in recipes/prompts/ whose prompt templates (create.md.j2, system.md.j2, ...) replace "
                       "the default ones of the same name when the script is generated ('default': the default prompts)",
}
VariantDimension = Literal["voice", "template", "thumbnail_template", "title_style", "prompt_template"]


class Arm(Model):
    """One arm of a variant dimension: a name (what reports and `variant:` say) and the value it sets. A plain
    string is shorthand for an arm whose name and value are that string (`voice: [joe, robot]`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra=lambda s, _: _or_name(s))

    name: str = Field(pattern=NAME_PATTERN, description="the arm's name (letters, digits, '_' and '-')")
    value: str = Field(min_length=1, description="what the arm sets: " + "; ".join(
        f"{d}: {what}" for d, what in VARIANT_DIMENSIONS.items()))

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"name": v, "value": v} if isinstance(v, str) else v


def _or_name(schema: dict) -> None:
    """The JSON Schema of an arm also takes the shorthand: a plain name (editors must not flag `[joe, robot]`)."""
    obj = {k: schema.pop(k) for k in ("type", "properties", "required", "additionalProperties") if k in schema}
    schema["anyOf"] = [{"type": "string", "pattern": NAME_PATTERN}, obj]


def _arms_valid(v: dict[str, list[Arm]]) -> dict[str, list[Arm]]:
    for dim, arms in v.items():
        if len(arms) < 2:
            raise ValueError(f"variants.{dim} needs at least two arms to choose between (it has {len(arms)})")
        names = [a.name for a in arms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"variants.{dim}: arm name(s) {', '.join(dup)} appear twice; names must be unique")
    return v


Variants = Annotated[dict[VariantDimension, list[Arm]], AfterValidator(_arms_valid)]


Corner = Literal["bottom_right", "bottom_left", "top_right", "top_left"]


class Images(Model):
    """Text-to-image for `genimage` scenes (renderers/image_diffusers.py, docs/visuals-images-avatar.md)."""

    model: str | None = Field(None, description="local diffusers model folder (with model_index.json), relative to "
                                                "brands/ and inside the project (e.g. ../models/sd15, git-ignored). "
                                                "Never downloaded.")
    variant: str | None = Field(None, description="weight variant to load, e.g. fp16 (files named *.fp16.safetensors)")
    style: str = Field("", description="style words appended to every prompt")
    negative: str = Field("", description="negative prompt words added to every scene's negative_prompt")
    steps: int = Field(30, ge=1, le=200, description="denoising steps (1-4 for turbo/LCM models)")
    guidance: float = Field(7.5, ge=0, le=30, description="classifier-free guidance scale (0 for turbo models)")
    width: int | None = Field(None, ge=64, le=2048, multiple_of=8, description="default: the model's native size")
    height: int | None = Field(None, ge=64, le=2048, multiple_of=8, description="default: the model's native size")
    fallback: Literal["none", "media", "slide"] = Field(
        "none", description="when no model is configured or its folder is missing: none = error; media = a still "
                            "from `library` picked from the prompt; slide = a slide showing the prompt")
    library: str = Field("media", description="folder of stills for `fallback: media`, relative to brands/")


class VideoModel(Model):
    """Image-to-video for `animate: true` scenes (renderers/video_diffusers.py): Stable Video Diffusion."""

    model: str = Field(description="local diffusers folder of an image-to-video pipeline (e.g. stable-video-diffusion-"
                                   "img2vid-xt), relative to brands/ and inside the project")
    variant: str | None = Field(None, description="weight variant to load, e.g. fp16")
    frames: int = Field(14, ge=2, le=128, description="frames generated per clip")
    fps: int = Field(7, ge=1, le=60, description="playback rate of the generated frames")
    steps: int = Field(25, ge=1, le=200)
    width: int = Field(1024, ge=64, le=2048, multiple_of=8)
    height: int = Field(576, ge=64, le=2048, multiple_of=8)
    motion_bucket_id: int = Field(127, ge=1, le=255, description="more motion with higher values")
    noise_aug_strength: float = Field(0.02, ge=0, le=1)
    decode_chunk_size: int = Field(8, ge=1, le=128, description="frames decoded at once (memory vs. speed)")
    boomerang: bool = Field(True, description="play forward then backward so the clip loops without a jump")


class Pip(Model):
    """Where a picture-in-picture presenter sits."""

    position: Corner = "bottom_right"
    size: float = Field(0.28, gt=0.05, le=0.6, description="box width as a fraction of the frame width")
    aspect: float = Field(1.0, ge=0.4, le=2.0, description="box width / height (1 square, 0.75 portrait)")
    margin: float = Field(0.03, ge=0, le=0.2, description="gap to the frame edges, as a fraction of the frame width")
    border: int = Field(4, ge=0, le=40, description="border in pixels, in the brand's accent colour")


class Avatar(Model):
    """A HeyGen presenter (renderers/avatar_heygen.py). The API key is read from the environment, never from here."""

    provider: Literal["heygen"] = "heygen"
    avatar_id: str = Field(min_length=1, description="HeyGen avatar (look) id, from GET /v3/avatars/looks")
    voice_id: str | None = Field(None, description="HeyGen voice id (GET /v3/voices); default: the avatar's voice")
    voice: Literal["heygen", "narration"] = Field(
        "heygen", description="heygen: HeyGen speaks the scene text with voice_id and that audio becomes the "
                              "narration; narration: our own TTS audio is uploaded (POST /v3/assets) and lip-synced")
    speed: float = Field(1.0, ge=0.5, le=1.5, description="HeyGen voice speed")
    words_per_minute: float = Field(150.0, gt=40, le=400, description="HeyGen voice rate, for length estimates")
    resolution: Literal["720p", "1080p"] = "1080p"
    background: HexColor | None = Field(None, description="solid background colour behind the avatar")
    api_key_env: ApiKeyEnv = Field("HEYGEN_API_KEY", description="environment variable holding the HeyGen API key "
                                                                 "(a name ending in _API_KEY)")
    max_duration_s: float = Field(300.0, gt=0, le=1800, description="longest avatar video your HeyGen plan allows "
                                                                    "(5:00 on Pro)")
    pip: Pip = Field(default_factory=Pip)



class Style(Model):
    """Settings that layer brand -> recipe -> video -> scene; closest wins."""

    voice: str | None = Field(None, description="name of a voice in the brand's `voices`")
    template: TemplateName | None = Field(None, description="slide template in recipes/templates/slide/")
    motion: Motion | None = Field(None, description="gentle motion applied to stills")
    pad: float | None = Field(None, ge=0, le=10, description="seconds of silence after each scene's narration")
    transition: Literal["cut", "crossfade"] | None = Field(
        None, description="how this scene begins: a hard cut or a crossfade from the previous scene")
    transition_s: float | None = Field(None, ge=0.1, le=3.0,
                                       description="crossfade length in seconds, centred on the scene boundary")


class Llm(Model):
    """Which LLM writes scripts for topic-only videos. Set on the brand; a video's `llm:` overrides
    single fields, except where requests go and which key they carry (`VideoLlm`). The API key never
    goes in a spec: `api_key_env` names the environment variable."""

    provider: Literal["gemini", "openai"] | None = Field(
        None, description="gemini (Google AI Studio) or openai (any OpenAI-compatible server: "
                          "Ollama, llama.cpp server, LM Studio, vLLM, OpenAI itself)")
    model: str | None = Field(None, description="model name, e.g. gemini-2.5-flash or qwen2.5:7b-instruct")
    base_url: str | None = Field(None, description="API endpoint, e.g. http://localhost:11434/v1 for Ollama; "
                                                   "default: the provider's public API")
    api_key_env: ApiKeyEnv | None = Field(
        None, description="NAME of the environment variable holding the API key, ending in _API_KEY (default "
                          "GEMINI_API_KEY for gemini, OPENAI_API_KEY for api.openai.com, none for local servers)")
    temperature: float = Field(0.8, ge=0, le=2)
    max_output_tokens: int | None = Field(None, gt=0, le=1_000_000)
    timeout_s: float = Field(180.0, gt=0, le=3600, description="per request")
    max_retries: int = Field(4, ge=0, le=10,
                             description="retries after 429, 5xx and timeouts (exponential backoff with jitter; "
                                         "the server's retry delay is honoured)")
    max_repairs: int = Field(2, ge=0, le=5, description="re-asks after invalid output, with the errors fed back")
    max_shortens: int = Field(2, ge=0, le=5, description="re-asks to shorten a script over the length budget")
    visuals: list[Literal["slide", "genimage", "manim", "remotion", "image", "clip"]] | None = Field(
        None, description="visual kinds the LLM may use (default: every kind this build can render)")
    context_chars: int = Field(40_000, ge=1000, le=2_000_000,
                               description="most characters of research and creator examples put in one prompt")
    price_input_per_1m: float = Field(0.0, ge=0, description="USD per million input tokens, for cost accounting")
    price_output_per_1m: float = Field(0.0, ge=0, description="USD per million output tokens")

    @field_validator("api_key_env", mode="before")
    @classmethod
    def _not_a_key(cls, v: str | None) -> str | None:
        if isinstance(v, str) and v.startswith(("sk-", "AIza", "gsk_", "hf_")):
            raise ValueError("api_key_env is the NAME of an environment variable (e.g. GEMINI_API_KEY), "
                             "never the key itself")
        return v


MACHINE_ONLY = "is machine or brand configuration"


class VideoLlm(Llm):
    """A video's `llm:` block: it may pick the model and tune the run, but never redirect requests.

    Where requests go (`base_url`) and which secret they carry (`api_key_env`) come from the brand
    or the machine's SHOWRUNNER_LLM_* environment only: otherwise a video spec could send its
    research files, with any API key, to a server of its choosing."""

    base_url: str | None = Field(None, description="not allowed in a video: set it in the brand's llm: block "
                                                   "or in SHOWRUNNER_LLM_BASE_URL")
    api_key_env: ApiKeyEnv | None = Field(None, description="not allowed in a video: set it in the brand's llm: block")

    @field_validator("base_url", "api_key_env", mode="before")
    @classmethod
    def _not_in_a_video(cls, v, info):
        if v is not None:
            raise ValueError(f"llm.{info.field_name} {MACHINE_ONLY}, never set by a video: it decides where "
                             "the script request (with research files and an API key) is sent. Set it in "
                             "brands/<brand>.yaml (llm:) or SHOWRUNNER_LLM_BASE_URL, and remove it here")
        return v


class Brand(Model):
    name: str
    channel: Channel = Field(default_factory=Channel)
    niche: str = ""
    audience: str = ""
    tone: str = ""
    style_guide: str = ""
    banned_phrases: list[str] = Field(default_factory=list)
    voices: dict[str, Voice] = Field(default_factory=lambda: {"joe": Voice()})
    palette: Palette = Field(default_factory=Palette)
    fonts: Fonts = Field(default_factory=Fonts)
    logo: str | None = Field(None, description="logo image shown on slides and thumbnails (relative to brands/)")
    thumbnail_template: TemplateName = Field("default", description="thumbnail template in recipes/templates/thumbnail/")
    recipe: str = Field("explainer", description="default recipe in recipes/")
    tags: list[str] = Field(default_factory=list, description="tags added to every video")
    description_footer: str = ""
    music: Music | None = None
    quality: Quality = Field(default_factory=Quality)
    encoder: Literal["x264", "nvenc", "videotoolbox"] = Field(
        "x264", description="video encoder of the final render: x264 (software, identical bytes on every machine) or, "
                            "opt-in for speed, a hardware encoder (nvenc on NVIDIA, videotoolbox on a Mac); hardware "
                            "output differs by machine, so it gets its own cache keys and runs only where it works")
    qc: QC = Field(default_factory=QC, description="the quality gate: thresholds, sampling for review, autopublish")
    variants: Variants = Field(default_factory=dict, description="arms `doit learn` assigns to new videos, per "
                                                                 "dimension (voice, template, thumbnail_template, "
                                                                 "title_style, prompt_template)")
    images: Images | None = Field(None, description="text-to-image model and fallback for genimage scenes")
    video_model: VideoModel | None = Field(None, description="image-to-video model for `animate: true`")
    avatar: Avatar | None = Field(None, description="HeyGen presenter for avatar scenes")
    defaults: Style = Field(default_factory=Style)
    llm: Llm | None = Field(None, description="LLM that writes scripts for topic-only videos (see docs/scripts.md)")
    creator_examples: list[str] = Field(
        default_factory=list, description="the creator's own example scripts (text/markdown, relative to brands/): "
                                          "style references for generated scripts, and what style similarity is measured against")

    @field_validator("voices")
    @classmethod
    def _voices_nonempty(cls, v: dict) -> dict:
        if not v:
            raise ValueError("a brand needs at least one voice")
        return v


# --------------------------------------------------------------- recipe ----

class FormatPreset(Model):
    width: int = Field(gt=0, le=7680)
    height: int = Field(gt=0, le=7680)
    fps: int = Field(30, ge=1, le=120)
    max_duration_s: float = Field(gt=0)
    burn_captions: bool = False


def _unique(names: list[str]) -> list[str]:
    """Each format once: a repeated name would build (and publish) the same output twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"format '{name}' is listed twice")
        seen.add(name)
    return names


class Recipe(Model):
    description: str = ""
    formats: list[str] = Field(default_factory=lambda: ["long"])
    thumbnail_template: TemplateName | None = Field(None, description="thumbnail template in recipes/templates/thumbnail/")
    defaults: Style = Field(default_factory=Style)
    variants: Variants = Field(default_factory=dict, description="arms per dimension for this recipe's videos "
                                                                 "(replace the brand's arms of that dimension)")

    @field_validator("formats")
    @classmethod
    def _formats_unique(cls, v: list[str]) -> list[str]:
        return _unique(v)


# --------------------------------------------------------------- visuals ---

class SlideVisual(Model):
    kind: Literal["slide"] = "slide"
    title: str = Field("", json_schema_extra={"maxLength": SLIDE_TITLE_MAX_CHARS},
                       description=f"the slide's heading, at most {SLIDE_TITLE_MAX_CHARS} characters")
    bullets: list[Bullet] = Field(default_factory=list, json_schema_extra={"maxItems": SLIDE_BULLETS_MAX},
                                  description=f"at most {SLIDE_BULLETS_MAX} bullets of at most "
                                              f"{SLIDE_BULLET_MAX_CHARS} characters each")
    body: str = ""
    template: TemplateName | None = Field(None, description="slide template in recipes/templates/slide/")
    image: str | None = Field(None, description="optional picture placed on the slide")

    @field_validator("title")
    @classmethod
    def _title_fits(cls, v: str) -> str:
        if len(v) > SLIDE_TITLE_MAX_CHARS:
            raise ValueError(f"the slide title has {len(v)} characters; at most {SLIDE_TITLE_MAX_CHARS} fit on a "
                             "slide (shorten it, or move the detail into bullets or body)")
        return v

    @field_validator("bullets")
    @classmethod
    def _bullets_fit(cls, v: list[str]) -> list[str]:
        if len(v) > SLIDE_BULLETS_MAX:
            raise ValueError(f"{len(v)} bullets; at most {SLIDE_BULLETS_MAX} fit on a slide (split the scene in two, "
                             "or merge bullets)")
        return v


class ImageVisual(Model):
    kind: Literal["image"] = "image"
    file: str = Field(description="local still image (png, jpg, webp)")
    fit: Fit = "cover"
    motion: Motion | None = None
    caption: str = ""
    animate: bool = Field(False, description="image-to-video when the brand configures a video_model")


class ClipVisual(Model):
    kind: Literal["clip"] = "clip"
    file: str = Field(description="local video clip")
    start: float = Field(0.0, ge=0, le=86400, description="seconds into the clip to start from (less than the "
                                                         "clip's length)")
    fit: Fit = "cover"
    loop: bool = Field(True, description="loop the clip if it is shorter than the narration")


class GenImageVisual(Model):
    """Text-to-image with a local diffusers model (renderers/image_diffusers.py)."""

    kind: Literal["genimage"] = "genimage"
    prompt: str = Field(description="what to draw; the brand's style words are appended")
    negative_prompt: str = ""
    seed: int = Field(0, description="change to re-roll the picture")
    motion: Motion | None = None
    animate: bool = Field(False, description="image-to-video when the brand configures a video model")


class ManimVisual(Model):
    """An animation from a template in recipes/manim/ or a user-written manim Scene file.

    Template params are checked against the template's own `Params` model when the spec loads.
    """

    kind: Literal["manim"] = "manim"
    template: TemplateName | None = Field(None, description="template name in recipes/manim/, e.g. bullet_reveal")
    file: str | None = Field(None, description="your own manim file (instead of a template)")
    scene: str | None = Field(None, description="Scene class in `file`")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="template parameters (see docs/visuals-manim-remotion.md), "
                                               "or data for your own scene (self.showrunner.params)")

    @model_validator(mode="after")
    def _template_or_file(self) -> "ManimVisual":
        if bool(self.template) == bool(self.file):
            raise ValueError("a manim visual needs either `template:` (recipes/manim/) or `file:` + `scene:`")
        if self.file and not self.scene:
            raise ValueError("`file:` needs `scene:`, the name of the Scene class to render")
        if self.template and self.scene:
            raise ValueError("`scene:` goes with `file:`; a template has its own scene")
        return self


class RemotionVisual(Model):
    """A Remotion composition from recipes/remotion/, with props from the scene."""

    kind: Literal["remotion"] = "remotion"
    composition: CompositionId = Field("TitleCard", description="composition id registered in recipes/remotion/src/Root.tsx")
    props: dict[str, Any] = Field(default_factory=dict, description="input props for the composition")


class AvatarVisual(Model):
    """A HeyGen avatar presenter speaking the scene's narration."""

    kind: Literal["avatar"] = "avatar"
    layout: Literal["full", "pip"] = Field("full", description="full: the presenter fills the frame; pip: a small "
                                                               "presenter box over the `over` visual")
    over: Annotated[Union[SlideVisual, ImageVisual, ClipVisual, GenImageVisual, ManimVisual, RemotionVisual],
                    Field(discriminator="kind")] | None = Field(
        None, description="what the picture-in-picture avatar is placed over (layout: pip)")
    position: Corner | None = Field(None, description="pip corner for this scene (default: the brand's avatar.pip)")

    @model_validator(mode="after")
    def _layout_over(self) -> "AvatarVisual":
        if self.layout == "pip" and self.over is None:
            raise ValueError("layout: pip needs `over:`, the visual the presenter is placed over (e.g. a slide)")
        if self.layout == "full" and self.over is not None:
            raise ValueError("`over:` is only used with layout: pip")
        return self


Visual = Annotated[Union[SlideVisual, ImageVisual, ClipVisual, GenImageVisual, ManimVisual, RemotionVisual, AvatarVisual],
                   Field(discriminator="kind")]


# ----------------------------------------------------------------- video ---

class Scene(Style):
    narration: str = Field(description="what the narrator says in this scene")
    visual: Visual = Field(default_factory=SlideVisual)
    audio: str | None = Field(None, description="recorded narration file (bring your own voice)")
    chapter: str | None = Field(None, description="start a YouTube chapter here with this title")
    salt: str = Field("", description="change to re-roll this scene's generated content")

    @field_validator("narration")
    @classmethod
    def _narration_nonempty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("narration is empty; write what the narrator says, or remove the scene")
        return v.strip()


class Thumbnail(Model):
    text: str | None = Field(None, json_schema_extra={"maxLength": THUMBNAIL_TEXT_MAX_CHARS},
                             description=f"big text on the thumbnail, at most {THUMBNAIL_TEXT_MAX_WORDS} words and "
                                         f"{THUMBNAIL_TEXT_MAX_CHARS} characters; default: the title")
    image: str | None = Field(None, description="background picture for the thumbnail")
    template: TemplateName | None = Field(None, description="thumbnail template in recipes/templates/thumbnail/")
    prompt: str | None = Field(None, description="picture to generate for the thumbnail (written by script generation)")

    @field_validator("text")
    @classmethod
    def _text_fits(cls, v: str | None) -> str | None:
        if v is None:
            return v
        n = len(v.split())
        if n > THUMBNAIL_TEXT_MAX_WORDS or len(v) > THUMBNAIL_TEXT_MAX_CHARS:
            raise ValueError(f"thumbnail text has {n} words and {len(v)} characters; at most "
                             f"{THUMBNAIL_TEXT_MAX_WORDS} words and {THUMBNAIL_TEXT_MAX_CHARS} characters stay readable "
                             "and clear of the logo (a few punchy words; the title says the rest)")
        return v


class Generated(Model):
    """Provenance of a generated script lock, written by the build; `salt`/`roll` decide re-rolls."""

    by: str = Field("script.llm", description="the step kind that wrote the script")
    provider: str
    model: str
    key: str = Field(description="action key of the script step (cache/actions/<key>.json holds the full usage)")
    salt: str = Field("", description="the video's salt when generated; a different salt in the spec re-rolls")
    roll: int = Field(0, ge=0, description="re-roll counter bumped by `doit regen:<brand>/<slug>`")
    at: str = Field(description="when the script was generated (UTC)")
    usage: dict[str, Any] = Field(default_factory=dict, description="tokens, cost, attempts, style similarity")


class Script(Model):
    """A script: either inline in the video spec or in a `<slug>.script.yaml` next to it."""

    title: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    thumbnail: Thumbnail | None = None
    scenes: list[Scene] = Field(min_length=1)
    alt_titles: list[str] = Field(default_factory=list, description="other title candidates (for A/B tests)")
    length_s: float | None = Field(None, gt=0, description="intended length in seconds ([length] in the tag format)")
    generated: Generated | None = Field(
        None, description="how a generated lock was made; delete this block to own the script (never re-rolled)")


class Video(Style):
    title: str | None = Field(None, description="video title (<= 100 characters, no < or >)")
    topic: str | None = Field(None, description="what the video is about")
    notes: str = ""
    recipe: str | None = None
    format: str | list[str] | None = Field(None, description="format preset(s), e.g. long or [long, short]")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    thumbnail: Thumbnail = Field(default_factory=Thumbnail)
    music: Music | Literal[False] | None = None
    salt: str = Field("", description="change to re-roll generated content on purpose")
    script: str | None = Field(None, description="script file next to the spec, e.g. my-video.script.yaml")
    scenes: list[Scene] | None = Field(None, min_length=1)
    research: list[str] = Field(default_factory=list,
                                description="local text/markdown files with facts and sources for script generation")
    target_length: float | None = Field(None, gt=0, le=36000, description="length to aim for when generating, seconds")
    variant: dict[VariantDimension, str] = Field(
        default_factory=dict, description="the arm of each variant dimension this video uses, by name: written by "
                                          "`doit learn` (Thompson sampling), or set by hand to fix it")
    llm: VideoLlm | None = Field(None, description="override fields of the brand's `llm:` for this video "
                                                   "(not base_url or api_key_env: those are brand or machine settings)")

    @field_validator("format")
    @classmethod
    def _formats_unique(cls, v: str | list[str] | None) -> str | list[str] | None:
        return _unique(v) if isinstance(v, list) else v
