"""Uploads against the fake: the video arrives whole, exactly once, with everything, in every fault case."""
from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from publish import youtube
from publish.models import PublishedVideo, PublishRecord, VideoStep
from publish_support import CHUNK, COSMOS, GARDEN, assert_published

UPLOAD = "/upload/youtube/v3/videos"


def chunk_puts(fake):
    return [r for r in fake.calls("PUT", UPLOAD)]


def test_publish_uploads_everything_then_is_idempotent(world, db_url):
    world.db_url = db_url
    world.build()
    world.approve()
    report = world.publish()
    assert report.ok and report.by_status() == {"published": ["cosmos/dark-sky"]}, world.text
    v = assert_published(world)
    size = (world.root / "build/cosmos/dark-sky/video.mp4").stat().st_size
    assert size > 2 * CHUNK  # the test really is chunked
    assert len(chunk_puts(world.fake)) == math.ceil(size / CHUNK)
    assert "upload" in world.text and "100.0%" in world.text  # progress is shown
    with world.ledger().session() as s:
        rec = s.scalars(select(PublishRecord)).one()
        assert (rec.state, rec.youtube_video_id, rec.session_json, rec.bytes_sent) == ("complete", v["id"], None, size)
        row = s.get(PublishedVideo, v["id"])
        assert row.status == "live" and row.publish_at is not None
        steps = {st.step: st.state for st in s.scalars(select(VideoStep))}
        assert steps == {"metadata": "done", "thumbnail": "done", "captions": "done", "playlist:PLcosmos1": "done"}

    before = len(world.fake.requests)
    again = world.publish()
    assert again.by_status() == {"up-to-date": ["cosmos/dark-sky"]}
    assert len(world.fake.requests) == before, "an up-to-date unit must not touch the network"
    assert len(world.fake.videos) == 1


def test_two_brands_two_channels(world):
    world.build("cosmos/dark-sky")
    world.build("garden/tomatoes", title="Tomatoes in pots", category="26", tags=("garden",))
    world.approve("cosmos/dark-sky")
    world.approve("garden/tomatoes")
    report = world.publish()
    assert report.ok, world.text
    assert_published(world, "cosmos/dark-sky")
    g = assert_published(world, "garden/tomatoes", channel=GARDEN, playlists=(), scheduled=False)
    assert g["status"]["privacyStatus"] == "unlisted" and "publishAt" not in g["status"]


def test_second_format_is_its_own_unit(world):
    world.build("cosmos/dark-sky")
    world.build("cosmos/dark-sky@short", video=world.media["b"], title="Dark skies #shorts")
    world.approve("cosmos/dark-sky")
    world.approve("cosmos/dark-sky@short")
    report = world.publish()
    assert report.by_status() == {"published": ["cosmos/dark-sky", "cosmos/dark-sky@short"]}, world.text
    titles = sorted(v["snippet"]["title"] for v in world.videos(COSMOS))
    assert titles == ["Dark skies #shorts", "Dark skies, explained"]
    at = [v["status"]["publishAt"] for v in world.videos(COSMOS)]
    assert at[0] == at[1]  # slots are per channel and format: the short premieres with the long video


def test_schedule_gives_each_video_its_own_slot(world):
    for slug in ("one", "two", "three"):
        world.build(f"cosmos/{slug}", title=f"Video {slug}")
        world.approve(f"cosmos/{slug}")
    assert world.publish().ok, world.text
    slots = sorted(v["status"]["publishAt"] for v in world.videos(COSMOS))
    assert len(set(slots)) == 3, slots  # daily 15:00 -> three consecutive days


def _when_chunk(n):
    """Match the n-th chunk PUT of the first session (1-based), probes excluded."""
    return lambda req: req.is_chunk and req.chunk_start == (n - 1) * CHUNK


