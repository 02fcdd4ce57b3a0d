"""manim.scene: every template renders at the scene's exact length in the brand colours; user scene
files run through the whole pipeline; mistakes are spec errors with positions or clear step errors."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from compiler.catalogue import manim_templates
from core.errors import StepError
from core.timeline import scene_frames
from support import REPO, build_all, session, write
from helpers import run_renderer
from renderers.base import ffprobe
from renderers.manim_scene import ManimScene

PALETTE = {"background": "#102030", "surface": "#203040", "text": "#ffffff", "accent": "#ff8800", "muted": "#aaaaaa"}
FONTS = {"heading": "DejaVu Sans", "body": "DejaVu Sans"}
BG, ACCENT = (0x10, 0x20, 0x30), (0xff, 0x88, 0x00)

TEMPLATES = {
    "title_card": {"title": "Dark skies", "subtitle": "and how to find them", "kicker": "Part 1"},
    "bullet_reveal": {"title": "Skyglow", "bullets": ["Light escapes", "Air scatters it", "The sky glows"]},
    "equation": {"steps": [r"E = \frac{L}{4 \pi d^2}", r"E \propto d^{-2}"], "notes": ["flux", "inverse square"]},
    "chart": {"type": "bar", "labels": ["1", "5", "9"], "values": [7.6, 5.8, 4.0], "y_label": "magnitude"},
    "timeline": {"events": [{"when": "1879", "label": "Street lights"}, {"when": "2016", "label": "LEDs"}]},
    "diagram": {"nodes": [{"id": "lamp", "label": "Lamp"}, {"id": "sky", "label": "Sky"}],
                "edges": [{"from": "lamp", "to": "sky", "label": "scatter"}]},
}


def narration_timings(tmp_path, seconds: float, sentences: int = 3):
    step = seconds / sentences
    data = {"duration_s": seconds, "samples": int(seconds * 48000), "sample_rate": 48000,
            "sentences": [{"text": f"Sentence {i}.", "start": round(i * step, 3), "end": round((i + 0.8) * step, 3)}
                          for i in range(sentences)]}
    path = tmp_path / "timings.json"
    path.write_text(json.dumps(data))
    return path


def frames_rgb(path, w, h) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def near(frame: np.ndarray, rgb, tol: int = 40) -> int:
    return int((np.abs(frame.astype(int) - np.array(rgb)).max(axis=2) <= tol).sum())


def orange(frame: np.ndarray) -> int:
    """Pixels with the accent's hue (#ff8800, red well above blue), anti-aliased edges included; the
    brand's background, text and muted colours are all blue or grey."""
    f = frame.astype(int)
    return int(((f[..., 0] - f[..., 2] > 60) & (f[..., 0] >= f[..., 1])).sum())


def render(tmp_path, template: str, params: dict, w=320, h=180, fps=10, seconds=2.0, name="m"):
    p = {"template": template, "params": params, "width": w, "height": h, "fps": fps, "pad": 0.3, "lead": 0.2,
         "palette": PALETTE, "fonts": FONTS}
    timings = narration_timings(tmp_path, seconds)
    out, facts = run_renderer(ManimScene, tmp_path, p, {"source": REPO / "recipes/manim" / f"{template}.py",
                                                        "timings": timings}, name=name)
    return out / "clip.mp4", facts, scene_frames(seconds, 0.3, fps, 0.2)


def test_every_template_has_a_test():
    assert set(TEMPLATES) == set(manim_templates(REPO))


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_template_fills_the_scene_in_brand_colours(tmp_path, template):
    clip, facts, frames = render(tmp_path, template, TEMPLATES[template])
    video = next(s for s in ffprobe(clip)["streams"] if s["codec_type"] == "video")
    assert (int(video["width"]), int(video["height"])) == (320, 180)
    got = frames_rgb(clip, 320, 180)
    assert abs(len(got) - frames) <= 1, f"{len(got)} frames for a {frames}-frame scene"
    last = got[-1]
    assert near(last, BG, 6) > 0.5 * 320 * 180, "the brand background should fill most of the frame"
    assert orange(last) >= 150, "the accent colour should be on screen at the end"
    assert facts["template"] == template and facts["frames"] == frames


def test_reveals_follow_the_narration_sentences(tmp_path):
    """Bullet i appears when sentence i starts: before sentence 3 two bullets show, after it three."""
    params = {"bullets": ["First bullet line", "Second bullet line", "Third bullet line"], "highlight": False}
    clip, _, _ = render(tmp_path, "bullet_reveal", params, seconds=3.0)
    got = frames_rgb(clip, 320, 180)
    ink = [int((np.abs(f.astype(int) - np.array(BG)).max(axis=2) > 60).sum()) for f in got]
    third = round((0.2 + 2.0) * 10)  # lead + start of sentence 3, in frames
    assert ink[5] < ink[third - 1] < ink[-1], ink
    assert ink[third - 1] < 0.8 * ink[-1]


