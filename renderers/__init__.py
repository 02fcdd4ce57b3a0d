"""Renderer registry: one explicit line per renderer, kind -> "module:Class" (like yt-dlp's _extractors.py).

Modules load lazily: `get(kind)` imports only that renderer's module, on first use, so importing
`renderers` (or the compiler) does not import every renderer. tests/renderers/test_registry.py
fails if a module in renderers/ is not registered here. Shared helpers live in renderers/_lib/.
"""
from __future__ import annotations

import importlib

from .base import Renderer

REGISTRY: dict[str, str] = {
    "tts.piper": "tts_piper:PiperTTS",
    "tts.espeak": "tts_espeak:EspeakTTS",
    "tts.recorded": "tts_recorded:RecordedVoice",
    "slide.html": "slide_html:HtmlSlide",
    "segment.ffmpeg": "segment_ffmpeg:FfmpegSegment",
    "timeline.compose": "timeline:Timeline",
    "captions.subtitles": "captions:Captions",
    "assemble.ffmpeg": "assemble_ffmpeg:FfmpegAssemble",
    "thumbnail.html": "thumbnail_html:HtmlThumbnail",
    "metadata.youtube": "metadata:Metadata",
    "doc.scriptfiles": "scriptfiles:ScriptFiles",
    "script.llm": "script_llm:LlmScript",
    "image.diffusers": "image_diffusers:DiffusersImage",
    "image.fallback": "image_fallback:FallbackImage",
    "video.diffusers": "video_diffusers:DiffusersVideo",
    "avatar.heygen": "avatar_heygen:HeyGenAvatar",
    "pip.ffmpeg": "pip_ffmpeg:PipCompose",
    "manim.scene": "manim_scene:ManimScene",
    "remotion.bundle": "remotion_bundle:RemotionBundle",
    "remotion.clip": "remotion_clip:RemotionClip",
    "transition.ffmpeg": "transition_ffmpeg:FfmpegTransition",
    "segment.cut": "assemble_ffmpeg:SegmentCut",
    "audio.preview": "audio_preview:PreviewAudio",
    "audio.final": "audio_final:FinalAudio",
    "audio.part": "audio_parts:PartMix",
    "audio.gain": "audio_parts:PartGain",
    "audio.encode": "audio_parts:PartEncode",
    "audio.join": "audio_parts:JoinAudio",
    "qc.text": "qc_text:TextQC",
    "embed.index": "embed_index:EmbeddingIndex",
    "qc.scene": "qc_scene:SceneQC",
    "qc.master": "qc_master:MasterQC",
    "qc.captions": "qc_captions:CaptionsQC",
    # quality gate (issue 11): script embedding, script/metadata and policy checks, the verdict
    "embed.minilm": "embed_minilm:ScriptEmbedding",
    "qc.script": "qc_script:ScriptQC",
    "qc.policy": "qc_policy:PolicyQC",
    "qc.verdict": "qc_verdict:QCVerdict",
}

_loaded: dict[str, type[Renderer]] = {}


def kinds() -> list[str]:
    """Every registered renderer kind, in registry order."""
    return list(REGISTRY)


def get(kind: str) -> type[Renderer]:
    """The renderer class for `kind` (KeyError if none); imports its module on first use."""
    cls = _loaded.get(kind)
    if cls is None:
        module, name = REGISTRY[kind].split(":")
        cls = _loaded[kind] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return cls
