"""The narration embedding runs all-MiniLM-L6-v2 in numpy (renderers/_lib/style_embed.py): the same vectors as the
model's reference implementation, sentence-transformers, without importing it (or transformers, or torch)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from renderers._lib import style_embed

TEXTS = ["The Moon has phases because half of it is always lit by the Sun.",
         "Salt in pasta water seasons the pasta; it barely changes the boiling point.",
         # longer than the model's 256 word pieces: embedded in chunks of about 120 words
         "Light pollution hides the Milky Way from most people on Earth, but a dark site an hour away shows it. " * 20,
         "Ünïcode, numbers like 3.14 and e-mail@example.com survive the word pieces."]


def test_the_same_vectors_as_sentence_transformers():
    st = pytest.importorskip("sentence_transformers")
    ref = st.SentenceTransformer(str(style_embed._model_dir()), device="cpu", local_files_only=True)
    pieces = [c for t in TEXTS for c in style_embed.chunks(t)]
    assert len(pieces) > len(TEXTS)  # the long text was chunked
    want = ref.encode(pieces, normalize_embeddings=True)
    got = style_embed.load_model().encode(pieces)
    assert got.shape == want.shape == (len(pieces), 384)
    assert np.abs(got - want).max() < 1e-5
    assert (got * want).sum(axis=1).min() > 0.99999
    # and the pieces' mean, as embed() gives it: unit vectors, one per text, related texts closer
    vecs = style_embed.embed(TEXTS)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0)
    assert vecs[0] @ vecs[2] > vecs[1] @ vecs[2]


def test_embedding_imports_neither_torch_nor_transformers():
    code = ("import sys; from renderers._lib import style_embed; style_embed.embed(['One sentence.']); "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_text_longer_than_the_model_reads_is_cut_at_256_word_pieces():
    model = style_embed.load_model()
    assert len(model.tokenizer.encode("word " * 1000).ids) == style_embed.MAX_TOKENS
    v = model.encode(["word " * 1000])[0]
    assert np.isfinite(v).all() and abs(np.linalg.norm(v) - 1) < 1e-9


def test_an_edited_long_text_embeds_only_its_changed_chunks(monkeypatch):
    """The chunk memo: a one-sentence edit of a long narration encodes the chunks it touches, and the vector is the
    one a fresh encode of every chunk gives."""
    sentences = [f"Part {i} of the story tells how the {w} sky changes over the {i % 7 + 2} seasons of the year."
                 for i, w in zip(range(120), ["dark", "bright", "cold", "clear"] * 30)]
    text = " ".join(sentences)
    edited = " ".join(sentences[:60] + ["Two new words arrive here.", *sentences[60:]])
    monkeypatch.setattr(style_embed, "_chunk_memo", style_embed.OrderedDict())
    model = style_embed.load_model()
    calls = []
    real = type(model).encode_one
    monkeypatch.setattr(type(model), "encode_one", lambda self, t: calls.append(t) or real(self, t))
    first = style_embed.embed([text])
    assert len(calls) == len(style_embed.chunks(text)) > 10
    calls.clear()
    again = style_embed.embed([edited])
    changed = set(style_embed.chunks(edited)) - set(style_embed.chunks(text))
    assert calls and set(calls) == changed and len(calls) < len(style_embed.chunks(edited)) / 2
    fresh = np.stack([real(model, c) for c in style_embed.chunks(edited)])
    assert np.array_equal(style_embed.encode_chunks(model, style_embed.chunks(edited)), fresh)  # memo == encode
    total = fresh.astype(np.float64).sum(axis=0)
    assert np.allclose(again[0], total / np.linalg.norm(total), rtol=0, atol=1e-12)
    assert not np.array_equal(first, again)
