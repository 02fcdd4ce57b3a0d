"""Renderer registry: one explicit import line per renderer (like yt-dlp's _extractors.py).

tests/renderers/test_registry.py fails if a renderer module is not registered here.
"""
from __future__ import annotations

from .assemble_ffmpeg import FfmpegAssemble
from .avatar_heygen import HeyGenAvatar
from .base import Renderer
from .captions import Captions
from .image_diffusers import DiffusersImage
from .image_fallback import FallbackImage
from .manim_scene import ManimScene
from .metadata import Metadata
from .pip_ffmpeg import PipCompose
from .remotion_bundle import RemotionBundle
from .remotion_clip import RemotionClip
from .script_llm import LlmScript
from .scriptfiles import ScriptFiles
from .segment_ffmpeg import FfmpegSegment
from .slide_html import HtmlSlide
from .thumbnail_html import HtmlThumbnail
from .timeline import Timeline
from .transition_ffmpeg import FfmpegTransition
from .tts_espeak import EspeakTTS
from .tts_piper import PiperTTS
from .tts_recorded import RecordedVoice
from .video_diffusers import DiffusersVideo

RENDERERS: dict[str, type[Renderer]] = {cls.kind: cls for cls in (
    PiperTTS, EspeakTTS, RecordedVoice, HtmlSlide, FfmpegSegment, Timeline, Captions, FfmpegAssemble,
    HtmlThumbnail, Metadata, ScriptFiles, LlmScript,
    DiffusersImage, FallbackImage, DiffusersVideo, HeyGenAvatar, PipCompose,
    ManimScene, RemotionBundle, RemotionClip, FfmpegTransition,
)}

# modules in renderers/ that hold shared helpers, not renderers
HELPER_MODULES = {"base", "browser", "caption_text", "narration_common", "diffusers_common", "heygen_api",
                  "llm_common", "llm_gemini", "llm_openai", "script_draft", "style_embed",
                  "manim_runner", "remotion_common"}


def get(kind: str) -> type[Renderer]:
    return RENDERERS[kind]
