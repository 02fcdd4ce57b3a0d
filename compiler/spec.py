"""Spec models: what users write in brands/, recipes/ and videos/.

Every model forbids unknown fields so a typo is an error, not a silently ignored setting.
Defaults layer brand -> recipe -> video -> scene (closest wins) through the shared `Style`
fields; `compiler.resolve` applies them at compile time so step keys see the resolved values.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="CSS hex colour, e.g. '#1a2b3c'")]
Motion = Literal["none", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]
Fit = Literal["cover", "contain"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


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
    model: str | None = Field(None, description="Piper .onnx voice file; default: the bundled en_US 'joe' voice")
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


class Quality(Model):
    loudness_lufs: float = Field(-14.0, ge=-30, le=-5)
    true_peak_db: float = Field(-1.0, ge=-9, le=0)
    max_duration_s: float | None = Field(None, gt=0, description="brand maximum video length")


class Style(Model):
    """Settings that layer brand -> recipe -> video -> scene; closest wins."""

    voice: str | None = Field(None, description="name of a voice in the brand's `voices`")
    template: str | None = Field(None, description="slide template in recipes/templates/slide/")
    motion: Motion | None = Field(None, description="gentle motion applied to stills")
    pad: float | None = Field(None, ge=0, le=10, description="seconds of silence after each scene's narration")
    transition: Literal["cut", "crossfade"] | None = None


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
    logo: str | None = Field(None, description="logo image shown on slides and thumbnails")
    thumbnail_template: str = "default"
    recipe: str = Field("explainer", description="default recipe in recipes/")
    tags: list[str] = Field(default_factory=list, description="tags added to every video")
    description_footer: str = ""
    music: Music | None = None
    quality: Quality = Field(default_factory=Quality)
    defaults: Style = Field(default_factory=Style)

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


class Recipe(Model):
    description: str = ""
    formats: list[str] = Field(default_factory=lambda: ["long"])
    thumbnail_template: str | None = None
    defaults: Style = Field(default_factory=Style)


# --------------------------------------------------------------- visuals ---

class SlideVisual(Model):
    kind: Literal["slide"] = "slide"
    title: str = ""
    bullets: list[str] = Field(default_factory=list)
    body: str = ""
    template: str | None = None
    image: str | None = Field(None, description="optional picture placed on the slide")


class ImageVisual(Model):
    kind: Literal["image"] = "image"
    file: str = Field(description="local still image (png, jpg, webp)")
    fit: Fit = "cover"
    motion: Motion | None = None
    caption: str = ""


class ClipVisual(Model):
    kind: Literal["clip"] = "clip"
    file: str = Field(description="local video clip")
    start: float = Field(0.0, ge=0, description="seconds into the clip to start from")
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
    """An animation from a template in recipes/manim/ or a user-written manim Scene file."""

    kind: Literal["manim"] = "manim"
    template: str | None = Field(None, description="template name in recipes/manim/, e.g. bullet_reveal")
    file: str | None = Field(None, description="your own manim file (instead of a template)")
    scene: str | None = Field(None, description="Scene class in `file`")
    params: dict[str, Any] = Field(default_factory=dict)


class RemotionVisual(Model):
    """A Remotion composition from recipes/remotion/, with props from the scene."""

    kind: Literal["remotion"] = "remotion"
    composition: str = "TitleCard"
    props: dict[str, Any] = Field(default_factory=dict)


class AvatarVisual(Model):
    """A HeyGen avatar presenter speaking the scene's narration."""

    kind: Literal["avatar"] = "avatar"
    layout: Literal["full", "pip"] = "full"
    over: Union[SlideVisual, ImageVisual, ClipVisual, None] = Field(
        None, description="what the picture-in-picture avatar is placed over")


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
    text: str | None = Field(None, description="big text on the thumbnail; default: the title")
    image: str | None = Field(None, description="background picture for the thumbnail")
    template: str | None = None


class Script(Model):
    """A script: either inline in the video spec or in a `<slug>.script.yaml` next to it."""

    title: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    thumbnail: Thumbnail | None = None
    scenes: list[Scene] = Field(min_length=1)


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
    scenes: list[Scene] | None = None
