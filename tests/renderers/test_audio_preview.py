"""The preview's per-scene soundtrack (audio.preview) and the preview assembly that joins its pieces (issue 10):
deterministic pieces, ducked music, one gain from the pieces' stored loudness that lands at the brand level."""
from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import run_renderer
from renderers.assemble_ffmpeg import FfmpegAssemble, measure_loudness, merged_loudness
from renderers.audio_preview import PreviewAudio
from renderers.base import ffprobe
from test_segment_assemble import band_level, segment, stream, tone_narration


def test_merged_loudness_is_the_duration_weighted_energy_mean():
    assert merged_loudness([{"duration_s": 2.0, "integrated_lufs": -20.0}]) == -20.0
    both = merged_loudness([{"duration_s": 1.0, "integrated_lufs": -20.0}, {"duration_s": 1.0, "integrated_lufs": -30.0}])
    assert -23.0 < both < -22.5  # 10 log10((1 + 0.1) / 2) = -2.6 dB
    assert merged_loudness([{"duration_s": 1.0, "integrated_lufs": None}]) is None
    assert merged_loudness([]) is None


def test_premixed_param_stays_out_of_final_params():
    assert "premixed" not in FfmpegAssemble.Params(fps=30).model_dump(mode="json")
    assert "profile" not in FfmpegAssemble.Params(fps=30).model_dump(mode="json")
    data = FfmpegAssemble.Params(fps=30, profile="preview", premixed=2).model_dump(mode="json")
    assert data["premixed"] == 2 and data["profile"] == "preview"
    assert FfmpegAssemble.Params(**data).premixed == 2


def decoded(path, rate=24000):
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1",
                          "-ar", str(rate), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.int16)


def test_pieces_are_finished_per_scene_and_joined_sample_exact_by_stream_copy(tmp_path):
    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=320x180:d=1", "-frames:v", "1",
                    str(img)], check=True)
    music = tmp_path / "music.ogg"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=200:d=3", "-c:a", "libvorbis", str(music)],
                   check=True)
    s1, f1, _ = segment(tmp_path, "s1", img, "image", [(2.0, True), (2.0, False)])
    s2, f2, _ = segment(tmp_path, "s2", img, "image", [(3.0, True), (0.5, False)])
    quiet_wav, quiet_timings, _ = tone_narration(tmp_path, "quiet", [(1.0, True)])
    mix = {"music_volume_db": -12, "music_duck_db": 12}
    level = {"fps": 10, "pad": 0.3, "loudness_lufs": -14.0, "true_peak_db": -1.0}

    def piece(name, narration, offset):
        return run_renderer(PreviewAudio, tmp_path, {**mix, **level, "music_offset_s": offset},
                            {"audio": tmp_path / f"{narration}.wav", "timings": tmp_path / f"{narration}.json",
                             "music": music}, name=name)

    p1, a1 = piece("a1", "s1", 0)
    again, a1b = piece("a1b", "s1", 0)
    assert (p1 / "audio.mp4").read_bytes() == (again / "audio.mp4").read_bytes() and a1 == a1b
    p2, a2 = piece("a2", "s2", 20)
    # the piece is as long as the scene's segment (same frames, 24 kHz), FLAC (lossless, no priming)
    for p, a, f in ((p1, a1, f1), (p2, a2, f2)):
        st = stream(ffprobe(p / "audio.mp4"), "audio")
        assert (st["codec_name"], st["sample_rate"], st["channels"]) == ("flac", "24000", 1)
        assert a["frames"] == f["frames"] and a["samples"] == f["frames"] * 2400 == len(decoded(p / "audio.mp4"))
        # each piece is levelled on its own to the brand target (mono reads 3.01 dB lower)
        assert abs(measure_loudness(p / "audio.mp4")["integrated_lufs"] + 3.01 + 14.0) <= 1.0
    # the music is ducked under the narration within the scene's piece
    assert band_level(p1 / "audio.mp4", 3.0, 3.8, 200) - band_level(p1 / "audio.mp4", 0.6, 1.8, 200) > 4
    # without music the narration alone is levelled to the target
    quiet, aq = run_renderer(PreviewAudio, tmp_path, {**level, "loudness_lufs": -14.0},
                             {"audio": quiet_wav, "timings": quiet_timings}, name="q")
    assert abs(measure_loudness(quiet / "audio.mp4")["integrated_lufs"] + 3.01 + 14.0) <= 1.0

    out, facts = run_renderer(FfmpegAssemble, tmp_path, {"fps": 10, **mix, "profile": "preview", "premixed": 2},
                              {"videos": [s1 / "video.mp4", s2 / "video.mp4"],
                               "audios": [p1 / "audio.mp4", p2 / "audio.mp4"]},
                              name="asm", input_facts={"audios": [a1, a2], "videos": [f1, f2]})
    video = out / "video.mp4"
    info = ffprobe(video)
    assert int(stream(info, "video")["nb_frames"]) == f1["frames"] + f2["frames"]
    a = stream(info, "audio")
    assert (a["codec_name"], a["channels"], a["sample_rate"]) == ("flac", 1, "24000")
    # joined by stream copy: the decoded track is exactly the pieces one after another, sample for sample
    joined = decoded(video)
    assert np.array_equal(joined, np.concatenate([decoded(p1 / "audio.mp4"), decoded(p2 / "audio.mp4")]))
    assert len(joined) == (f1["frames"] + f2["frames"]) * 2400
    assert abs(measure_loudness(video)["integrated_lufs"] + 3.01 + 14.0) <= 1.0
    assert facts["premixed"] == 2 and facts["segments"] == 2 and abs(facts["estimated_lufs"] + 14.0) <= 0.5
    # the track header no longer claims the first piece's length or checksum (zero = unknown)
    box = video.read_bytes()
    info_at = box.index(b"dfLa") + 4 + 4 + 4
    streaminfo = box[info_at:info_at + 34]
    assert streaminfo[4:10] == bytes(6) and streaminfo[13] & 0x0F == 0 and streaminfo[14:34] == bytes(20)
    again_out, _ = run_renderer(FfmpegAssemble, tmp_path, {"fps": 10, **mix, "profile": "preview", "premixed": 2},
                                {"videos": [s1 / "video.mp4", s2 / "video.mp4"],
                                 "audios": [p1 / "audio.mp4", p2 / "audio.mp4"]},
                                name="asm2", input_facts={"audios": [a1, a2], "videos": [f1, f2]})
    assert (again_out / "video.mp4").read_bytes() == video.read_bytes()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no system Chromium at /usr/bin/chromium")
