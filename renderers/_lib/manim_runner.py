"""Runs one manim scene in its own process: `python renderers/_lib/manim_runner.py job.json`.

Started by renderers/manim_scene.py, one process per step, so manim's global `config` never leaks
between steps and a crash cannot take the engine down. Self-contained (no imports from the
repository): the job file says everything — which template or user file, params, brand palette and
fonts, frame size, fps, the scene's duration and its narration's sentence times.

Protocol: `progress <seconds rendered>` lines on stdout; on failure one line
`SHOWRUNNER-ERROR {json}` on stderr with a message, the template/scene source location and, for
LaTeX, the TeX error, then exit status 3.
"""
from __future__ import annotations

import importlib.util
import json
import math
import sys
import textwrap
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class TemplateError(Exception):
    """A problem a template reports about its params (names the param)."""


@dataclass
class Showrunner:
    """What a template (or a user scene, as `self.showrunner`) knows about the scene it draws.

    Times are seconds from the start of the clip; the clip starts `lead` seconds before the
    narration and lasts `duration` seconds (narration + lead + pad, exactly the segment length).
    """

    params: Any
    palette: dict[str, str]
    fonts: dict[str, str]
    width: int
    height: int
    fps: int
    duration: float
    lead: float
    narration_s: float
    sentences: list[dict] = field(default_factory=list)

    # ------------------------------------------------------------ layout --
    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @property
    def frame_width(self) -> float:
        from manim import config

        return float(config.frame_width)

    @property
    def frame_height(self) -> float:
        from manim import config

        return float(config.frame_height)

    def color(self, name: str) -> str:
        return self.palette.get(name, name)

    def mix(self, a: str, b: str, t: float) -> str:
        """Colour between palette entries (or hex colours) a and b; t=0 gives a."""
        ca, cb = self.color(a).lstrip("#"), self.color(b).lstrip("#")
        rgb = [round(int(ca[i:i + 2], 16) * (1 - t) + int(cb[i:i + 2], 16) * t) for i in (0, 2, 4)]
        return "#" + "".join(f"{v:02x}" for v in rgb)

    def text(self, s: str, *, size: float = 36, heading: bool = False, color: str = "text", max_width: float | None = None,
             wrap: int | None = None):
        """Brand-styled Text; `wrap` breaks lines at about that many characters, `max_width` shrinks to fit."""
        from manim import BOLD, NORMAL, Text

        if wrap:
            s = "\n".join(textwrap.wrap(s, wrap)) or s
        t = Text(s, font=self.fonts["heading" if heading else "body"], font_size=size, color=self.color(color),
                 weight=BOLD if heading else NORMAL, line_spacing=0.9)
        limit = max_width if max_width is not None else self.frame_width * 0.86
        if t.width > limit:
            t.scale_to_fit_width(limit)
        return t

    def title(self, s: str):
        """The template's heading, top-left with an accent underline; None when s is empty."""
        from manim import DOWN, LEFT, UP, Line, VGroup

        if not s:
            return None
        t = self.text(s, size=46 if not self.portrait else 40, heading=True)
        t.to_edge(UP, buff=0.55).to_edge(LEFT, buff=0.7)
        bar = Line(t.get_corner(DOWN + LEFT), t.get_corner(DOWN + LEFT) + [min(t.width, 2.2), 0, 0],
                   color=self.color("accent"), stroke_width=6).shift(DOWN * 0.26)
        return VGroup(t, bar)

    # ------------------------------------------------------------ timing --
    @property
    def speech_end(self) -> float:
        return self.lead + self.narration_s

    def beats(self, n: int, *, spread: float = 0.8) -> list[float]:
        """When to reveal n items: at sentence starts when there are at least n sentences, else
        evenly from the start of the narration to `spread` of the way through it."""
        if n <= 0:
            return []
        starts = [self.lead + s["start"] for s in self.sentences]
        if len(starts) >= n:
            return starts[:n]
        first, last = self.lead, self.lead + self.narration_s * spread
        return [first + (last - first) * (i / (n - 1) if n > 1 else 0) for i in range(n)]

    def slot(self, scene, beats: list[float], i: int, longest: float = 1.2) -> float:
        """Run time for the animation starting at beats[i]: up to `longest`, never past the next beat."""
        nxt = beats[i + 1] if i + 1 < len(beats) else self.duration
        return max(1.0 / self.fps, min(longest, (nxt - scene.time) * 0.8, self.remaining(scene)))

    def remaining(self, scene) -> float:
        return max(0.0, self.duration - scene.time)

    def wait_until(self, scene, t: float) -> None:
        # whole frames: manim counts a frozen wait as floor(seconds * fps) frames, a live one as ceil
        frames = round(min(t, self.duration) * self.fps) - round(scene.time * self.fps)
        if frames >= 1:
            scene.wait((frames + 0.25) / self.fps)

    def play(self, scene, *animations, run_time: float = 1.0) -> None:
        """scene.play, shortened so the scene never runs past its duration."""
        rt = max(1.0 / self.fps, min(run_time, self.remaining(scene)))
        scene.play(*animations, run_time=rt)

    def hold(self, scene) -> None:
        """Hold the last frame to the end of the scene."""
        self.wait_until(scene, self.duration)

    # ------------------------------------------------------------- tex ----
    def tex(self, expr: str, *, param: str, size: float = 48, color: str = "text"):
        """MathTex that names the param on a LaTeX error."""
        from manim import MathTex

        try:
            return MathTex(expr, font_size=size, color=self.color(color))
        except Exception as exc:  # manim raises ValueError with a pointer to its log
            raise TemplateError(f"{param}: LaTeX could not typeset {expr!r}{tex_log_error()}") from exc


