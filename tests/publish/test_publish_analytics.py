"""Analytics: daily snapshots upserted (the last days get corrected), retention mapped onto scenes."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from core.records import SceneEntry
from publish.analytics import scene_at, table
from publish.models import AnalyticsDaily, PublishedVideo, RetentionPoint
from publish.quota import pacific_day


def daily(views: int, day_index: int) -> dict:
    return {"views": views, "estimatedMinutesWatched": views * 2, "averageViewDuration": 61,
            "averageViewPercentage": 48.5, "likes": day_index, "subscribersGained": 1}


@pytest.fixture
def published(world, db_url):
    world.db_url = db_url
    world.build()
    world.approve()
    assert world.publish().ok, world.text
    vid = world.videos()[0]["id"]
    ten_days_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10)
    with world.ledger().session() as s:
        s.execute(update(PublishedVideo).values(created_at=ten_days_ago))
    return vid, pacific_day(ten_days_ago)


def test_daily_snapshots_are_upserted_and_retention_lands_on_scenes(world, published):
    vid, first = published
    today = pacific_day()
    days = [first + dt.timedelta(days=i) for i in range((today - first).days + 1)]
    assert len(days) >= 10
    world.fake.analytics[vid] = {
        "daily": {d: daily(100 + i, i) for i, d in enumerate(days)},
        "retention": [{"elapsedVideoTimeRatio": r / 100, "audienceWatchRatio": round(1 - r / 200, 3),
                       "relativeRetentionPerformance": 0.5} for r in range(1, 101)],
    }
    reports = world.analytics()
    assert [r.error for r in reports] == [None]
    with world.ledger().session() as s:
        rows = {r.day: r for r in s.scalars(select(AnalyticsDaily))}
        assert sorted(rows) == days
        assert rows[days[3]].views == 103 and rows[days[3]].estimated_minutes_watched == 206
        assert rows[days[3]].average_view_percentage == 48.5 and rows[days[3]].likes == 3
        points = {p.ratio_permille: p for p in s.scalars(select(RetentionPoint))}
    assert len(points) == 100
    assert (points[250].at_s, points[250].scene_index, points[250].scene_title) == (0.5, 0, "Intro")
    assert (points[750].at_s, points[750].scene_index) == (1.5, 1)
    assert points[1000].scene_index == 1  # the last frame belongs to the last scene
    scenes = reports[0].scenes
    assert [s.index for s in scenes] == [0, 1]
    assert scenes[0].at_start == pytest.approx(0.995) and scenes[1].at_end == pytest.approx(0.5)
    assert scenes[0].drop > 0
    assert "scene  0" in world.text and "retention" in world.text
    assert reports[0].views == sum(100 + i for i in range(len(days)))

    # YouTube corrects the last two days; the next run re-reads the last 4 days and upserts
    world.fake.analytics[vid]["daily"][days[-1]]["views"] = 999
    world.fake.analytics[vid]["daily"][days[-2]]["views"] = 555
    world.fake.analytics[vid]["daily"][days[3]]["views"] = 1  # too old to be re-read
    world.analytics()
    query = [q for m, p, q in world.fake.calls("GET", "/v2/reports") if q["dimensions"] == "day"][-1]
    assert query["startDate"] == (today - dt.timedelta(days=3)).isoformat() and query["endDate"] == today.isoformat()
    assert query["filters"] == f"video=={vid}" and query["ids"] == "channel==MINE"
    assert set(query["metrics"].split(",")) == {"views", "estimatedMinutesWatched", "averageViewDuration",
                                               "averageViewPercentage", "likes", "subscribersGained"}
    with world.ledger().session() as s:
        rows = {r.day: r.views for r in s.scalars(select(AnalyticsDaily))}
    assert len(rows) == len(days) and rows[days[-1]] == 999 and rows[days[-2]] == 555 and rows[days[3]] == 103


def test_analytics_errors_are_reported_per_video(world, published):
    world.fake.inject("status", method="GET", path="/v2/reports", code=403, reason="forbidden",
                      message="Forbidden", times=0)
    reports = world.analytics()
    assert reports[0].error and "doit auth:cosmos" in reports[0].error


def test_table_and_scene_lookup():
    resp = {"columnHeaders": [{"name": "day"}, {"name": "views"}], "rows": [["2026-11-01", 3]]}
    assert table(resp) == [{"day": "2026-11-01", "views": 3}]
    assert table({"columnHeaders": [{"name": "day"}]}) == []
    scenes = [SceneEntry(index=0, start_s=0.0, end_s=2.0), SceneEntry(index=1, start_s=2.0, end_s=5.0)]
    assert scene_at(scenes, 1.99).index == 0 and scene_at(scenes, 2.0).index == 1
    assert scene_at(scenes, 5.0).index == 1 and scene_at([], 1.0) is None
