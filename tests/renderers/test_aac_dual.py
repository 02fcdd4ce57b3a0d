"""Dual-mono AAC from one mono encode (renderers/_lib/aac_dual.py): each channel decodes to exactly the mono decode."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from renderers._lib.aac_dual import dual_mono_mp4, sce_to_cpe

pytestmark = pytest.mark.skipif(subprocess.run(["which", "ffmpeg"], capture_output=True).returncode != 0,
                                reason="needs ffmpeg")

MONO = ["-c:a", "aac", "-aac_coder", "fast", "-aac_pns", "0", "-b:a", "96000", "-map_metadata", "-1",
        "-fflags", "+bitexact", "-flags:a", "+bitexact+global_header"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def decode(path, channels: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "f32le",
                          "-c:a", "pcm_f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


def probe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, check=True, text=True).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def mono(tmp_path_factory):
    d = tmp_path_factory.mktemp("aac")
    # speech-like: a swept tone with noise bursts and a click (window switching), 3.3 s, not a whole frame count
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=c=pink:r=48000:a=0.2:d=3.3:seed=7", "-f", "lavfi",
           "-i", "sine=f=220:r=48000:d=3.3", "-filter_complex",
           "[0:a]volume='if(lt(mod(t,0.8),0.3),1,0.05)':eval=frame[n];[n][1:a]amix=inputs=2:normalize=0,"
           "aeval='val(0)+if(between(t,1.5,1.5005),0.9,0)':c=same", "-ac", "1", *MONO, str(d / "mono.m4a"))
    return d / "mono.m4a"


def test_each_channel_is_the_mono_decode(mono, tmp_path):
    dual = tmp_path / "dual.m4a"
    dual_mono_mp4(mono, dual)
    m, s = decode(mono, 1)[:, 0], decode(dual, 2)
    # the edit list is kept: the priming is hidden (ffmpeg 5.1 plays the last frame whole: up to 1,023 more samples)
    assert len(m) == len(s) and 0 <= len(s) - round(3.3 * 48000) < 1024
    assert np.abs(m).max() > 0.1
    assert np.array_equal(s[:, 0], m) and np.array_equal(s[:, 1], m)
    a = probe(dual)["streams"][0]
    assert (a["codec_name"], a["profile"], a["channels"], a["sample_rate"]) == ("aac", "LC", 2, "48000")
    assert int(a["nb_frames"]) == int(probe(mono)["streams"][0]["nb_frames"])
    assert 150_000 < int(a["bit_rate"]) < 240_000  # about twice the mono's 96k, as the config now says


def test_rewrite_is_deterministic_and_muxes(mono, tmp_path):
    dual_mono_mp4(mono, tmp_path / "a.m4a")
    dual_mono_mp4(mono, tmp_path / "b.m4a")
    assert (tmp_path / "a.m4a").read_bytes() == (tmp_path / "b.m4a").read_bytes()
    assert not list(tmp_path.glob("*.part"))
    # stream-copied into another MP4 (as the assembly muxes it), the stereo track survives
    ffmpeg("-i", str(tmp_path / "a.m4a"), "-c", "copy", str(tmp_path / "c.mp4"))
    assert probe(tmp_path / "c.mp4")["streams"][0]["channels"] == 2


def test_refuses_what_it_cannot_rewrite(mono, tmp_path):
    stereo = tmp_path / "stereo.m4a"
    ffmpeg("-i", str(mono), "-ac", "2", *MONO, str(stereo))
    with pytest.raises(ValueError, match="single channel element|not mono"):
        dual_mono_mp4(stereo, tmp_path / "x.m4a")
    assert not (tmp_path / "x.m4a").exists()  # nothing half-written where the output goes
    with pytest.raises(ValueError, match="one mdat and one moov"):
        dual_mono_mp4(_garbage(tmp_path), tmp_path / "y.m4a")
    with pytest.raises(ValueError, match="END"):
        sce_to_cpe(bytes([0b00000000, 0b00010000]))  # an SCE header with no END element
    with pytest.raises(ValueError, match="empty"):
        sce_to_cpe(b"\x00\x00")


def _garbage(tmp_path):
    p = tmp_path / "garbage.m4a"
    p.write_bytes(b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00" + b"\x00\x00\x00\x08mdat")
    return p