FAULTS = {
    "503 on a chunk, twice": dict(kind="status", method="PUT", path=UPLOAD, when=_when_chunk(2), times=2, code=503),
    "429 rate limit on a chunk": dict(kind="status", method="PUT", path=UPLOAD, when=_when_chunk(2), code=429,
                                      reason="rateLimitExceeded"),
    "403 userRateLimitExceeded on a chunk": dict(kind="status", method="PUT", path=UPLOAD, when=_when_chunk(3),
                                                 code=403, reason="userRateLimitExceeded"),
    "503 on session start": dict(kind="status", method="POST", path=UPLOAD, code=503),
    "connection cut mid-chunk": dict(kind="drop", method="PUT", path=UPLOAD, when=_when_chunk(2), read=0.3),
    "cut mid-chunk, server kept part": dict(kind="drop", method="PUT", path=UPLOAD, when=_when_chunk(2), read=0.6,
                                            persist=True),
    "response lost after chunk stored": dict(kind="drop_after", method="PUT", path=UPLOAD, when=_when_chunk(2)),
    "response lost after last chunk": dict(kind="drop_after", method="PUT", path=UPLOAD,
                                           when=lambda r: r.is_last_chunk),
    "server keeps a partial range": dict(kind="partial", method="PUT", path=UPLOAD, when=_when_chunk(1), keep=0.37),
    "status probe fails too": dict(kind="status", method="PUT", path=UPLOAD, when=lambda r: r.is_probe, code=502),
    "401 mid-upload (token refresh)": dict(kind="status", method="PUT", path=UPLOAD, when=_when_chunk(2), code=401,
                                           reason="authError"),
    "session expired mid-upload": dict(kind="expire", method="PUT", path=UPLOAD, when=_when_chunk(3)),
    "500 on thumbnails.set": dict(kind="status", method="POST", path="/upload/youtube/v3/thumbnails", code=500),
    "503 on captions.insert": dict(kind="status", method="POST", path="/upload/youtube/v3/captions", code=503),
    "cut on playlistItems.insert": dict(kind="drop", method="POST", path="/youtube/v3/playlistItems", read=0.0),
    "403 rateLimitExceeded on videos.list": dict(kind="status", method="GET", path="/youtube/v3/videos", code=403,
                                                 reason="rateLimitExceeded"),
    "503 on channels.list": dict(kind="status", method="GET", path="/youtube/v3/channels", code=503),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_faults_still_deliver_exactly_once(world, sleeps, name):
    spec = dict(FAULTS[name])
    kind = spec.pop("kind")
    fault = world.fake.inject(kind, **spec)
    if name == "status probe fails too":  # a chunk fails first, so the client has to probe
        world.fake.inject("status", method="PUT", path=UPLOAD, when=_when_chunk(2), code=503)
    world.build()
    world.approve()
    report = world.publish()
    assert report.ok, world.text
    assert fault.fired >= 1, "the fault never happened; the test would prove nothing"
    assert_published(world)
    if kind in ("status", "drop") and spec.get("code") != 401:
        assert sleeps, "a retry must back off"
        assert all(0 <= d <= youtube.RETRY.cap_s for d in sleeps)
    if name == "session expired mid-upload":
        assert len(world.fake.sessions) == 2  # started over, yet one video
    elif name == "401 mid-upload (token refresh)":
        assert len(world.fake.token_requests) == 2  # the first refresh and the one after the 401
    else:
        assert len(world.fake.sessions) == 1


def test_resume_after_partial_range_is_not_aligned_but_chunks_are(world):
    world.fake.inject("partial", method="PUT", path=UPLOAD, when=_when_chunk(1), keep=0.37)
    world.build()
    world.approve()
    assert world.publish().ok, world.text
    session = next(iter(world.fake.sessions.values()))
    kept = int(CHUNK * 0.37)
    # the server kept 37% of chunk 1, so the client re-sent the rest and the next chunk started
    # mid-way; every chunk but the last was still a multiple of 256 KiB (the fake answers 400 otherwise)
    assert session["ranges"][1].startswith(f"bytes {kept}-{kept + CHUNK - 1}/")
    assert session["wire_bytes"] == len(session["data"]) + CHUNK - kept
    assert_published(world)


def test_persistent_5xx_gives_up_with_a_clear_message_then_resumes(world, sleeps):
    world.fake.inject("status", method="PUT", path=UPLOAD, when=_when_chunk(2), times=0, code=503)
    world.build()
    world.approve()
    report = world.publish()
    assert not report.ok
    assert "no progress" in world.text and "run `doit publish` again" in world.text
    assert len(sleeps) == youtube.MAX_STALLS
    assert world.fake.videos == {}
    with world.ledger().session() as s:
        rec = s.scalars(select(PublishRecord)).one()
        assert rec.state == "uploading" and rec.session_json and rec.bytes_sent == CHUNK
        assert "no progress" in rec.last_error
    world.fake.faults.clear()
    again = world.publish()
    assert again.ok, world.text
    assert_published(world)
    assert len(world.fake.sessions) == 1, "the second run must resume the saved session, not start a new one"
    session = next(iter(world.fake.sessions.values()))
    assert session["probes"] >= 1


def test_backoff_is_exponential_with_full_jitter():
    top = youtube.RETRY.replace(random=lambda: 1.0)
    assert [top.delay(n) for n in range(1, 9)] == [2, 4, 8, 16, 32, 64, 64, 64]
    assert youtube.RETRY.replace(random=lambda: 0.25).delay(3) == 2.0
    assert youtube.RETRY.replace(random=lambda: 0.0).delay(5) == 0.0


def test_chunk_size_must_be_a_multiple_of_256_kib():
    assert youtube.chunk_size(512 * 1024) == 512 * 1024
    with pytest.raises(ValueError, match="256 KiB"):
        youtube.chunk_size(300_000)


def test_locked_private_and_rejected_uploads_are_reported(world):
    world.fake.unaudited = True
    world.build()
    world.approve()
    report = world.publish()
    assert report.ok
    warning = " ".join(report.outcomes[0].warnings)
    assert "locked" in warning and "audit" in warning and "support.google.com/youtube/contact/yt_api_form" in warning
    with world.ledger().session() as s:
        assert "locked private" in s.scalars(select(PublishedVideo)).one().warning


@pytest.mark.parametrize("reported_later", [False, True], ids=["in-upload-reply", "only-on-read-back"])
def test_locked_private_videos_are_recorded_with_the_privacy_youtube_reports(world, reported_later):
    world.fake.unaudited = True
    world.fake.lock_reported_later = reported_later
    world.build("garden/tomatoes", title="Tomatoes")  # unlisted, no schedule
    world.build("cosmos/dark-sky")  # scheduled: private + publishAt
    world.approve("garden/tomatoes")
    world.approve("cosmos/dark-sky")
    report = world.publish()
    assert report.ok, world.text
    for out in report.outcomes:
        assert any("locked" in w for w in out.warnings), out
    with world.ledger().session() as s:
        rows = {r.unit: r for r in s.scalars(select(PublishedVideo))}
    assert (rows["garden/tomatoes"].privacy, rows["garden/tomatoes"].publish_at) == ("private", None)
    assert (rows["cosmos/dark-sky"].privacy, rows["cosmos/dark-sky"].publish_at) == ("private", None)
    assert "unlisted was requested" in rows["garden/tomatoes"].warning
    assert "publishAt" in rows["cosmos/dark-sky"].warning


def test_ledger_records_the_privacy_and_schedule_as_reported(world):
    world.build()
    world.approve()
    assert world.publish().ok, world.text
    v = world.videos()[0]
    with world.ledger().session() as s:
        row = s.scalars(select(PublishedVideo)).one()
    assert row.privacy == v["status"]["privacyStatus"] == "private"
    assert row.publish_at.strftime("%Y-%m-%dT%H:%M:%SZ") == v["status"]["publishAt"]