def test_chromium_plays_the_joined_preview_and_decodes_it_sample_exact(tmp_path):
    """The studio's player is a browser: the joined FLAC-in-MP4 preview must play there, not only in ffmpeg."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    img = tmp_path / "img.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=320x180:d=1", "-frames:v", "1",
                    str(img)], check=True)
    level = {"fps": 10, "pad": 0.3}
    parts = []
    for name, pattern in (("c1", [(1.0, True), (0.4, False)]), ("c2", [(1.5, True)])):
        seg, f, _ = segment(tmp_path, name, img, "image", pattern)
        p, a = run_renderer(PreviewAudio, tmp_path, level, {"audio": tmp_path / f"{name}.wav",
                                                            "timings": tmp_path / f"{name}.json"}, name=f"p{name}")
        parts.append((seg, f, p, a))
    out, _ = run_renderer(FfmpegAssemble, tmp_path, {"fps": 10, "profile": "preview", "premixed": 2},
                          {"videos": [s / "video.mp4" for s, _, _, _ in parts],
                           "audios": [p / "audio.mp4" for _, _, p, _ in parts]},
                          name="asm", input_facts={"audios": [a for *_, a in parts], "videos": [f for _, f, _, _ in parts]})
    data = base64.b64encode((out / "video.mp4").read_bytes()).decode()
    expected = decoded(out / "video.mp4").astype(np.float32) / 32768
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page()
            assert page.evaluate("document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.640015, flac\"')") \
                == "probably"
            got = page.evaluate("""async (b64) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                const v = document.createElement('video'); v.muted = true;
                v.src = URL.createObjectURL(new Blob([bytes], {type: 'video/mp4'})); document.body.appendChild(v);
                await v.play();
                const t0 = performance.now();
                while ((v.currentTime < 0.5 || !v.webkitAudioDecodedByteCount) && performance.now() - t0 < 20000)
                    await new Promise(r => setTimeout(r, 50));
                const ctx = new OfflineAudioContext(1, 24000, 24000);
                const pcm = (await ctx.decodeAudioData(bytes.buffer.slice(0))).getChannelData(0);
                return {t: v.currentTime, audio: v.webkitAudioDecodedByteCount, error: v.error && v.error.message,
                        pcm: Array.from(pcm)};
            }""", data)
        finally:
            browser.close()
    assert got["error"] is None and got["t"] > 0.5 and got["audio"] > 0
    pcm = np.array(got["pcm"], np.float32)
    assert len(pcm) == len(expected) == sum(f["frames"] for _, f, _, _ in parts) * 2400
    assert float(np.abs(pcm - expected).max()) < 1e-4  # Chromium's decode of the joined track: the same samples