# ------------------------------------------------------------------ runner --

def tex_log_error() -> str:
    """The first `! ...` error of the newest LaTeX log in the media folder."""
    from manim import config

    logs = sorted(Path(config.media_dir).glob("Tex/*.log"), key=lambda p: p.stat().st_mtime)
    if not logs:
        return ""
    lines = logs[-1].read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            return ": " + " ".join(x.strip() for x in lines[i:i + 2])
    return ""


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"cannot import {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def configure(job: dict) -> None:
    from manim import config

    w, h = job["width"], job["height"]
    config.media_dir = job["media_dir"]
    config.pixel_width, config.pixel_height = w, h
    # the short side is always 8 units, so templates lay out the same in landscape and portrait
    if w >= h:
        config.frame_height, config.frame_width = 8.0, 8.0 * w / h
    else:
        config.frame_width, config.frame_height = 8.0, 8.0 * h / w
    config.frame_rate = job["fps"]
    config.background_color = job["palette"].get("background", "#000000")
    config.disable_caching = True  # the step store is the cache; manim's partial-movie hashes are not keys
    config.write_to_movie = True
    config.format = "mp4"
    config.output_file = "clip"
    config.progress_bar = "none"
    config.verbosity = "ERROR"
    config.preview = False


def scene_class(job: dict, sr: Showrunner):
    import manim

    source = Path(job["source"])
    if job.get("template"):
        module = load_module(source, f"showrunner_template_{job['template']}")
        if not hasattr(module, "construct") or not hasattr(module, "Params"):
            raise TemplateError(f"template {source.name} must define `Params` and `construct(scene, p, sr)`")
        try:
            sr.params = module.Params.model_validate(job["params"])
        except Exception as exc:
            raise TemplateError(f"params do not match the template: {exc}") from None
        build = module.construct

        class Base(manim.Scene):
            def construct(self):
                build(self, sr.params, sr)
                sr.hold(self)
    else:
        sys.path.insert(0, str(source.parent))
        module = load_module(source, source.stem)
        user = getattr(module, job["scene"], None)
        if not (isinstance(user, type) and issubclass(user, manim.Scene)):
            raise TemplateError(f"{source.name} has no manim Scene class named {job['scene']!r}")
        user.showrunner = sr
        Base = user

    class Tracked(Base):  # report progress after every play
        def play(self, *args, **kwargs):
            super().play(*args, **kwargs)
            print(f"progress {self.time:.3f}", flush=True)

    Tracked.__name__ = Base.__name__
    return Tracked


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    sr = Showrunner(params=job["params"], palette=job["palette"], fonts=job["fonts"], width=job["width"],
                    height=job["height"], fps=job["fps"], duration=job["duration"], lead=job["lead"],
                    narration_s=job["narration_s"], sentences=job["sentences"])
    where = job.get("template") or job.get("scene")
    try:
        configure(job)
        cls = scene_class(job, sr)
        scene = cls()
        scene.render()
        movie = Path(scene.renderer.file_writer.movie_file_path)
        if not movie.is_file():
            raise TemplateError("manim finished without writing a movie (did the scene play anything?)")
        Path(job["output"]).write_bytes(movie.read_bytes())
        print(json.dumps({"done": True, "seconds": round(float(scene.time), 4),
                          "frames": int(math.floor(scene.time * job["fps"] + 0.5))}), flush=True)
        return 0
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        source = str(Path(job["source"]).resolve())
        frames = [f for f in tb if str(Path(f.filename).resolve()) == source]
        at = f"{Path(job['source']).name}:{frames[-1].lineno}: {frames[-1].line}" if frames else ""
        msg = str(exc) if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
        if "latex error" in msg.lower() and "LaTeX could not" not in msg:
            msg += tex_log_error()
        sys.stderr.write("".join(traceback.format_exception(exc))[-3000:])
        sys.stderr.write("SHOWRUNNER-ERROR " + json.dumps({"message": msg[:1500], "where": at, "scene": where}) + "\n")
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
