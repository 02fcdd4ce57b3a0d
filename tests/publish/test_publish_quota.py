"""Quota: the cost table, per project per Pacific day, refusal before exceeding, and YouTube's own refusals."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, select

from publish import quota
from publish.errors import QuotaRefused
from publish.ledger import Ledger
from publish.models import Hold, PublishRecord, QuotaUsage
from publish_support import GARDEN, assert_published

UPLOAD = "/upload/youtube/v3/videos"
UTC = dt.timezone.utc


def test_cost_table_matches_the_2026_06_granular_model():
    c = quota.COSTS
    assert (c["videos.insert"].bucket, c["videos.insert"].units) == ("videos.insert", 1)
    assert (c["search.list"].bucket, c["search.list"].units) == ("search.list", 1)
    assert quota.DEFAULT_LIMITS == {"shared": 10_000, "videos.insert": 100, "search.list": 100,
                                    "videos.batchGetStats": 10_000}
    shared = {m: k.units for m, k in c.items() if k.bucket == "shared"}
    assert shared["captions.insert"] == 400 and shared["captions.update"] == 450 and shared["captions.list"] == 50
    assert shared["videos.update"] == shared["thumbnails.set"] == shared["playlistItems.insert"] == 50
    assert shared["videos.list"] == shared["channels.list"] == shared["playlistItems.list"] == 1
    assert quota.estimate(["videos.insert", "thumbnails.set", "captions.insert", "playlistItems.insert"]) == {
        "videos.insert": 1, "shared": 500}


def test_pacific_day_and_reset():
    before = dt.datetime(2026, 11, 21, 7, 59, tzinfo=UTC)  # 23:59 PST on the 20th
    after = dt.datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert quota.pacific_day(before) == dt.date(2026, 11, 20)
    assert quota.pacific_day(after) == dt.date(2026, 11, 21)
    assert quota.next_reset(before) == after
    summer = dt.datetime(2026, 7, 1, 6, 59, tzinfo=UTC)  # PDT: midnight is 07:00 UTC
    assert quota.next_reset(summer) == dt.datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_charges_are_per_project_per_day_and_refused_before_exceeding(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_QUOTA_LIMITS", "shared=500")
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'q.db'}")
    now = [dt.datetime(2026, 11, 21, 7, 0, tzinfo=UTC)]
    book = quota.QuotaBook(ledger, "111", clock=lambda: now[0])
    other = quota.QuotaBook(ledger, "222", clock=lambda: now[0])
    book.charge("captions.insert")
    with pytest.raises(QuotaRefused) as err:
        book.charge("captions.insert")
    assert "only 100 of 500 are left" in err.value.message and "00:00 America/Los_Angeles" in err.value.hint
    assert book.used("shared") == 400, "a refused call is not charged"
    other.charge("captions.insert")  # another cloud project has its own quota
    with pytest.raises(QuotaRefused):
        book.check({"shared": 101}, "a unit")
    book.check({"shared": 100}, "a unit")
    now[0] = dt.datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # midnight in Los Angeles
    book.charge("captions.insert")
    assert book.used("shared") == 400
    with ledger.session() as s:
        assert len(s.scalars(select(QuotaUsage)).all()) == 3


def test_concurrent_charges_never_exceed_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_QUOTA_LIMITS", "shared=1000")
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'q.db'}")
    book = quota.QuotaBook(ledger, "111")
    ok = []

    def spend():
        for _ in range(15):
            try:
                book.charge("thumbnails.set")
                ok.append(1)
            except QuotaRefused:
                pass

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 20 and book.used("shared") == 1000


def test_unit_is_refused_up_front_when_its_calls_would_not_fit(world, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_QUOTA_LIMITS", "shared=400")  # a new video needs 1 (verify) + 50 + 400 + 50 = 501
    world.build()
    world.approve()
    report = world.publish()
    assert report.by_status() == {"refused": ["cosmos/dark-sky"]}
    msg = report.outcomes[0].message
    assert "quota: publishing cosmos/dark-sky needs 501 units" in msg and "nothing was sent" in msg
    assert world.fake.sessions == {} and world.fake.videos == {}


def test_upload_bucket_is_shared_by_all_brands_of_the_project(world, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_QUOTA_LIMITS", "videos.insert=1")
    world.build("cosmos/dark-sky")
    world.build("garden/tomatoes", title="Tomatoes")
    world.approve("cosmos/dark-sky")
    world.approve("garden/tomatoes")
    report = world.publish()
    assert report.by_status() == {"published": ["cosmos/dark-sky"], "refused": ["garden/tomatoes"]}, world.text
    assert "videos.insert calls" in report.outcomes[1].message
    assert world.videos(GARDEN) == []


def test_youtube_quota_exceeded_stops_the_day_without_retrying(world, sleeps):
    world.fake.inject("status", method="POST", path=UPLOAD, code=403, reason="quotaExceeded", domain="youtube.quota",
                      message="The request cannot be completed because you have exceeded your quota.")
    world.build("cosmos/dark-sky")
    world.build("garden/tomatoes", title="Tomatoes")
    world.approve("cosmos/dark-sky")
    world.approve("garden/tomatoes")
    report = world.publish()
    assert report.by_status() == {"failed": ["cosmos/dark-sky"], "refused": ["garden/tomatoes"]}, world.text
    assert "daily API quota is used up" in report.outcomes[0].message
    assert "midnight Pacific" in report.outcomes[0].message
    assert not sleeps, "quotaExceeded is never retried"
    assert len(world.fake.calls("POST", UPLOAD)) == 1, "after quotaExceeded nothing more is tried today"
    world.fake.faults.clear()
    again = world.publish()
    assert again.by_status() == {"refused": ["cosmos/dark-sky", "garden/tomatoes"]}
    assert len(world.fake.calls("POST", UPLOAD)) == 1


def test_upload_limit_pauses_only_that_channel_for_24_hours(world, sleeps):
    world.fake.inject("status", method="POST", path=UPLOAD, code=400, reason="uploadLimitExceeded",
                      domain="youtube.video", message="The user has exceeded the number of videos they may upload.",
                      when=lambda r: True)
    world.build("cosmos/dark-sky")
    world.build("garden/tomatoes", title="Tomatoes")
    world.approve("cosmos/dark-sky")
    world.approve("garden/tomatoes")
    report = world.publish()
    assert report.by_status() == {"failed": ["cosmos/dark-sky"], "published": ["garden/tomatoes"]}, world.text
    assert "upload limit" in report.outcomes[0].message and "24 hours" in report.outcomes[0].message
    assert not sleeps
    with world.ledger().session() as s:
        hold = s.get(Hold, "uploads:UCcosmos00000000000000001")
        assert hold is not None and hold.until > dt.datetime.now(UTC) + dt.timedelta(hours=23)
    posts = len(world.fake.calls("POST", UPLOAD))
    again = world.publish()
    assert again.by_status() == {"refused": ["cosmos/dark-sky"], "up-to-date": ["garden/tomatoes"]}
    assert "paused until" in again.outcomes[0].message
    assert len(world.fake.calls("POST", UPLOAD)) == posts
    assert_published(world, "garden/tomatoes", channel=GARDEN, playlists=(), scheduled=False)


def test_quota_running_out_after_the_upload_says_the_video_is_on_youtube(world, sleeps):
    world.fake.inject("status", method="POST", path="/upload/youtube/v3/thumbnails", code=403, reason="quotaExceeded",
                      domain="youtube.quota", message="The request cannot be completed because you have exceeded "
                                                      "your quota.")
    world.build()
    world.approve()
    report = world.publish()
    out = report.outcomes[0]
    assert report.by_status() == {"failed": ["cosmos/dark-sky"]}, world.text
    vid = world.videos()[0]["id"]
    assert out.video_id == vid
    msg = out.message
    assert "daily API quota is used up" in msg
    assert f"already on YouTube: https://youtu.be/{vid}" in msg, msg
    assert "still to do: the thumbnail, the captions, adding it to playlist PLcosmos1" in msg, msg
    assert "midnight Pacific" in msg and "nothing is uploaded again" in msg
    assert not sleeps
    with world.ledger().session() as s:
        assert s.scalars(select(PublishRecord)).one().state == "uploaded"

    # before the reset: refused up front, and still pointing at the video
    world.fake.faults.clear()
    again = world.publish()
    assert again.by_status() == {"refused": ["cosmos/dark-sky"]}, world.text
    assert f"https://youtu.be/{vid}" in again.outcomes[0].message and "still to do" in again.outcomes[0].message

    # after midnight Pacific (a new quota day): the rest is applied to the same video
    with world.ledger().session() as s:
        s.execute(delete(QuotaUsage))
    done = world.publish()
    assert done.by_status() == {"updated": ["cosmos/dark-sky"]}, world.text
    assert len(world.fake.sessions) == 1, "the video was not uploaded again"
    assert_published(world)
