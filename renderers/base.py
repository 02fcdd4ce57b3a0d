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
    `"profile": "preview"` and so never shares a key (or a cache entry) with a final one.

    The same rule serves every field added to a renderer later: a subclass names it in IMPLICIT with the value it
    is left out at, so the keys of steps that do not use it stay as they were."""

    IMPLICIT: ClassVar[dict[str, Any]] = {"profile": "final"}
    profile: Literal["final", "preview"] = "final"

    @model_serializer(mode="wrap")
    def _defaults_are_implicit(self, handler):
        data = handler(self)
        if isinstance(data, dict):
            for name, value in self.IMPLICIT.items():
                if data.get(name, value) == value:
                    data.pop(name, None)
        return data


# Video encoders: x264 (software, bit-exact on every machine: the default) or a hardware encoder, opt-in per brand
# for speed. Hardware output differs between machines and drivers, so the encoder is in the step's params (key)
# and steps that use one are routed only to machines where it works (capability "encoder:<ffmpeg name>").
Encoder = Literal["x264", "nvenc", "videotoolbox"]
HW_ENCODERS: dict[str, str] = {"nvenc": "h264_nvenc", "videotoolbox": "h264_videotoolbox"}


class EncodeParams(ProfileParams):
    """ProfileParams plus the video encoder; `encoder` is left out of the params while it is "x264", so every
    existing key stays as it was and only an opted-in hardware encode gets a key of its own."""

    IMPLICIT: ClassVar[dict[str, Any]] = {**ProfileParams.IMPLICIT, "encoder": "x264"}
    encoder: Encoder = "x264"


class EncodingRenderer:
    """Mix-in for renderers whose Params are EncodeParams: a hardware encoder is a need of the step."""

    needs: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def needs_for(cls, params: dict | None) -> tuple[str, ...]:
        enc = (params or {}).get("encoder", "x264")
        return tuple(cls.needs) + ((f"encoder:{HW_ENCODERS[enc]}",) if enc in HW_ENCODERS else ())

    @classmethod
    def need_sets(cls) -> list[tuple[str, ...]]:
        return [tuple(cls.needs)] + [tuple(cls.needs) + (f"encoder:{name}",) for name in HW_ENCODERS.values()]


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

    # capabilities a machine needs to run this renderer ("ffmpeg", "chromium", "manim", "model:<folder>", ...:
    # compiler/remote/capabilities.py); steps go only to render workers that have all of them. Not part of the key.
    needs: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def needs_for(cls, params: dict | None) -> tuple[str, ...]:
        """What a step with these (resolved) params needs; more than `needs` when a param picks a machine feature
        (a hardware video encoder). Routing only: never part of the key."""
        return tuple(cls.needs)

    @classmethod
    def need_sets(cls) -> list[tuple[str, ...]]:
        """Every need-set `needs_for` can give (a worker consumes the queue of each set it satisfies)."""
        return [tuple(cls.needs)]

    @classmethod
    def cost_hint(cls, params: dict, upstream: Callable[[str], Any]) -> float:
        """A rough guess of what a step with these params costs, relative to other steps of its kind (0: no guess).
        `upstream(name)` is the Step that makes input `name` (None for a file). Among ready steps that are equally
        urgent, the engine starts the costliest first (longest processing time first), so a build does not end
        on one long step beside an idle core. Scheduling only: never part of the key."""
        return 0.0

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


@functools.lru_cache(maxsize=None)
def hw_encoder_works(name: str) -> bool:
    """Whether this machine's ffmpeg can really encode with `name` (listed is not enough: h264_nvenc is compiled
    into Debian's ffmpeg whether or not there is an NVIDIA GPU): one small frame, encoded and thrown away."""
    exe = shutil.which("ffmpeg")
    if not exe:
        return False
    try:
        proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                               "color=c=gray:s=256x256:r=30:d=0.1", "-frames:v", "2", "-pix_fmt", "yuv420p",
                               "-c:v", name, "-f", "null", "-"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def video_encoder_args(fps: int, profile: str, encoder: str, software: list[str]) -> list[str]:
    """ffmpeg arguments of the chosen encoder, with the stream layout every segment shares (so pieces join by
    stream copy): `software` (the x264 arguments) unless a hardware encoder was chosen and works here."""
    gop = ["-r", str(fps), "-g", str(fps * 2), "-fps_mode", "cfr"]
    if encoder == "x264" or profile == "preview":
        return software + gop
    name = HW_ENCODERS[encoder]
    if not hw_encoder_works(name):
        raise StepError(f"this machine cannot encode with {name} (the brand's `encoder: {encoder}`)",
                        hint="build on a machine that has it (render workers advertise encoder:<name>), or set "
                             "`encoder: x264` in the brand spec")
    common = ["-pix_fmt", "yuv420p", "-profile:v", "high", "-video_track_timescale", "90000", "-map_metadata", "-1",
              "-fflags", "+bitexact", "-flags:v", "+bitexact"]
    if encoder == "nvenc":
        return ["-c:v", name, "-preset", "p5", "-tune", "hq", "-rc", "vbr", "-cq", "21", "-b:v", "0", "-bf", "2",
                "-strict_gop", "1", "-no-scenecut", "1"] + common + gop
    return ["-c:v", name, "-q:v", "65", "-realtime", "0", "-allow_sw", "0", "-bf", "0"] + common + gop


def pad_filter(rate: int, delay_ms: int, samples: int, *, mono: bool = False) -> str:
    """The ffmpeg filter that places a scene's narration in its scene: resampled, `delay_ms` of lead silence, padded
    and cut to exactly `samples`. The segment, the final soundtrack and the preview piece all pad with it, so their
    audio has the same length sample for sample."""
    fmt = "aformat=channel_layouts=mono," if mono else ""
    return f"aresample={rate},{fmt}adelay={delay_ms}:all=1,apad=whole_len={samples},atrim=end_sample={samples}"


def stop_process(proc: subprocess.Popen) -> None:
    """Ask, then force (used by watchdogs on manim and node subprocesses)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def python_exe() -> str:
    return sys.executable
