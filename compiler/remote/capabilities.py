"""What this machine can run, as a set of capability names a renderer's `needs` is matched against.

    ffmpeg  chromium  espeak  piper  manim  latex  node  torch  gpu  cuda  mps  heygen  model:<folder>
    encoder:h264_nvenc  encoder:h264_videotoolbox  (a hardware encoder that encoded a test frame here)

Probed once when a worker starts: executables on PATH, Python packages importable (found, not imported, except
torch, which is imported only to ask for CUDA/MPS, and not at all with SHOWRUNNER_PROBE_TORCH=0), model folders
in `$SHOWRUNNER_MODELS` (a folder of diffusers folders, each with model_index.json), and whether a HeyGen key is
set (a yes or no: the key itself never leaves the machine).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import Mapping


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _ram_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _chromium(env: Mapping[str, str]) -> bool:
    if env.get("SHOWRUNNER_CHROMIUM"):
        return os.access(env["SHOWRUNNER_CHROMIUM"], os.X_OK)
    return bool(shutil.which("chromium") or shutil.which("chromium-browser") or
                (sys.platform == "darwin" and Path("/Applications/Chromium.app").exists()))


def _torch(env: Mapping[str, str]) -> tuple[set[str], dict]:
    if env.get("SHOWRUNNER_PROBE_TORCH", "1") == "0" or not _found("torch"):
        return set(), {}
    try:
        import torch
    except Exception:  # a broken install is no capability
        return set(), {}
    caps, info = {"torch"}, {"torch": torch.__version__}
    if torch.cuda.is_available():
        caps |= {"gpu", "cuda"}
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        caps |= {"gpu", "mps"}
    return caps, info


def models(env: Mapping[str, str]) -> list[str]:
    folder = env.get("SHOWRUNNER_MODELS")
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if (p / "model_index.json").is_file())


def probe(env: Mapping[str, str] | None = None) -> dict:
    """{"caps": [...], "cores", "ram_bytes", "host", "python", ...}: JSON-ready, no secrets."""
    env = os.environ if env is None else env
    caps: set[str] = set()
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        caps.add("ffmpeg")
        if env.get("SHOWRUNNER_PROBE_ENCODERS", "1") != "0":  # hardware encoders that really encode here
            from renderers.base import HW_ENCODERS, hw_encoder_works

            caps |= {f"encoder:{name}" for name in HW_ENCODERS.values() if hw_encoder_works(name)}
    if _chromium(env) and _found("playwright"):
        caps.add("chromium")
    if shutil.which("espeak-ng") or shutil.which("espeak"):
        caps.add("espeak")
    if _found("piper"):
        caps.add("piper")
    if _found("manim"):
        caps.add("manim")
    if shutil.which("latex") or shutil.which("pdflatex"):
        caps.add("latex")
    if shutil.which("node"):
        caps.add("node")
    if env.get("HEYGEN_API_KEY"):
        caps.add("heygen")
    tcaps, tinfo = _torch(env)
    caps |= tcaps
    found_models = models(env)
    caps |= {f"model:{m}" for m in found_models}
    return {"caps": sorted(caps), "cores": os.cpu_count() or 1, "ram_bytes": _ram_bytes(),
            "host": socket.gethostname(), "python": sys.version.split()[0], "platform": sys.platform,
            "models": found_models, **tinfo}
