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


def _speech_wav(path, rate, channels, fmt="pcm_s16le", seconds=2.0):
    """Speech-like test audio: 0.3 s of silence, a voiced tone with pauses, 0.4 s of silence at the end."""
    expr = f"0.3*sin(2*PI*180*t)*(0.6+0.4*sin(2*PI*4*t))*between(t\\,0.3\\,{seconds - 0.4:.2f})"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc=exprs={'|'.join([expr] * channels)}:s={rate}:d={seconds}", "-c:a", fmt,
                    str(path)], check=True)
    return path


def _samples(path):
    import numpy as np

    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)


def test_recorded_pcm_wav_is_converted_without_ffmpeg(tmp_path, monkeypatch):
    """A 16-bit WAV (44.1 kHz stereo, as editors export) is downmixed and resampled in numpy: no ffmpeg process,
    the same length, silences and sound as ffmpeg's conversion (the two resamplers differ only near Nyquist)."""
    import numpy as np

    from renderers import tts_recorded

    src = _speech_wav(tmp_path / "me.wav", 44100, 2)
    text = {"text": "First part. Second, longer part here."}
    lead_ff, tail_ff = tts_recorded.convert_ffmpeg(src, 48000, tmp_path / "ffmpeg.wav")

    def no_ffmpeg(*a, **k):
        raise AssertionError("ffmpeg ran for a PCM WAV")

    monkeypatch.setattr(tts_recorded.subprocess, "run", no_ffmpeg)
    out, _ = run_renderer(RecordedVoice, tmp_path, text, {"audio": src})
    assert wav_facts(out / "audio.wav")[:2] == (48000, 1)
    ours, theirs = _samples(out / "audio.wav"), _samples(tmp_path / "ffmpeg.wav")
    assert len(ours) == len(theirs) == 96000
    snr = 10 * np.log10((theirs ** 2).sum() / ((ours - theirs) ** 2).sum())
    assert snr > 50, snr
    t = json.loads((out / "timings.json").read_text())
    assert abs(t["sentences"][0]["start"] - lead_ff) < 0.002 and abs(lead_ff - 0.3) < 0.005
    assert abs(t["sentences"][-1]["end"] - (2.0 - tail_ff)) < 0.002 and abs(tail_ff - 0.4) < 0.005


def test_recorded_48k_mono_wav_keeps_its_samples(tmp_path):
    from renderers import tts_recorded

    src = _speech_wav(tmp_path / "me.wav", 48000, 1)
    assert tts_recorded.convert_pcm(src, 48000, tmp_path / "out.wav") is not None
    assert (_samples(tmp_path / "out.wav") == _samples(src)).all()


def test_recorded_other_wavs_go_through_ffmpeg(tmp_path, monkeypatch):
    """24-bit and float WAVs, and long recordings, are not read in numpy; ffmpeg converts them (and finds the
    trailing silence, which ffmpeg 5 ends at the last sample)."""
    from renderers import tts_recorded

    long = _speech_wav(tmp_path / "long.wav", 8000, 1)
    monkeypatch.setattr(tts_recorded, "MAX_PCM_S", 1)  # a recording longer than this is streamed by ffmpeg
    assert tts_recorded.convert_pcm(long, 48000, tmp_path / "x.wav") is None
    for fmt in ("pcm_s24le", "pcm_f32le"):
        src = _speech_wav(tmp_path / f"{fmt}.wav", 44100, 2, fmt)
        assert tts_recorded.convert_pcm(src, 48000, tmp_path / "x.wav") is None
        out, _ = run_renderer(RecordedVoice, tmp_path, {"text": "One. Two."}, {"audio": src}, name=fmt)
        assert wav_facts(out / "audio.wav")[:2] == (48000, 1)
        t = json.loads((out / "timings.json").read_text())
        assert abs(t["sentences"][0]["start"] - 0.3) < 0.01 and abs(t["sentences"][-1]["end"] - 1.6) < 0.01


def test_resampler_passes_speech_and_stops_aliases():
    import numpy as np

    from renderers.tts_recorded import resample

    def level(y):
        return 20 * np.log10(np.sqrt(2) * y[4800:-4800].std() + 1e-12)

    t = np.arange(44100) / 44100
    for f in (100, 1000, 8000, 16000):
        assert abs(level(resample(np.sin(2 * np.pi * f * t), 44100, 48000))) < 0.1
    t = np.arange(96000) / 96000
    assert level(resample(np.sin(2 * np.pi * 30000 * t), 96000, 48000)) < -80  # above the new Nyquist
    impulse = np.zeros(4410)
    impulse[2205] = 1
    assert resample(impulse, 44100, 48000).argmax() == 2400  # no delay
    for n in (1, 146, 147, 148):
        assert len(resample(np.ones(n), 44100, 48000)) == -(-n * 160 // 147)
    assert resample(np.ones(10), 44056, 48000) is None  # 6000 phases: left to ffmpeg
