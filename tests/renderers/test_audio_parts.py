"""The final soundtrack in parts (renderers/audio_parts.py, issue 12 goal 2): parts joined by copying AAC frames decode
exactly as the parts one after another; the whole is levelled to the target with true peaks under the limit; the
music starts again, from silence, at a join; each part lands within half a frame of its pictures; an edit's reach
is the part it touched, even when it changes a length."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from helpers import run_renderer
from renderers._lib.aac_join import FRAME, PART_EDGE_ZEROS, join_aac_mp4
from renderers.assemble_ffmpeg import measure_loudness
from renderers.audio_final import FinalAudio
from renderers.audio_final import scene_samples
from renderers.audio_parts import JoinAudio, PartEncode, PartGain, PartMix, frame_placement
from test_segment_assemble import tone_narration


def decode(path, channels=1):
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-map", "0:a", "-ac", str(channels),
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4")


def encode(pcm, path):
    raw = path.with_suffix(".f32")
    pcm.astype("<f4").tofile(raw)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "f32le", "-ar", "48000", "-ac", "1", "-i", str(raw),
                    "-c:a", "aac", "-aac_coder", "fast", "-aac_pns", "0", "-b:a", "96000", "-map_metadata", "-1",
                    "-fflags", "+bitexact", "-flags:a", "+bitexact+global_header", str(path)], check=True)


def test_joined_frames_decode_exactly_as_the_parts_one_after_another(tmp_path):
    rng = np.random.default_rng(3)
    lengths = [FRAME * 40, FRAME * 25, 30011]
    parts = []
    for i, n in enumerate(lengths):
        t = np.arange(n) / 48000
        x = 0.3 * np.sin(2 * np.pi * (220 + 100 * i) * t) + 0.05 * rng.standard_normal(n)
        if i:
            x[:PART_EDGE_ZEROS] = 0
        if i < len(lengths) - 1:
            x[-PART_EDGE_ZEROS:] = 0
        encode(x, tmp_path / f"p{i}.mp4")
        parts.append(tmp_path / f"p{i}.mp4")
    join_aac_mp4(parts, tmp_path / "joined.mp4", sum(lengths))
    joined = decode(tmp_path / "joined.mp4")
    one_by_one = np.concatenate([decode(p) for p in parts])
    assert len(joined) == len(one_by_one) and np.array_equal(joined, one_by_one)
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,duration,nb_frames",
                                       "-of", "json", str(tmp_path / "joined.mp4")], capture_output=True, text=True,
                                      check=True).stdout)["streams"][0]
    assert probe["codec_name"] == "aac" and int(probe["nb_frames"]) == 40 + 25 + 30 + 1  # + one priming frame
    assert abs(float(probe["duration"]) - sum(lengths) / 48000) < 0.001
    # a part but the last that is not whole frames cannot be joined
    encode(np.zeros(FRAME * 3 + 5), tmp_path / "odd.mp4")
    with pytest.raises(ValueError, match="whole number"):
        join_aac_mp4([tmp_path / "odd.mp4", parts[0]], tmp_path / "bad.mp4", FRAME * 43)


def soundtrack_in_parts(tmp_path, scenes, cut, music, level, name="a"):
    """Run the parts' steps as the plan wires them: scenes[:cut] and scenes[cut:] -> (join's out dir, facts, outs)."""
    pads = [pad for _, _, pad in scenes]
    audios = [tmp_path / f"{n}.wav" for n, _, _ in scenes]
    timings = [tmp_path / f"{n}.json" for n, _, _ in scenes]
    ranges = [(0, cut), (cut, len(scenes))]
    mix = {"music_volume_db": level["music_volume_db"], "music_duck_db": level["music_duck_db"]}
    mixes, encodes, outs = [], [], {}
    for k, (a, b) in enumerate(ranges):
        edge = {"first": k == 0, "last": k == 1}
        out, facts = run_renderer(PartMix, tmp_path, {"fps": 10, "pads": pads[a:b], **mix, **edge},
                                  {"audios": audios[a:b], "timings": timings[a:b], "music": music}, name=f"{name}mix{k}")
        mixes.append(out)
        outs[f"mix{k}"] = (out, facts)
    gain, gfacts = run_renderer(PartGain, tmp_path, {"loudness_lufs": level["loudness_lufs"]},
                                {"parts": [m / "loudness.json" for m in mixes]}, name=f"{name}gain")
    outs["gain"] = (gain, gfacts)
    for k, ((a, b), m) in enumerate(zip(ranges, mixes)):
        edge = {"first": k == 0, "last": k == 1}
        enc, efacts = run_renderer(PartEncode, tmp_path, {"true_peak_db": level["true_peak_db"], **edge},
                                   {"mix": m / "mix.wav", "loudness": m / "loudness.json", "gain": gain / "gain.json"},
                                   name=f"{name}enc{k}")
        encodes.append(enc)
        outs[f"enc{k}"] = (enc, efacts)
    joined, facts = run_renderer(JoinAudio, tmp_path, {"scenes": len(scenes)}, {
        "parts": [e / "part.m4a" for e in encodes], "meters": [e / "meter.json" for e in encodes],
        "loudness": [m / "loudness.json" for m in mixes], "gain": gain / "gain.json"}, name=f"{name}join")
    return joined, facts, outs


def test_soundtrack_in_parts_is_levelled_joined_in_silence_and_local_to_an_edit(tmp_path):
    music = tmp_path / "music.ogg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=330:d=2.5", "-c:a", "libvorbis",
                    str(music)], check=True)
    scenes = [("s1", [(1.2, True), (0.3, False), (0.8, True)], 0.4), ("s2", [(0.9, True)], 0.5),
              ("s3", [(0.4, False), (1.1, True)], 0.3)]
    for name, pattern, _ in scenes:
        tone_narration(tmp_path, name, pattern)
    level = {"loudness_lufs": -16.0, "true_peak_db": -1.0, "music_volume_db": -12, "music_duck_db": 12}
    joined, facts, outs = soundtrack_in_parts(tmp_path, scenes, 1, music, level)
    samples = scene_samples([tmp_path / f"{n}.json" for n, _, _ in scenes], [p for *_, p in scenes], 10, 0.2)
    total = sum(samples)
    assert abs(facts["duration_s"] - total / 48000) <= 0.5 * FRAME / 48000
    assert facts["scenes"] == 3 and facts["parts"] == 2
    # dual mono as audio.final writes it; the decode is the parts' decodes one after another
    pcm = decode(joined / "audio.m4a", 2).reshape(-1, 2)
    assert np.array_equal(pcm[:, 0], pcm[:, 1])
    first = decode(outs["enc0"][0] / "part.m4a")
    second = decode(outs["enc1"][0] / "part.m4a")
    assert np.array_equal(pcm[:, 0], np.concatenate([first, second]))
    # the join: part 1 is whole frames (its silent tail made longer by under a frame, or shorter by the frame left
    # out), and part 2 starts at the frame edge nearest to where scene 2 starts in the video
    edge = len(first)
    assert edge % FRAME == 0 and abs(edge - samples[0]) <= FRAME // 2
    assert outs["enc0"][1]["coded"] in (edge, edge + FRAME) and facts["av_offset_ms"] <= 10.67
    assert len(second) == -(-(samples[1] + samples[2]) // FRAME) * FRAME  # the last part (ffmpeg decodes whole frames)
    # ... and it is silent on both sides; the music (a steady tone under the narration's gaps) is heard before the
    # faded edge and starts again after it, from silence
    around = pcm[edge - PART_EDGE_ZEROS + FRAME:edge + PART_EDGE_ZEROS - FRAME, 0]
    assert np.abs(around).max() < 1e-4
    assert np.abs(pcm[edge + PART_EDGE_ZEROS + 6000:edge + PART_EDGE_ZEROS + 9000, 0]).max() > 1e-3
    # levelled: the whole (metered as a player hears it) is on the target, the true peak under the limit, and the
    # facts (merged from the parts' meters) read what a meter of the whole reads
    got = measure_loudness(joined / "audio.m4a")
    assert abs(got["integrated_lufs"] + 16.0) <= 0.4 and got["true_peak_dbtp"] <= -1.0
    assert abs(got["integrated_lufs"] - facts["integrated_lufs"]) <= 0.2
    assert facts["true_peak_dbtp"] <= -1.0 and abs(facts["true_peak_dbtp"] - got["true_peak_dbtp"]) <= 0.2
    # the whole's gain is a multiple of 0.2 dB; the music check's numbers come with it, as audio.final's do
    assert abs(facts["gain_db"] / 0.2 - round(facts["gain_db"] / 0.2)) < 1e-6
    whole, wfacts = run_renderer(FinalAudio, tmp_path, {"fps": 10, "pads": [p for *_, p in scenes], **level},
                                 {"audios": [tmp_path / f"{n}.wav" for n, _, _ in scenes],
                                  "timings": [tmp_path / f"{n}.json" for n, _, _ in scenes], "music": music},
                                 name="whole")
    assert abs(facts["integrated_lufs"] - wfacts["integrated_lufs"]) <= 0.3
    # the music check reads the parts' own stems; the music faded out and in around the join is less music (on a
    # 5-second soundtrack, 1.9 dB less), never more
    assert -2.5 <= facts["music_db"] - wfacts["music_db"] <= 0.1 and "gap_music_db" in facts

    # an edit of scene 3 (the second part) changes its mix, level and encode only: part 1's mix and encode and the
    # gain come out the same (the gain is rounded), so their keys downstream do not change
    tone_narration(tmp_path, "s3", [(0.4, False), (1.3, True)])
    _, facts2, outs2 = soundtrack_in_parts(tmp_path, scenes, 1, music, level, name="b")
    for name in ("mix0/loudness.json", "mix0/mix.wav", "gain/gain.json", "enc0/part.m4a"):
        step, file = name.split("/")
        assert (outs[step][0] / file).read_bytes() == (outs2[step][0] / file).read_bytes(), name
    assert (outs["mix1"][0] / "mix.wav").read_bytes() != (outs2["mix1"][0] / "mix.wav").read_bytes()
    assert facts2["duration_s"] > facts["duration_s"]
    # an edit of scene 1 that makes it longer moves the second part later in the video, but the part itself (mix,
    # level, AAC) is the same bytes: only the join places it differently
    tone_narration(tmp_path, "s1", [(1.2, True), (0.3, False), (1.1, True)])
    _, facts3, outs3 = soundtrack_in_parts(tmp_path, scenes, 1, music, level, name="c")
    assert facts3["duration_s"] > facts2["duration_s"]
    for name in ("mix1/mix.wav", "gain/gain.json", "enc1/part.m4a"):
        step, file = name.split("/")
        assert (outs2[step][0] / file).read_bytes() == (outs3[step][0] / file).read_bytes(), name


def test_each_part_starts_at_the_frame_edge_nearest_to_its_pictures():
    rng = np.random.default_rng(5)
    samples = [int(x) * 1600 for x in rng.integers(30, 3000, 200)]  # scenes are whole video frames (30 fps)
    drops, offsets = frame_placement(samples)
    assert offsets[0] == 0 and max(map(abs, offsets)) <= FRAME // 2 and not drops[-1]
    audio = video = 0
    for n, drop, off in zip(samples, drops, offsets):
        assert audio - video == off and audio % FRAME == 0
        audio, video = audio + -(-n // FRAME) * FRAME - FRAME * drop, video + n
    assert any(drops) and not all(drops[:-1])


def test_a_silent_part_gets_the_gain_alone_and_joins(tmp_path):
    """A part with nothing above the meter's gate (a scene of silence, no music) has no loudness to aim at: it is
    levelled by the whole's gain alone, coded, and joined; its silence is digital zero in the result."""
    scenes = [("s1", [(1.5, True), (0.3, False), (1.0, True)], 0.4), ("s2", [(2.0, False)], 0.5)]
    for name, pattern, _ in scenes:
        tone_narration(tmp_path, name, pattern)
    level = {"loudness_lufs": -16.0, "true_peak_db": -1.0, "music_volume_db": -20, "music_duck_db": 10}
    joined, facts, outs = soundtrack_in_parts(tmp_path, scenes, 1, None, level)
    assert json.loads((outs["mix1"][0] / "loudness.json").read_text())["lufs"] is None
    assert outs["enc1"][1]["gain_db"] == outs["gain"][1]["gain_db"] and outs["enc1"][1]["true_peak_dbtp"] is None
    pcm = decode(joined / "audio.m4a")
    edge = len(decode(outs["enc0"][0] / "part.m4a"))
    assert np.abs(pcm[:edge]).max() > 0.1 and not np.abs(pcm[edge:]).any()
    assert abs(facts["integrated_lufs"] + 16.0) <= 0.4 and "music_db" not in facts
