"""Shared by the diffusers renderers: device choice, one cached pipeline per process, versions.

Models load only from local folders (`local_files_only=True`, `HF_HUB_OFFLINE=1`): a missing
file is an error, never a download. The device is picked at run time (CUDA, then Apple MPS,
then CPU) and recorded in the step's facts, but it is not part of the key: the seed drives a
CPU generator, so every device starts from the same noise and draws the same picture, give or
take floating-point differences between devices.
"""
from __future__ import annotations

import importlib.metadata
import os
import threading
from pathlib import Path
from typing import Any, Callable

from core.errors import StepError

_LOCK = threading.RLock()  # one pipeline at a time per process: memory, and CPU threads are shared
_CACHE: dict[tuple, Any] = {}  # the most recently used pipeline, reused by the next step of the build


def versions() -> dict:
    """Library versions for tool fingerprints, without a local build label (`2.13.0+cpu` -> `2.13.0`),
    so a CPU and a CUDA build of the same release share keys."""
    out = {}
    for lib in ("diffusers", "torch", "transformers"):
        try:
            out[lib] = importlib.metadata.version(lib).split("+")[0]
        except importlib.metadata.PackageNotFoundError:
            out[lib] = None
    return out


def pick_device() -> tuple[str, str]:
    """(device, dtype name). SHOWRUNNER_DEVICE=cpu|cuda|mps overrides the automatic choice."""
    try:
        import diffusers  # noqa: F401
        import torch
    except ImportError as exc:
        raise StepError(f"generated visuals need torch and diffusers ({exc.name} is not installed)",
                        hint="pip install torch diffusers transformers accelerate") from None

    want = os.environ.get("SHOWRUNNER_DEVICE", "").strip().lower()
    if want:
        if want.startswith("cuda") and not torch.cuda.is_available():
            raise StepError(f"SHOWRUNNER_DEVICE={want}, but torch sees no CUDA device")
        device = want
    elif torch.cuda.is_available():
        device = "cuda"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = "mps"
    else:
        device = "cpu"
    return device, ("float16" if device.startswith("cuda") else "float32")


def model_folder(files: list[Path]) -> Path:
    """The model folder from a step's `model` input: model_index.json comes first (compiler/genvisuals.py)."""
    index = Path(files[0])
    if index.name != "model_index.json":
        raise StepError(f"model input must start with model_index.json, got {index.name}")
    return index.parent


def _dtype_arg() -> str:
    """diffusers renamed `torch_dtype` to `dtype` (0.36+); older releases know only the first."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return "torch_dtype"
    return "dtype"


def load_pipeline(folder: Path, variant: str | None, device: str, dtype: str):
    key = (str(folder.resolve()), variant, device, dtype)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from diffusers import DiffusionPipeline
        from diffusers.utils import logging as dlogging

        dlogging.set_verbosity_error()
        kwargs: dict[str, Any] = {"local_files_only": True, _dtype_arg(): getattr(torch, dtype)}
        if variant:
            kwargs["variant"] = variant
        try:
            pipe = DiffusionPipeline.from_pretrained(str(folder), **kwargs)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise StepError(f"cannot load the diffusers model in {folder.name}/: {str(exc).splitlines()[0][:300]}",
                            hint="the folder must be a complete diffusers-format model (see docs/visuals-images-avatar.md)") from None
        pipe = pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        _CACHE.clear()  # keep one model in memory
        _CACHE[key] = pipe
        return pipe


def call_pipeline(pipe, kwargs: dict, steps: int, progress: Callable[[float, str], None], what: str,
                  required: str, needs: str):
    """Call a pipeline with only the arguments it accepts, reporting per-step progress."""
    import inspect

    accepted = inspect.signature(pipe.__call__).parameters
    if required not in accepted:
        raise StepError(f"{type(pipe).__name__} takes no `{required}`: it is not {needs}")
    args = {k: v for k, v in kwargs.items() if k in accepted and v is not None}
    if "callback_on_step_end" in accepted:
        def on_step(_pipe, i, _t, cb_kwargs):
            progress((i + 1) / max(1, steps), what)
            return cb_kwargs

        args["callback_on_step_end"] = on_step
    with _LOCK:
        try:
            return pipe(**args)
        except RuntimeError as exc:
            msg = str(exc).splitlines()[0][:300]
            hint = "use smaller width/height or fewer frames" if "out of memory" in msg.lower() else None
            raise StepError(f"{type(pipe).__name__} failed: {msg}", hint=hint) from None


def cpu_generator(seed: int):
    import torch

    return torch.Generator(device="cpu").manual_seed(int(seed))
