"""Manim animations: a template from recipes/manim/ (or the user's own Scene file) rendered to an
mp4 as long as the scene, in its own process, with manim's media folder inside the step's scratch.

The clip fills the whole segment: it starts `lead` seconds before the narration and lasts the
scene's exact frame count (narration + lead + pad), so templates can time reveals to sentences.
The key covers the template source (an input file), the params, brand palette and fonts, frame
size and fps (manim's quality), the narration timings, and the manim/LaTeX versions.
"""
from __future__ import annotations

import functools
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from pydantic import Field

from core.errors import StepError
from core.timeline import scene_frames

from .base import Context, Params, Renderer, ffprobe, stop_process

RUNNER = Path(__file__).parent / "_lib" / "manim_runner.py"



@functools.lru_cache(maxsize=None)
def manim_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("manim", "manimpango", "pycairo", "av"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            if dist == "manim":
                raise StepError("manim is not installed", hint="pip install manim (scripts/install.sh)") from None
    for exe in ("latex", "dvisvgm"):
        try:
            first = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()
            out[exe] = first[0].strip() if first else "unknown"
        except (FileNotFoundError, subprocess.TimeoutExpired):
            out[exe] = "missing"  # only equation (MathTex) scenes need LaTeX; they fail with a clear error
    return out


class ManimScene(Renderer):
    kind = "manim.scene"
    version = 1
    needs = ("ffmpeg", "latex", "manim")  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("source", "timings")
    outputs = ("clip.mp4",)

    class Params(Params):
        template: str | None = Field(None, description="template name (None: a user scene file)")
        scene: str | None = Field(None, description="Scene class in the user's file")
        params: dict[str, Any] = Field(default_factory=dict)
        width: int
        height: int
        fps: int
        pad: float
        lead: float
        palette: dict[str, str]
        fonts: dict[str, str]

    def tool_fingerprint(self) -> dict:
        return manim_versions()

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        timings = json.loads(Path(ctx.inputs["timings"]).read_text())
        frames = scene_frames(timings["duration_s"], p.pad, p.fps, p.lead)
        what = f"manim template '{p.template}'" if p.template else f"manim scene '{p.scene}'"
        clip = ctx.scratch / "clip.mp4"
        job = {"source": str(Path(ctx.inputs["source"]).resolve()), "template": p.template, "scene": p.scene,
               "params": p.params, "palette": p.palette, "fonts": p.fonts, "width": p.width, "height": p.height,
               "fps": p.fps, "duration": frames / p.fps, "lead": p.lead, "narration_s": timings["duration_s"],
               "sentences": timings.get("sentences", []), "media_dir": str(ctx.scratch / "media"), "output": str(clip)}
        job_file = ctx.scratch / "job.json"
        job_file.write_text(json.dumps(job))
        log = ctx.scratch / "stderr.txt"  # a file, not a pipe: a chatty scene cannot block on a full pipe
        with open(log, "w") as errfh:
            proc = subprocess.Popen([sys.executable, str(RUNNER), str(job_file)], cwd=ctx.scratch,
                                    stdout=subprocess.PIPE, stderr=errfh, text=True)
        assert proc.stdout is not None
        total = frames / p.fps
        # a scene stuck in a loop must not hang the build: allow ~30x a slow 1080p render
        limit = 300 + 45 * total
        watchdog = threading.Timer(limit, stop_process, (proc,))
        watchdog.start()
        result: dict = {}
        for line in proc.stdout:
            if line.startswith("progress "):
                try:
                    ctx.progress(min(1.0, float(line.split()[1]) / total), f"rendering {what}")
                except ValueError:
                    pass
            elif line.startswith("{"):
                try:
                    result = json.loads(line)
                except json.JSONDecodeError:
                    pass
        proc.wait()
        watchdog.cancel()
        err = log.read_text(errors="replace")
        if proc.returncode in (-signal.SIGTERM, -signal.SIGKILL):
            raise StepError(f"{what} did not finish within {limit:.0f} s and was stopped",
                            hint="does the scene wait or loop forever?")
        if proc.returncode != 0 or not clip.is_file():
            hint = ("check the scene's params (docs/visuals-manim-remotion.md)" if p.template else
                    f"try the scene alone: python -m manim -ql {Path(ctx.inputs['source']).name} {p.scene}")
            raise failure(what, err, proc.returncode, hint)
        info = ffprobe(clip)
        video = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
        if video is None:
            raise StepError(f"{what} produced no video stream")
        clip.replace(ctx.out("clip.mp4"))
        clip_s = float(info["format"].get("duration", 0))
        return {"width": int(video["width"]), "height": int(video["height"]), "fps": p.fps,
                "duration_s": round(clip_s, 4), "scene_s": round(total, 4), "frames": frames,
                "manim_seconds": result.get("seconds"), "template": p.template or p.scene}


def failure(what: str, stderr: str, code: int, hint: str) -> StepError:
    """The runner's structured error if it wrote one, else the last lines manim printed."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("SHOWRUNNER-ERROR "):
            info = json.loads(line[len("SHOWRUNNER-ERROR "):])
            where = f" at {info['where']}" if info.get("where") else ""
            return StepError(f"{what} failed{where}: {info['message']}", hint=hint)
    tail = "\n".join(l for l in stderr.strip().splitlines()[-8:])
    return StepError(f"{what} failed (exit status {code}): {tail or 'no output'}",
                     hint="is manim installed in the venv? (scripts/install.sh)")
