"""The final soundtrack as its own step (audio.final, issue 12): padded from the narration exactly as the segments
pad it, mixed, levelled and encoded by the assembly's own code, so the final video has the same bytes whether the
assembly mixes the segments' audio itself or muxes audio.final's soundtrack."""
from __future__ import annotations

import subprocess

from helpers import run_renderer
from renderers.assemble_ffmpeg import FfmpegAssemble, measure_loudness
from renderers.audio_final import FinalAudio, pad_narration
from test_segment_assemble import segment


def test_final_soundtrack_step_gives_the_same_video_bytes_as_the_assembly(tmp_path):
    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=320x180:d=1", "-frames:v", "1",
                    str(img)], check=True)
    music = tmp_path / "music.ogg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=200:d=3", "-c:a", "libvorbis", str(music)],
                   check=True)
    scenes = [("s1", [(1.2, True), (0.3, False)], 0.3), ("s2", [(0.9, True)], 0.5)]
    segs = []
    for name, pattern, pad in scenes:
        out, facts, _ = segment(tmp_path, name, img, "image", pattern, pad=pad)
        segs.append((out, facts))
        # the step pads the narration to exactly the segment's samples
        padded = tmp_path / f"{name}-padded.wav"
        pad_narration(tmp_path / f"{name}.wav", tmp_path / f"{name}.json", pad, 0.2, 10, padded)
        assert padded.read_bytes() == (out / "audio.wav").read_bytes()
    level = {"loudness_lufs": -16.0, "true_peak_db": -1.0, "music_volume_db": -12, "music_duck_db": 12}
    videos = [o / "video.mp4" for o, _ in segs]
    old, old_facts = run_renderer(FfmpegAssemble, tmp_path, {"fps": 10, **level},
                                  {"videos": videos, "audios": [o / "audio.wav" for o, _ in segs], "music": music},
                                  name="old", input_facts={"videos": [f for _, f in segs]})
    sound, sound_facts = run_renderer(FinalAudio, tmp_path, {"fps": 10, "pads": [0.3, 0.5], **level},
                                      {"audios": [tmp_path / "s1.wav", tmp_path / "s2.wav"],
                                       "timings": [tmp_path / "s1.json", tmp_path / "s2.json"], "music": music},
                                      name="sound")
    new, new_facts = run_renderer(FfmpegAssemble, tmp_path, {"fps": 10, **level},
                                  {"videos": videos, "audio": sound / "audio.m4a"}, name="new",
                                  input_facts={"videos": [f for _, f in segs], "audio": sound_facts})
    assert (new / "video.mp4").read_bytes() == (old / "video.mp4").read_bytes()
    assert new_facts == old_facts
    got = measure_loudness(new / "video.mp4")
    assert abs(got["integrated_lufs"] + 16.0) <= 0.5 and got["true_peak_dbtp"] <= -1.0
    # dual mono: a stereo AAC-LC track whose channels are the same samples (the one coded channel written twice);
    # the facts' loudness, the coded channel's + 3.01 dB, is what a meter reads on the stereo file
    import numpy as np

    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
                            "stream=codec_name,profile,channels", "-of", "csv=p=0", str(new / "video.mp4")],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert probe == "aac,LC,2"
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(new / "video.mp4"), "-map", "0:a", "-f", "f32le",
                          "-"], capture_output=True, check=True).stdout
    pcm = np.frombuffer(raw, "<f4").reshape(-1, 2)
    assert np.abs(pcm).max() > 0.05 and np.array_equal(pcm[:, 0], pcm[:, 1])
    assert abs(got["integrated_lufs"] - sound_facts["integrated_lufs"]) <= 0.1 + 1e-9  # both read to 0.1 LU
    assert got["true_peak_dbtp"] == sound_facts["true_peak_dbtp"]
    assert sound_facts["scenes"] == 2 and sound_facts["duration_s"] == sum(f["frames"] for _, f in segs) / 10
    # the music check's numbers come with the soundtrack, from its own stems (the narration and the ducked music
    # before they are mixed), and agree with qc.master separating them from the final mix (which also counts the
    # AAC encoder's noise as music, so it reads a little higher: 1.8 dB on this 2-second pure tone)
    from renderers.qc_master import music_ratio

    decoded = music_ratio(new / "video.mp4", [o / "audio.wav" for o, _ in segs], tmp_path)
    assert -2.5 < new_facts["music_db"] - decoded["music_db"] <= 0.1
    assert sound_facts["music_db"] == new_facts["music_db"] and "gap_music_db" in sound_facts


