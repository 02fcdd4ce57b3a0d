"""Renderer registry: one explicit import line per renderer (like yt-dlp's _extractors.py).

tests/renderers/test_registry.py fails if a renderer module is not registered here.
"""
from __future__ import annotations

from .assemble_ffmpeg import FfmpegAssemble
from .base import Renderer
from .captions import Captions
from .metadata import Metadata
from .scriptfiles import ScriptFiles
from .segment_ffmpeg import FfmpegSegment
from .slide_html import HtmlSlide
from .thumbnail_html import HtmlThumbnail
from .timeline import Timeline
from .tts_espeak import EspeakTTS
from .tts_piper import PiperTTS
from .tts_recorded import RecordedVoice

RENDERERS: dict[str, type[Renderer]] = {cls.kind: cls for cls in (
    PiperTTS, EspeakTTS, RecordedVoice, HtmlSlide, FfmpegSegment, Timeline, Captions, FfmpegAssemble,
    HtmlThumbnail, Metadata, ScriptFiles,
)}

# modules in renderers/ that hold shared helpers, not renderers
HELPER_MODULES = {"base", "browser", "caption_text", "narration_common"}


def get(kind: str) -> type[Renderer]:
    return RENDERERS[kind]