def test_portrait_format_lays_out_in_the_tall_frame(tmp_path):
    clip, _, _ = render(tmp_path, "bullet_reveal", TEMPLATES["bullet_reveal"], w=180, h=320)
    last = frames_rgb(clip, 180, 320)[-1]
    assert last.shape == (320, 180, 3) and orange(last) >= 100


def test_latex_error_names_the_param(tmp_path):
    with pytest.raises(StepError) as exc:
        render(tmp_path, "equation", {"steps": [r"x = 1", r"\notacommand{x}"]}, seconds=1.0)
    msg = str(exc.value)
    assert "params.steps[1]" in msg and "Undefined control sequence" in msg and "equation" in msg


# ------------------------------------------------------- whole pipeline ----

USER_SCENE = '''\
from manim import Scene, Square


class Glow(Scene):
    """Draws an accent square; reads the scene's facts from self.showrunner."""

    def construct(self):
        sr = self.showrunner
        size = sr.params.get("size", 2.0)
        self.add(Square(side_length=size, color=sr.palette["accent"], fill_opacity=1))
        self.wait(sr.duration)


class Broken(Scene):
    def construct(self):
        raise RuntimeError("this scene is broken on purpose")
'''

VIDEO = """\
title: Manim
format: tiny
scenes:
  - narration: A user scene draws a square.
    visual: {kind: manim, file: scenes/glow.py, scene: Glow, params: {size: 3}}
  - narration: Then a template.
    visual: {kind: manim, template: title_card, params: {title: Hello}}
"""


@pytest.fixture
def manim_project(mini):
    shutil.copytree(REPO / "recipes" / "manim", mini / "recipes" / "manim")
    write(mini / "videos/test/scenes/glow.py", USER_SCENE)
    write(mini / "videos/test/manim.yaml", VIDEO)
    for v in ("alpha", "beta"):
        (mini / f"videos/test/{v}.yaml").unlink()
    return mini


def test_user_scene_file_through_the_pipeline(manim_project):
    s, failed, executed = build_all(manim_project)
    assert failed == {}
    assert "test/manim/tiny/manim/00" in executed and "test/manim/tiny/manim/01" in executed
    step = s.plan().steps["test/manim/tiny/manim/00"]
    assert step.inputs["source"].file == "videos/test/scenes/glow.py" and step.params["scene"] == "Glow"
    video = manim_project / "build/test/manim/video.mp4"
    tl = json.loads((manim_project / "build/test/manim/manifest.json").read_text())
    first = frames_rgb(video, 320, 180)[round(tl["scenes"][0]["end_s"] * 10) - 1]
    # a 3-unit square on an 8-unit-high frame: 3/8 of 180 px squared, in the accent colour
    assert abs(near(first, ACCENT) - (180 * 3 / 8) ** 2) < 0.25 * (180 * 3 / 8) ** 2
    manifest = json.loads((manim_project / "build/test/manim/manifest.json").read_text())
    assert manifest["steps"]["test/manim/tiny/manim/00"]["tools"]["manim"]

    # the user's file is an input: editing it re-renders that scene's clip only
    glow = manim_project / "videos/test/scenes/glow.py"
    glow.write_text(glow.read_text().replace("fill_opacity=1", "fill_opacity=0.5"))
    _, failed, executed = build_all(manim_project)
    assert failed == {}
    assert "test/manim/tiny/manim/00" in executed and "test/manim/tiny/manim/01" not in executed


def test_a_failing_user_scene_is_a_step_error_with_its_line(manim_project):
    write(manim_project / "videos/test/manim.yaml", VIDEO.replace("scene: Glow", "scene: Broken"))
    s, failed, _ = build_all(manim_project)
    msg = failed["test/manim/tiny/manim/00"]
    assert "manim scene 'Broken' failed at glow.py:16" in msg and "broken on purpose" in msg


def test_template_params_are_checked_with_positions(manim_project):
    write(manim_project / "videos/test/manim.yaml", VIDEO.replace("params: {title: Hello}", "params: {titel: Hello}")
          .replace("scene: Glow", "scene: Glowing"))
    errors = session(manim_project).plan().errors["test/manim"]
    assert ("videos/test/manim.yaml:7:58: scenes[1].visual.params.titel: unknown field "
            "(template title_card takes: title, subtitle, kicker)") in errors
    assert "videos/test/manim.yaml:7:57: scenes[1].visual.params.title: required field is missing (template title_card)" in errors
    assert "videos/test/manim.yaml:5:56: scenes[0].visual.scene: no class 'Glowing' in scenes/glow.py" in errors
