"""Narration renderers with the real engines: Piper (bundled voice), espeak-ng, recorded audio."""
from __future__ import annotations

import json
import subprocess
import wave

from helpers import run_renderer
from renderers._lib.narration_common import split_sentences
from renderers.tts_espeak import EspeakTTS
from renderers import tts_piper
from renderers.tts_piper import PiperTTS
from renderers.tts_recorded import RecordedVoice


def wav_facts(path):
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getnframes() / w.getframerate()


def test_split_sentences():
    assert split_sentences("One. Two!  Three? \"Four.\" Five") == ["One.", "Two!", "Three?", "\"Four.\"", "Five"]
    assert split_sentences("Dr. No") == ["Dr. No"]


def test_piper_is_deterministic_and_timed(tmp_path):
    text = "The sky is dark. Stars appear one by one."
    out1, facts = run_renderer(PiperTTS, tmp_path, {"text": text, "sentence_pause": 0.2}, name="a")
    tts_piper._sentences.clear()  # synthesize again, not from the sentence memo
    out2, _ = run_renderer(PiperTTS, tmp_path, {"text": text, "sentence_pause": 0.2}, name="b")
    assert (out1 / "audio.wav").read_bytes() == (out2 / "audio.wav").read_bytes()  # pinned noise
    rate, ch, dur = wav_facts(out1 / "audio.wav")
    assert (rate, ch) == (48000, 1) and 1.5 < dur < 6
    t = json.loads((out1 / "timings.json").read_text())
    assert [s["text"] for s in t["sentences"]] == ["The sky is dark.", "Stars appear one by one."]
    assert t["sentences"][0]["end"] + 0.19 < t["sentences"][1]["start"] < t["sentences"][1]["end"] <= dur + 0.01
    assert facts["real_time_factor"] > 0
    out3, _ = run_renderer(PiperTTS, tmp_path, {"text": text, "sentence_pause": 0.2, "seed": 7}, name="c")
    assert (out3 / "audio.wav").read_bytes() != (out1 / "audio.wav").read_bytes()  # a new seed re-rolls
    fast, _ = run_renderer(PiperTTS, tmp_path, {"text": text, "sentence_pause": 0.2, "rate": 1.5}, name="d")
    assert wav_facts(fast / "audio.wav")[2] < dur * 0.85


def test_piper_sentence_memo_gives_the_same_bytes(tmp_path):
    """A re-render after an edit takes the unchanged sentences from the in-process memo (the studio's save loop);
    the output is byte-identical to a render that synthesizes every sentence."""
    params = {"text": "The sky is dark. Stars appear one by one.", "sentence_pause": 0.2}
    tts_piper._sentences.clear()
    run_renderer(PiperTTS, tmp_path, params, name="first")
    edited = {**params, "text": "The sky is truly dark. Stars appear one by one."}
    memo, _ = run_renderer(PiperTTS, tmp_path, edited, name="memo")
    assert len(tts_piper._sentences) == 3  # the unchanged second sentence came from the memo
    tts_piper._sentences.clear()
    fresh, _ = run_renderer(PiperTTS, tmp_path, edited, name="fresh")
    assert (memo / "audio.wav").read_bytes() == (fresh / "audio.wav").read_bytes()
    assert (memo / "timings.json").read_bytes() == (fresh / "timings.json").read_bytes()
    tts_piper.warm()  # the studio's warm-up loads the bundled voice (idempotent)
    assert tts_piper.load_voice.cache_info().currsize >= 1


def test_espeak(tmp_path):
    out, facts = run_renderer(EspeakTTS, tmp_path, {"text": "Hello there. General Kenobi.", "rate": 1.2})
    rate, ch, dur = wav_facts(out / "audio.wav")
    assert (rate, ch) == (48000, 1) and dur > 1
    assert facts["sentences"] == 2


def test_recorded_voice(tmp_path):
    src = tmp_path / "me.ogg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo:d=0.5", "-f", "lavfi",
                    "-i", "sine=f=300:r=44100:d=2", "-filter_complex", "[0][1]concat=n=2:v=0:a=1", "-c:a", "libvorbis",
                    str(src)], check=True)
    out, facts = run_renderer(RecordedVoice, tmp_path, {"text": "First part. Second, longer part here."}, {"audio": src})
    rate, ch, dur = wav_facts(out / "audio.wav")
    assert (rate, ch) == (48000, 1) and abs(dur - 2.5) < 0.1
    t = json.loads((out / "timings.json").read_text())
    assert 0.4 < t["sentences"][0]["start"] < 0.6  # leading silence is skipped
    assert t["sentences"][0]["end"] < t["sentences"][1]["end"] <= 2.51