def test_bracketing_pass_finds_the_gain_the_single_gain_search_converges_to(tmp_path):
    """The gain search measures two gains in one pass (the unlimited estimate and 2.5 dB above) and interpolates:
    the interpolated gain brings the limited mix to the target within 0.1 LU, as the single-gain loop's stop rule
    asks. A target the bracket does not reach (the limiter eats more than the bracket adds) gives None, and the
    single-gain search takes over."""
    from renderers.assemble_ffmpeg import GAIN_BRACKET_DB, bracket_gain, parse_loudness

    mix = tmp_path / "mix.wav"
    # a voice-like signal with loud peaks: the limiter works near the target
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    "aevalsrc=0.05*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*3*t))+0.15*sin(2*PI*880*t)*lt(mod(t\\,1)\\,0.02):"
                    "s=48000:d=20", "-c:a", "pcm_f32le", str(mix)], check=True)
    measured = parse_loudness(subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(mix), "-af", "ebur128",
                                              "-f", "null", "-"], capture_output=True, text=True).stderr)["integrated_lufs"]
    ceiling = 10 ** ((-1.0 - 0.6) / 20)

    def limited(gain: float) -> float:
        chain = f"volume={gain:.3f}dB,alimiter=limit={ceiling:.5f}:attack=2:release=60:level=disabled:asc=1,ebur128"
        return parse_loudness(subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(mix), "-af", chain, "-f",
                                              "null", "-"], capture_output=True, text=True).stderr)["integrated_lufs"]

    target = -17.0
    start = target - measured
    assert limited(start) < target - 0.3  # the limiter eats part of the estimate: there is something to find
    gain = bracket_gain(mix, start, ceiling, target)
    assert gain is not None and start < gain < start + GAIN_BRACKET_DB
    assert abs(limited(gain) - target) <= 0.1 + 1e-9  # the meter prints to 0.1 LU
    # a target far beyond what the bracket reaches
    assert bracket_gain(mix, start, ceiling, target + 10) is None
    # a quiet target: the limiter never acts and the unlimited estimate is already right (the meter reads it to
    # 0.1 LU, on either side of the target), so it is taken as it is rather than searched for again
    quiet = -30.0 - 0.04
    assert bracket_gain(mix, quiet - measured, ceiling, quiet) == quiet - measured
    assert abs(limited(quiet - measured) - quiet) <= 0.1


def test_narrations_streamed_into_the_mix_give_the_filters_bytes(tmp_path, monkeypatch):
    """16-bit mono narrations at 48 kHz are padded and joined in Python and streamed into the mix as one input; a
    narration in any other format sends every scene through ffmpeg's padding filters, one input each. Both give the
    same soundtrack, byte for byte."""
    from renderers import assemble_ffmpeg
    from test_segment_assemble import tone_narration

    names = [("s1", [(1.2, True), (0.3, False)]), ("s2", [(0.9, True)]), ("s3", [(0.4, False), (0.7, True)])]
    for name, pattern in names:
        tone_narration(tmp_path, name, pattern)
    params = {"fps": 10, "pads": [0.3, 0.5, 0.2], "loudness_lufs": -16.0}
    inputs = {"audios": [tmp_path / f"{n}.wav" for n, _ in names], "timings": [tmp_path / f"{n}.json" for n, _ in names]}
    fed = []
    real = assemble_ffmpeg.run_metered
    monkeypatch.setattr(assemble_ffmpeg, "run_metered", lambda *a, **k: fed.append(len(a) > 2 and a[2] is not None)
                        or real(*a, **k))
    streamed, facts = run_renderer(FinalAudio, tmp_path, params, inputs, name="streamed")
    monkeypatch.setattr(assemble_ffmpeg, "open_pcm", lambda path: None)
    filtered, facts2 = run_renderer(FinalAudio, tmp_path, params, inputs, name="filtered")
    assert fed[0] is True and fed[-1] is False  # the first mix was fed through the pipe, the second was not
    assert (streamed / "audio.m4a").read_bytes() == (filtered / "audio.m4a").read_bytes()
    assert facts == facts2
