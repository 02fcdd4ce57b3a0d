"""The preview's per-scene soundtrack (audio.preview) and the preview assembly that joins its pieces (issue 10):
deterministic pieces, ducked music, one gain from the pieces' stored loudness that lands at the brand level."""
from __future__ import annotations

import subprocess

from helpers import run_renderer
from renderers.assemble_ffmpeg import FfmpegAssemble, measure_loudness, merged_loudness
from renderers.audio_preview import PreviewAudio
from renderers.base import ffprobe
from test_segment_assemble import band_level, segment, stream


def test_merged_loudness_is_the_duration_weighted_energy_mean():
    assert merged_loudness([{"duration_s": 2.0, "integrated_lufs": -20.0}]) == -20.0
    both = merged_loudness([{"duration_s": 1.0, "integrated_lufs": -20.0}, {"duration_s": 1.0, "integrated_lufs": -30.0}])
    assert -23.0 < both < -22.5  # 10 log10((1 + 0.1) / 2) = -2.6 dB
    assert merged_loudness([{"duration_s": 1.0, "integrated_lufs": None}]) is None
    assert merged_loudness([]) is None


def test_premixed_param_stays_out_of_final_params():
    assert "premixed" not in FfmpegAssemble.Params(fps=30).model_dump(mode="json")
    assert "profile" not in FfmpegAssemble.Params(fps=30).model_dump(mode="json")
    data = FfmpegAssemble.Params(fps=30, profile="preview", premixed=True).model_dump(mode="json")
    assert data["premixed"] is True and data["profile"] == "preview"
    assert FfmpegAssemble.Params(**data).premixed


def test_pieces_are_deterministic_ducked_and_joined_at_the_brand_level(tmp_path):
    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=320x180:d=1", "-frames:v", "1",
                    str(img)], check=True)
    music = tmp_path / "music.ogg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=200:d=3", "-c:a", "libvorbis", str(music)],
                   check=True)
    s1, f1, _ = segment(tmp_path, "s1", img, "image", [(2.0, True), (2.0, False)])
    s2, f2, _ = segment(tmp_path, "s2", img, "image", [(3.0, True), (0.5, False)])
    mix = {"music_volume_db": -12, "music_duck_db": 12}
    p1, a1 = run_renderer(PreviewAudio, tmp_path, {**mix, "music_offset_s": 0}, {"audio": s1 / "audio.wav", "music": music},
                          name="a1")
    again, a1b = run_renderer(PreviewAudio, tmp_path, {**mix, "music_offset_s": 0},
                              {"audio": s1 / "audio.wav", "music": music}, name="a1b")
    assert (p1 / "audio.wav").read_bytes() == (again / "audio.wav").read_bytes() and a1 == a1b
    p2, a2 = run_renderer(PreviewAudio, tmp_path, {**mix, "music_offset_s": 20}, {"audio": s2 / "audio.wav", "music": music},
                          name="a2")
    piece = ffprobe(p1 / "audio.wav")
    assert (stream(piece, "audio")["sample_rate"], stream(piece, "audio")["channels"]) == ("24000", 1)
    assert abs(float(piece["format"]["duration"]) - a1["duration_s"]) < 0.01
    # the music is ducked under the narration within the scene's piece
    assert band_level(p1 / "audio.wav", 3.0, 3.8, 200) - band_level(p1 / "audio.wav", 0.6, 1.8, 200) > 4

    out, facts = run_renderer(FfmpegAssemble, tmp_path, {"fps": 10, **mix, "profile": "preview", "premixed": True},
                              {"videos": [s1 / "video.mp4", s2 / "video.mp4"],
                               "audios": [p1 / "audio.wav", p2 / "audio.wav"]},
                              name="asm", input_facts={"audios": [a1, a2], "videos": [f1, f2]})
    video = out / "video.mp4"
    info = ffprobe(video)
    assert int(stream(info, "video")["nb_frames"]) == f1["frames"] + f2["frames"]
    assert abs(float(info["format"]["duration"]) - (f1["frames"] + f2["frames"]) / 10) < 0.1
    a = stream(info, "audio")
    assert (a["codec_name"], a["channels"], a["sample_rate"]) == ("aac", 1, "24000")
    # the gain from the pieces' stored loudness lands the whole at the brand's level (mono reads 3.01 dB lower)
    assert abs(measure_loudness(video)["integrated_lufs"] + 3.01 + 14.0) <= 1.0
    joined = tmp_path / "joined.wav"
    (tmp_path / "pieces.txt").write_text(f"file '{p1 / 'audio.wav'}'\nfile '{p2 / 'audio.wav'}'\n")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(tmp_path / "pieces.txt"),
                    str(joined)], check=True)
    assert abs(measure_loudness(joined)["integrated_lufs"] - merged_loudness([a1, a2])) <= 0.5
    assert facts["premixed"] and facts["segments"] == 2
