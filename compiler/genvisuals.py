"""Compile-time decisions for generated visuals: genimage, animate and avatar scenes.

The load checks (checks.py) and the compiler share these functions, so `check` reports exactly
what `plan` will do: which local model folder a scene uses, or which declared fallback replaces it
(and why). Everything here is a function of the brand config and the files on disk; nothing imports
torch or diffusers, and nothing reaches the network.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from core.spec import Brand, Images, Scene, Voice
from .project import MEDIA_SUFFIXES, OutsideProject, confine, estimate_seconds

DOCS = "docs/visuals-images-avatar.md"
WEIGHT_SUFFIXES = {".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".msgpack", ".onnx", ".gguf", ".onnx_data"}


class Unavailable(Exception):
    """A generated visual cannot be produced with this brand's configuration (a user-facing message)."""


@dataclass(frozen=True)
class ImageSource:
    mode: str  # "model" (generate), "media" or "slide" (a declared fallback)
    folder: Path | None = None  # the model folder when mode == "model"
    reason: str = ""  # why a fallback replaces the model


# ------------------------------------------------------------ model folders --

def model_dir(project_root: Path, ref: str) -> Path:
    """A model or library folder from a brand setting: relative to brands/, inside the project
    (OutsideProject otherwise). Loading a model can run code (pickled weights), so a spec may only
    point at folders the project holds; no ~ or $VARS expansion (a spec never reads the environment)."""
    p = Path(ref)
    if p.is_absolute() or p.drive:
        raise OutsideProject(f"'{ref}' is an absolute path: model and library folders are relative to brands/ and "
                             "inside the project (copy the model into the project, e.g. models/, git-ignored)")
    return confine(project_root, project_root / "brands" / p, ref)


def _shown(project_root: Path, folder: Path) -> str:
    """The folder as messages and step params show it: project-relative, never a machine path."""
    try:
        return str(folder.relative_to(project_root.resolve()))
    except ValueError:
        return folder.name


def model_problem(project_root: Path, folder: Path) -> str | None:
    shown = _shown(project_root, folder)
    if not folder.is_dir():
        return f"folder {shown} not found"
    if not (folder / "model_index.json").is_file():
        return (f"{shown} has no model_index.json (give a diffusers-format folder: the output of "
                "save_pretrained() or a diffusers repository snapshot)")
    try:
        json.loads((folder / "model_index.json").read_text())
    except (OSError, ValueError) as exc:
        return f"{shown}/model_index.json is unreadable: {exc}"
    for f in sorted(folder.rglob("*")):
        try:
            confine(project_root, f)
        except OutsideProject:
            return (f"{shown}/{f.relative_to(folder)} is a symlink that leads outside the project (a Hugging Face "
                    "cache snapshot?): copy the real files into the project (cp -rL)")
    return None


def _variant(f: Path) -> str | None:
    parts = f.name.split(".")
    if f.name.endswith(".index.json") or len(parts) < 3:
        return None
    return parts[-2].split("-")[0]


def _weights(files: list[Path], variant: str | None) -> list[Path]:
    """The weight files diffusers would load: the requested variant, safetensors before .bin."""
    for want in ([variant, None] if variant else [None]):
        chosen = [f for f in files if _variant(f) == want]
        for suffix in (".safetensors", ".bin"):
            hits = [f for f in chosen if f.suffix == suffix]
            if hits:
                return hits
        if chosen:
            return chosen
    return files


def model_files(folder: Path, variant: str | None = None) -> list[Path]:
    """model_index.json first, then every config, tokenizer and chosen weight file of each component.

    These become the step's inputs, so the action key covers the model's content; the engine's
    digest cache hashes each file once and remembers it by size, mtime and inode.
    """
    index = folder / "model_index.json"
    files = [index]
    for name, spec in sorted(json.loads(index.read_text()).items()):
        if name.startswith("_") or not (isinstance(spec, list) and len(spec) == 2 and spec[0]):
            continue
        sub = folder / name
        if not sub.is_dir():
            continue
        found = sorted(f for f in sub.rglob("*") if f.is_file()
                       and not any(part.startswith(".") for part in f.relative_to(folder).parts))
        files += [f for f in found if f.suffix not in WEIGHT_SUFFIXES]
        files += _weights([f for f in found if f.suffix in WEIGHT_SUFFIXES], variant)
    return files


