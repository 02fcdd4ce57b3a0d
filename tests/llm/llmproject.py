"""The tiny topic-video project the script tests build on (a brand with an espeak voice, 320x180 formats)."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FORMATS = """\
tiny: {width: 320, height: 180, fps: 10, max_duration_s: 600}
tinyshort: {width: 180, height: 320, fps: 10, max_duration_s: 20}
"""

BRAND = """\
name: Toast Lab
channel: {id: UCtoast, category: "27"}
niche: the science of breakfast
audience: curious home cooks
tone: warm and playful
style_guide: Short sentences. One idea per scene.
banned_phrases: [hack]
voices:
  robot: {engine: espeak, rate: 1.3, sentence_pause: 0.1, words_per_minute: 170}
logo: media/logo.svg
defaults: {voice: robot, pad: 0.2}
"""

TOPIC = """\
topic: Why toast tastes better than bread
notes: Keep it light.
format: tiny
research: [research/toast.md]
"""

HAND = """\
title: Hand Made
format: tiny
scenes:
  - narration: This video has a script written by hand.
    visual: {kind: image, file: media/pic.png}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_project(base: Path, dest: Path, llm: str | None, extra_brand: str = "") -> Path:
    """A copy of the base project whose brand has `llm:` (a YAML flow mapping) or none."""
    shutil.copytree(base, dest)
    write(dest / "brands" / "toast.yaml", BRAND + (f"llm: {llm}\n" if llm else "") + extra_brand)
    return dest
