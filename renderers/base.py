"""The renderer contract: one file, one class, one `kind`.

A renderer declares `kind`, an integer `version` (bump on any change of behaviour), a pydantic
`Params` model, the names of its inputs and outputs, a `tool_fingerprint()` and `run(ctx)` that
writes only into `ctx.out_dir`. Heavy imports belong inside `run`.
"""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_serializer

from core.errors import StepError


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileParams(Params):
    """Params of a renderer with a cheaper `preview` mode (the studio's fast preview: x264 ultrafast, a single
    loudness pass). `profile` is left out of the resolved params while it is "final", so a final step's params,
    and with them its action key, are exactly those from before the field existed; a preview step carries
    `"profile": "preview"` and so never shares a key (or a cache entry) with a final one."""

    profile: Literal["final", "preview"] = "final"

    @model_serializer(mode="wrap")
    def _final_is_implicit(self, handler):
        data = handler(self)
        if self.profile == "final" and isinstance(data, dict):
            data.pop("profile", None)
        return data


@dataclass
class Context:
    params: Any
    inputs: dict[str, Path | list[Path] | None]
    input_facts: dict[str, Any]
    out_dir: Path
    scratch: Path
    step_id: str
    progress: Callable[[float, str], None] = field(default=lambda frac, msg="": None)
    # retries, waits and warnings ("retry" | "wait" | "warning", message): always shown to the user, never rate-limited
    notice: Callable[[str, str], None] = field(default=lambda type, message: None)

    def out(self, name: str) -> Path:
        return self.out_dir / name


class Renderer:
    kind: ClassVar[str]
    version: ClassVar[int]
    Params: ClassVar[type[BaseModel]]
    inputs: ClassVar[tuple[str, ...]] = ()
    optional_inputs: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ()
    # in-process resources shared by this kind's steps (e.g. "chromium"); the engine calls `release(name)` once no
    # step left in a long build needs one, so an idle browser does not sit beside the video encodes
    resources: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def release(cls, resource: str) -> None:
        """Free `resource` (the next step that needs it starts it again)."""

    def tool_fingerprint(self) -> dict:
        return {}

    def run(self, ctx: Context) -> dict:
        """Produce every declared output in ctx.out_dir; return media facts (duration, ...)."""
        raise NotImplementedError


# ------------------------------------------------------- shared tool facts --

@functools.lru_cache(maxsize=None)
def ffmpeg_version() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        raise StepError("ffmpeg is not installed", hint="run scripts/install.sh or apt-get install ffmpeg")
    out = subprocess.run([exe, "-version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].split(" Copyright")[0]


def run_ffmpeg(args: list[str], *, what: str, progress: Callable[[float, str], None] | None = None,
               total_s: float | None = None, cwd: Path | None = None) -> None:
    """Run ffmpeg quietly (in `cwd` if given); report progress from `-progress`; raise StepError with its
    last lines."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    if progress and total_s:
        cmd += ["-progress", "pipe:1", "-stats_period", "1"]
    cmd += args
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    assert proc.stdout is not None
    if progress and total_s:
        for line in proc.stdout:
            if line.startswith("out_time_us="):
                try:
                    us = int(line.split("=", 1)[1])
                except ValueError:
                    continue
                progress(min(1.0, us / 1e6 / total_s), what)
    _, err = proc.communicate()
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-6:])
        raise StepError(f"ffmpeg failed while {what}: {tail}")


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise StepError(f"cannot read media file {path.name}: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout)


def stop_process(proc: subprocess.Popen) -> None:
    """Ask, then force (used by watchdogs on manim and node subprocesses)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def python_exe() -> str:
    return sys.executable