# --------------------------------------------------------------- genimage --

def library_dir(project_root: Path, images: Images) -> Path:
    return model_dir(project_root, images.library)


def library_stills(project_root: Path, images: Images) -> list[Path]:
    """The library's stills; a symlink that leads outside the project is not one of them."""
    folder = library_dir(project_root, images)
    if not folder.is_dir():
        return []
    return sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in MEDIA_SUFFIXES["image"]
                  and _inside(project_root, f))


def _inside(project_root: Path, f: Path) -> bool:
    try:
        confine(project_root, f)
    except OutsideProject:
        return False
    return True


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) >= 3}


def pick_still(stills: list[Path], prompt: str, seed: int) -> Path:
    """Deterministic: the stills whose file names share the most words with the prompt win
    (name them for what they show); a hash of prompt and seed breaks ties, so a new seed re-rolls
    among equally good stills."""
    words = _words(prompt)
    best = max(len(words & _words(f.stem)) for f in stills)
    tied = [f for f in stills if len(words & _words(f.stem)) == best]
    h = int(hashlib.sha256(f"{seed}\n{' '.join(prompt.split())}".encode()).hexdigest(), 16)
    return tied[h % len(tied)]


def full_prompt(prompt: str, style: str) -> str:
    prompt, style = " ".join(prompt.split()), " ".join(style.split())
    return f"{prompt.rstrip(' ,.')}, {style}" if style else prompt


def image_source(project_root: Path, brand_name: str, brand: Brand) -> ImageSource:
    """Generate with the brand's model, or use its declared fallback; Unavailable when neither is possible."""
    images = brand.images
    if images is None:
        raise Unavailable(f"brand '{brand_name}' has no images.model; set images.model to a local diffusers folder "
                          f"in brands/{brand_name}.yaml (see {DOCS}), or declare images.fallback: media | slide")
    try:
        folder = model_dir(project_root, images.model) if images.model else None
        library_dir(project_root, images)
    except OutsideProject as exc:  # never a reason to fall back: the brand spec is wrong
        raise Unavailable(f"brand '{brand_name}' images: {exc}") from None
    if folder is not None:
        problem = model_problem(project_root, folder)
        if problem is None:
            return ImageSource("model", folder)
        reason = f"brand '{brand_name}' images.model is unusable: {problem}"
    else:
        reason = f"brand '{brand_name}' has no images.model"
    if images.fallback == "none":
        raise Unavailable(f"{reason}; set images.model to a local diffusers folder (see {DOCS}), "
                          "or declare images.fallback: media | slide")
    if images.fallback == "media" and not library_stills(project_root, images):
        raise Unavailable(f"{reason}, and the fallback library brands/{images.library}/ holds no stills "
                          f"({', '.join(sorted(MEDIA_SUFFIXES['image']))})")
    return ImageSource(images.fallback, None, reason)


# ----------------------------------------------------------------- avatar --

def avatar_lipsyncs(scene: Scene, brand: Brand, voice: Voice) -> bool:
    """True when HeyGen lip-syncs our narration audio; False when HeyGen's own voice speaks the text."""
    assert brand.avatar is not None
    return brand.avatar.voice == "narration" or bool(scene.audio) or voice.engine == "recorded"


def avatar_seconds(scene: Scene, brand: Brand, voice: Voice) -> float:
    av = brand.avatar
    assert av is not None
    if avatar_lipsyncs(scene, brand, voice):
        return estimate_seconds(scene.narration, voice.words_per_minute, voice.rate)
    return estimate_seconds(scene.narration, av.words_per_minute, av.speed)
