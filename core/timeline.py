"""The timeline is data: integer frames per scene, computed once from narration durations.

Segments and the timeline step both call `scene_frames`, so a segment needs only its own
narration (editing one scene never invalidates another scene's segment).
"""
from __future__ import annotations

import math

LEAD_S = 0.2  # silence before each scene's narration
SAMPLE_RATE = 48000


def scene_frames(audio_s: float, pad_s: float, fps: int, lead_s: float = LEAD_S) -> int:
    return max(1, math.ceil(round((lead_s + audio_s + pad_s) * fps, 6)))


def frames_to_samples(frames: int, fps: int, rate: int = SAMPLE_RATE) -> int:
    return frames * rate // fps
