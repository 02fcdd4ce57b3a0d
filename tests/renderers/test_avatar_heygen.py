"""avatar.heygen against a local fake of HeyGen's v3 API (real HTTP on 127.0.0.1), and pip.ffmpeg.

Sleeps are patched to a recorder, so backoff schedules are asserted as numbers, never as wall time.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clients import heygen
from clients.heygen import Slots
from clients.retry import parse_retry_after
from core.errors import StepError
from support import session, write
from fake_heygen import FakeHeyGen
from helpers import run_renderer
from renderers.avatar_heygen import DOWNLOAD_TRIES, HeyGenAvatar
from renderers.base import ffprobe

KEY = "hg-test-key-0123456789"
PARAMS = {"avatar_id": "av-1", "voice_id": "vo-1", "script": "Hello there. The stars are very far away."}


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    """What HeyGen 'renders': 1.5 s of testsrc at 25 fps with a tone."""
    p = tmp_path_factory.mktemp("heygen") / "avatar.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x180:r=25:d=1.5", "-f", "lavfi", "-i", "sine=f=330:d=1.5",
           "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(p))
    return p


@pytest.fixture
def sleeps(monkeypatch, tmp_path) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(heygen, "RETRY", heygen.RETRY.replace(sleep=slept.append))
    monkeypatch.setenv("HEYGEN_API_KEY", KEY)
    monkeypatch.setenv("SHOWRUNNER_HEYGEN_STATE", str(tmp_path / "heygen-state"))
    return slept


@pytest.fixture
def fake(clip, monkeypatch):
    with FakeHeyGen(clip, api_key=KEY) as f:
        monkeypatch.setenv("HEYGEN_BASE_URL", f.url)
        yield f


def render(tmp_path, name="r", inputs=None, **params):
    return run_renderer(HeyGenAvatar, tmp_path, {**PARAMS, **params}, inputs or {}, name=name)


def test_slow_render_is_polled_with_backoff_then_downloaded(tmp_path, fake, sleeps):
    fake.polls_needed = 3
    out, facts = render(tmp_path)
    info = ffprobe(out / "clip.mp4")
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    assert facts["video_id"] == "vid_1" and facts["polls"] == 4 and not facts["resumed"]
    assert facts["lipsync"] is False and facts["duration_s"] == pytest.approx(1.5, abs=0.1)
    assert sleeps == [45.0, 20.0, 25.0, 31.25]  # first look after 45 s, then every 20 s growing by a quarter
    _, path, headers, body = fake.calls("POST", "/v3/videos")[0]
    sent = json.loads(body)
    assert sent == {"type": "avatar", "avatar_id": "av-1", "voice_id": "vo-1", "script": PARAMS["script"],
                    "resolution": "1080p", "aspect_ratio": "16:9", "title": "showrunner r"}
    assert headers["X-Api-Key"] == KEY
    downloads = fake.calls("GET", "/files/")
    assert downloads and all("X-Api-Key" not in h for _, _, h, _ in downloads)  # presigned: no key sent there
    assert KEY not in json.dumps(facts)


def test_bad_key_names_the_variable_never_the_key(tmp_path, fake, sleeps, monkeypatch):
    monkeypatch.setenv("HEYGEN_API_KEY", "wrong-secret-value")
    with pytest.raises(StepError) as e:
        render(tmp_path)
    assert "rejected the API key in $HEYGEN_API_KEY (401 unauthorized)" in str(e.value)
    assert "wrong-secret-value" not in str(e.value)
    monkeypatch.delenv("HEYGEN_API_KEY")
    with pytest.raises(StepError, match="set the environment variable HEYGEN_API_KEY"):
        render(tmp_path, name="r2")


def test_insufficient_credits_is_a_clear_error(tmp_path, fake, sleeps):
    fake.credits = 0
    with pytest.raises(StepError) as e:
        render(tmp_path)
    assert "HeyGen: insufficient credits (402 insufficient_credit)" in str(e.value)
    assert "top up the HeyGen API balance" in str(e.value) and sleeps == []


def test_429_retry_after_and_5xx_are_retried(tmp_path, fake, sleeps):
    fake.create_faults = [(429, {"Retry-After": "7"}), (503, {})]
    fake.status_faults = [(500, {}), (429, {"Retry-After": "3"})]
    fake.polls_needed = 0
    out, facts = render(tmp_path)
    assert (out / "clip.mp4").is_file() and len(fake.renders) == 1  # one video, paid once
    assert 7.0 in sleeps and 3.0 in sleeps
    assert len(fake.calls("POST", "/v3/videos")) == 3


def test_failed_render_reports_heygens_reason(tmp_path, fake, sleeps):
    fake.fail_with = ("avatar_not_found", "Avatar av-1 was not found in this workspace")
    with pytest.raises(StepError) as e:
        render(tmp_path)
    assert "could not render video vid_1: Avatar av-1 was not found in this workspace (avatar_not_found)" in str(e.value)
    fake.fail_with = None
    out, facts = render(tmp_path, name="again")  # a failed video is not resumed: a new one is made
    assert facts["video_id"] != "vid_1" and not facts["resumed"]


def test_expired_download_url_is_refreshed_and_retried(tmp_path, fake, sleeps):
    fake.polls_needed = 0
    fake.expire_urls = True
    fake.download_faults = [(403, {}), (404, {})]
    out, facts = render(tmp_path)
    assert (out / "clip.mp4").stat().st_size == fake.clip.stat().st_size
    assert len(fake.calls("GET", "/files/")) == 3
    assert len(fake.calls("GET", "/v3/videos/")) == 3  # each retry asked for a fresh presigned URL
    assert sleeps[-2:] == [2.0, 4.0]


def test_lipsync_uploads_our_narration(tmp_path, fake, sleeps):
    wav = tmp_path / "narration.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=1", "-ac", "1", "-ar", "48000", str(wav))
    fake.polls_needed = 1
    out, facts = render(tmp_path, inputs={"audio": wav}, script=None, voice_id=None)
    assert facts["lipsync"] is True
    (asset_id, data), = fake.assets.items()
    assert data == wav.read_bytes()
    sent = json.loads(fake.calls("POST", "/v3/videos")[0][3])
    assert sent["audio_asset_id"] == asset_id and "script" not in sent and "voice_id" not in sent


def test_length_limit_is_checked_before_anything_is_sent(tmp_path, fake, sleeps):
    with pytest.raises(StepError, match="HeyGen renders at most 2 s per video"):
        render(tmp_path, max_duration_s=2)
    assert fake.log == []


def test_a_rebuild_resumes_the_same_video_instead_of_paying_twice(tmp_path, fake, sleeps):
    fake.polls_needed = 0
    fake.download_faults = [(500, {})] * DOWNLOAD_TRIES
    with pytest.raises(StepError, match="could not download HeyGen video vid_1"):
        render(tmp_path)
    out, facts = render(tmp_path, name="again")
    assert facts["video_id"] == "vid_1" and facts["resumed"] is True
    assert len(fake.calls("POST", "/v3/videos")) == 1
    out, facts = render(tmp_path, name="reroll", salt="take 2")  # a new salt is a new request
    assert facts["video_id"] != "vid_1" and len(fake.calls("POST", "/v3/videos")) == 2


def test_retry_after_parsing():
    assert parse_retry_after("7") == 7.0 and parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: go now
    assert heygen.RETRY.delay(1, parse_retry_after("7")) == 7.0  # the server's delay, as asked
    assert heygen.RETRY.delay(1, parse_retry_after("99999")) == 300.0  # capped


def test_slots_are_a_cross_process_semaphore(tmp_path):
    folder = tmp_path / "slots"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from pathlib import Path
        from clients.heygen import Slots
        fh = Slots(Path({str(folder)!r}), 1).try_acquire()
        print("held" if fh else "busy", flush=True)
        sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert Slots(folder, 1).try_acquire() is None  # the other process holds the only slot
        second = Slots(folder, 2).try_acquire()
        assert second is not None  # a second slot is free
        second.close()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert Slots(folder, 1).try_acquire() is not None  # released when the holder exited


# ------------------------------------------------------------ end to end --

VIDEO = """\
title: Presenter
format: tiny
scenes:
  - narration: Hello, I am your host tonight.
    visual: {kind: avatar}
  - narration: Behind me is the night sky.
    visual: {kind: avatar, layout: pip, over: {kind: image, file: media/blue.png, motion: none}}
"""


def pixel(video: Path, t: float, x: int, y: int) -> tuple[int, int, int]:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{t}", "-i", str(video), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    i = (y * 320 + x) * 3
    return raw[i], raw[i + 1], raw[i + 2]


def test_full_and_pip_presenters_build_into_segments(mini, fake, sleeps):
    fake.polls_needed = 1
    brand = mini / "brands/test.yaml"
    brand.write_text(brand.read_text() + "avatar: {avatar_id: av-1, voice_id: vo-1}\n")
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=320x180", "-frames:v", "1", str(mini / "videos/test/media/blue.png"))
    write(mini / "videos/test/presenter.yaml", VIDEO)
    s = session(mini)
    segs = ["test/presenter/tiny/segment/00", "test/presenter/tiny/segment/01"]
    assert s.engine.build(segs) == {}
    assert len(fake.renders) == 2
    for sid in segs:
        m = s.store.get_manifest(s.engine.key(sid)[0])
        video = s.store.blob_path(m["outputs"]["video.mp4"]["digest"])
        timings = s.store.get_manifest(s.engine.key(sid.replace("tiny/segment", "narration"))[0])
        assert m["facts"]["frames"] == round(m["facts"]["duration_s"] * 10)
        if sid.endswith("00"):
            # HeyGen's voice is the narration: about the clip's 1.5 s, plus lead and pad
            assert timings["facts"]["duration_s"] == pytest.approx(1.5, abs=0.1)
            assert pixel(video, 1.0, 15, 15) != pytest.approx((0, 0, 255), abs=40)  # presenter fills the frame
        else:  # box: 90x90 at (220, 80) = 28% of the width, square, 3% margin, bottom right
            assert pixel(video, 1.0, 15, 15) == pytest.approx((0, 0, 255), abs=40)  # the blue still behind
            assert pixel(video, 1.0, 265, 125) != pytest.approx((0, 0, 255), abs=40)  # the presenter in the box
            assert pixel(video, 1.0, 222, 125) == pytest.approx((255, 136, 0), abs=40)  # border in the accent
    store_text = "".join(p.read_text(errors="ignore") for p in (mini / "cache").rglob("*.json"))
    assert KEY not in store_text and "HEYGEN_API_KEY" in store_text  # the variable's name, never its value
