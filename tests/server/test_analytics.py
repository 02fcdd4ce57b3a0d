"""Analytics pages and API over a really built video whose ledger holds a published YouTube video with daily
numbers and retention points (seeded with the publish models, as `doit analytics` would write them): the API's
numbers, the weakest-scene maths, the scene boundaries drawn at the right x, the empty states, and screenshots
at 1280 and 390 px through the system Chromium."""
from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.records import BuildManifest, SceneEntry
from publish.analytics import scene_at
from publish.ledger import Ledger, upsert
from publish.models import AnalyticsDaily, PublishedVideo, RetentionPoint
from server.analytics import charts
from server.analytics.services import interpolate, scene_stats, weakest
from studio_support import TOKEN, FakeBuild, settings_for

VID = "yt_beta_0001"
OLD = "yt_alpha_001"
VIEWS = [10, 40, 25, 30, 5]
PCTS = [50.0, 40.0, 60.0, 45.0, 80.0]
FIRST = dt.date(2026, 11, 20)


def manifest(root: Path, video: str = "test/beta") -> BuildManifest:
    return BuildManifest.model_validate_json((root / "build" / video / "manifest.json").read_text())


def watch(t: float, split: float, duration: float) -> float:
    """Retention: loses 10 points over scene 1, then 50 points over scene 2 (the weak one)."""
    if t <= split:
        return 1.0 - 0.1 * t / split
    return 0.9 - 0.5 * (t - split) / (duration - split)


def seed(root: Path, *, days: bool = True) -> tuple[BuildManifest, float]:
    m = manifest(root)
    duration = m.duration_s
    split = m.scenes[1].start_s
    ledger = Ledger.open(f"sqlite:///{root / '.showrunner' / 'ledger.db'}")
    try:
        now = dt.datetime(2026, 11, 20, 15, tzinfo=dt.timezone.utc)
        with ledger.session() as s:
            s.add(PublishedVideo(youtube_video_id=OLD, unit="test/alpha", brand="test", channel_id="UCtest",
                                 format="tiny", video_sha256="0" * 64, marker="m0", privacy="public",
                                 duration_s=10.0, created_at=now - dt.timedelta(days=7)))
            s.add(PublishedVideo(youtube_video_id=VID, unit="test/beta", brand="test", channel_id="UCtest",
                                 format="tiny", video_sha256=m.assets["video.mp4"].digest, marker="m1",
                                 privacy="public", duration_s=duration, created_at=now))
        if days:
            rows = [{"youtube_video_id": VID, "day": FIRST + dt.timedelta(days=i), "unit": "test/beta", "views": v,
                     "estimated_minutes_watched": v * 0.1, "average_view_duration_s": 3.0,
                     "average_view_percentage": p, "likes": 1, "subscribers_gained": i % 2, "fetched_at": now}
                    for i, (v, p) in enumerate(zip(VIEWS, PCTS))]
            rows.append({"youtube_video_id": OLD, "day": FIRST, "unit": "test/alpha", "views": 7,
                         "estimated_minutes_watched": 1.0, "average_view_duration_s": 3.0,
                         "average_view_percentage": 30.0, "likes": 0, "subscribers_gained": 0, "fetched_at": now})
            points = []
            for i in range(21):
                ratio = i / 20
                at = ratio * duration
                sc = scene_at(m.scenes, at)
                points.append({"youtube_video_id": VID, "ratio_permille": round(ratio * 1000), "unit": "test/beta",
                               "elapsed_ratio": ratio, "audience_watch_ratio": watch(at, split, duration),
                               "relative_retention_performance": 0.5, "at_s": at,
                               "scene_index": sc.index if sc else None, "scene_title": sc.title if sc else None,
                               "start_day": FIRST, "end_day": FIRST + dt.timedelta(days=4), "fetched_at": now})
            with ledger.session() as s:
                upsert(s, AnalyticsDaily, rows, ["youtube_video_id", "day"])
                upsert(s, RetentionPoint, points, ["youtube_video_id", "ratio_permille"])
    finally:
        ledger.close()
    return m, split


def boundary_xs(svg: str) -> list[tuple[float, float]]:
    """(data-t, x1) of each scene boundary line in the markup."""
    return [(float(t), float(x)) for t, x in
            re.findall(r'class="scene-boundary" data-t="([0-9.]+)" x1="([0-9.]+)"', svg)]


def test_unpublished_video_and_brand_have_clear_empty_states(make_client, built):
    c = make_client(built)
    r = c.get("/api/analytics/videos/test/beta")
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["state"] == "not-published" and "publish" in a["message"] and a["days"] == [] and a["weakest"] == []
    page = c.get("/analytics/test/beta")
    assert page.status_code == 200 and "Not published yet" in page.text and "<svg" not in page.text
    b = c.get("/api/analytics/brands/test").json()
    assert b["brand"] == "test" and b["videos"] == []
    assert "Nothing published yet" in c.get("/analytics/test").text
    assert c.get("/api/analytics/videos/test/nope").status_code == 404
    assert c.get("/api/analytics/videos/..%2f/x").status_code == 404
    assert c.get("/api/analytics/brands/nobrand").status_code == 404
    assert c.get("/analytics/nobrand").status_code == 404
    video_page = c.get("/videos/test/beta").text
    assert "/analytics/test/beta" not in video_page  # the link appears once published
    assert 'href="/analytics/test"' in c.get("/").text
    schema = c.get("/schema/openapi.json").json()
    assert {"/api/analytics/videos/{brand}/{slug}", "/api/analytics/brands/{brand}"} <= set(schema["paths"])
    assert {"VideoAnalytics", "BrandAnalytics", "SceneStat"} <= set(schema["components"]["schemas"])


def test_published_without_numbers_says_run_doit_analytics(make_client, built):
    seed(built, days=False)
    c = make_client(built)
    a = c.get("/api/analytics/videos/test/beta").json()
    assert a["state"] == "no-data" and "doit analytics" in a["message"] and a["url"] == f"https://youtu.be/{VID}"
    assert "No numbers yet" in c.get("/analytics/test/beta").text


def test_video_analytics_numbers_weakest_scene_and_boundaries(make_client, built):
    m, split = seed(built)
    duration = m.duration_s
    c = make_client(built)
    a = c.get("/api/analytics/videos/test/beta").json()
    assert a["state"] == "ok" and a["youtube_video_id"] == VID and a["scenes_from"] == "build"
    assert [d["views"] for d in a["days"]] == VIEWS and a["days"][0]["day"] == FIRST.isoformat()
    t = a["totals"]
    assert t["views"] == sum(VIEWS) and t["likes"] == 5 and t["subscribers_gained"] == 2
    assert t["average_view_percentage"] == pytest.approx(sum(v * p for v, p in zip(VIEWS, PCTS)) / sum(VIEWS))
    assert len(a["retention"]) == 21 and a["duration_s"] == pytest.approx(duration)
    s1, s2 = a["scenes"]
    assert (s1["start_s"], s2["start_s"]) == (0.0, pytest.approx(split))
    # retention read off the sampled curve (linear between the 21 points) at the scene edges: scene 1 loses about
    # 10 points, scene 2 about 50
    ts = [i / 20 * duration for i in range(21)]
    at = np.interp([0.0, split, duration], ts, [watch(t, split, duration) for t in ts])
    assert s1["retention_start"] == pytest.approx(1.0) and s1["retention_end"] == pytest.approx(at[1])
    assert s2["retention_start"] == pytest.approx(at[1]) and s2["drop"] == pytest.approx(at[1] - at[2])
    assert s2["drop_per_s"] == pytest.approx((at[1] - at[2]) / (duration - split))
    assert s1["drop_per_s"] == pytest.approx((1.0 - at[1]) / split)
    assert [w["index"] for w in a["weakest"]] == [1]  # only scene 2 loses viewers faster than the whole video
    assert a["weakest"][0]["narration"] == "And a second slide to finish."
    assert a["weakest"][0]["seek_url"] == f"/videos/test/beta?t={split:.2f}#player"

    page = c.get("/analytics/test/beta").text
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    retention = [s for s in svgs if "chart-retention" in s]
    assert len(retention) == 2 and len([s for s in svgs if "chart-views" in s]) == 2
    for svg, (w, h) in zip(retention, [(760, 280), (350, 240)]):
        assert f'viewBox="0 0 {w} {h}"' in svg and "<title" in svg and "<desc" in svg
        assert "still watching" in svg and "time in the video" in svg  # axis labels
        box = charts.Box(w, h, top=26)
        (t_, x), = boundary_xs(svg)  # two scenes: one boundary, at scene 2's start
        assert t_ == pytest.approx(split, abs=1e-3)
        assert x == pytest.approx(box.left + split / duration * box.plot_w, abs=0.06)
        assert 'class="band weak"' in svg and f'href="/videos/test/beta?t={split:.2f}#player"' in svg
    assert "Scene 2" in page and "And a second slide to finish." in page

    # the Video page links here and seeks its player from the weakest-scene link
    video_page = c.get(f"/videos/test/beta?t={split:.2f}").text
    assert 'href="/analytics/test/beta"' in video_page
    assert re.search(rf'src="/files/test/beta/video.mp4\?v=[0-9a-f]+#t={split:.2f}"', video_page)
    assert "#t=" not in c.get("/videos/test/beta?t=nope").text


def test_brand_analytics_side_by_side(make_client, built):
    seed(built)
    c = make_client(built)
    b = c.get("/api/analytics/brands/test").json()
    assert [v["youtube_video_id"] for v in b["videos"]] == [VID, OLD]  # newest first
    beta, alpha = b["videos"]
    assert beta["views"] == sum(VIEWS) and len(beta["retention"]) == 21
    assert alpha["views"] == 7 and alpha["average_view_percentage"] == pytest.approx(30.0) and alpha["retention"] == []
    assert beta["analytics_url"] == "/analytics/test/beta"
    assert [v["youtube_video_id"] for v in c.get("/api/analytics/brands/test?limit=1").json()["videos"]] == [VID]
    assert c.get("/api/analytics/brands/test?limit=0").status_code == 400
    page = c.get("/analytics/test").text
    assert page.count('class="chart spark"') == 1 and "no retention data yet" in page  # alpha has none
    assert "/analytics/test/beta" in page


def test_weakest_scene_maths():
    scenes = [SceneEntry(index=0, start_s=0, end_s=10), SceneEntry(index=1, start_s=10, end_s=12),
              SceneEntry(index=2, start_s=12, end_s=30), SceneEntry(index=3, start_s=30, end_s=40)]
    curve = [(0, 1.0), (10, 0.8), (12, 0.7), (30, 0.4), (40, 0.45)]  # scene 4 gains (rewatches)
    stats = scene_stats("b/v", curve, scenes, ["one", "two " * 40, "three", "four"])
    assert [round(s.drop_per_s, 4) for s in stats] == [0.02, 0.05, round(0.3 / 18, 4), -0.005]
    # a short steep scene beats a long one that loses more in all; only scenes losing faster than the whole video
    # (0.55 over 40 s) are named
    assert [s.index for s in weakest(stats)] == [1, 0, 2]
    assert [s.index for s in weakest(stats, 2)] == [1, 0]
    flat = scene_stats("b/v", [(0, 1.0), (40, 0.6)], scenes)  # an even decline: no scene is weak
    assert weakest(flat) == []
    assert stats[1].narration.endswith("…") and len(stats[1].narration) <= 91
    assert interpolate(curve, 5) == pytest.approx(0.9) and interpolate(curve, 99) == 0.45
    assert interpolate([], 1) is None


def test_retention_chart_boundaries_and_accessibility():
    scenes = [charts.Boundary(0, 0, 20), charts.Boundary(1, 20, 50, weak=True, href="/videos/b/v?t=20.00#player"),
              charts.Boundary(2, 50, 100)]
    svg = str(charts.retention_chart([(0, 1), (0.5, 0.6), (1, 0.3)], scenes, 100, width=600, height=260,
                                     title="Retention <x>"))
    box = charts.Box(600, 260, top=26)
    assert [x for _, x in boundary_xs(svg)] == pytest.approx([box.left + 0.2 * box.plot_w, box.left + 0.5 * box.plot_w])
    assert "<title" in svg and "Retention &lt;x&gt;" in svg and "Weakest: scene 2" in svg and 'role="img"' in svg
    assert "style=" not in svg  # the CSP forbids inline styles


CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system Chromium at /usr/bin/chromium")
def test_screenshots_at_1280_and_390(built, tmp_path):
    """Both pages rendered by the real Chromium from the real server (uvicorn on 127.0.0.1), no sideways scroll at
    390 px, the charts visible; screenshots kept in $STUDIO_SHOTS (or the test's tmp folder) to look at."""
    sync_api = pytest.importorskip("playwright.sync_api")
    uvicorn = pytest.importorskip("uvicorn")
    from server.app import create_app

    seed(built)
    app = create_app(settings_for(built, tmp_path), token=TOKEN, watch=False, build_fn=FakeBuild(), scan=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the studio did not start"
        time.sleep(0.05)
    shots = Path(os.environ.get("STUDIO_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                for width in (1280, 390):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    for name, path in (("video", "/analytics/test/beta"), ("brand", "/analytics/test")):
                        page.goto(f"http://127.0.0.1:{port}{path}", timeout=20_000)
                        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
                        want = 2 if name == "video" else 1  # retention + views; one sparkline (alpha has none)
                        assert page.locator("svg.chart:visible").count() == want, (name, width)
                        page.screenshot(path=str(shots / f"analytics-{name}-{width}.png"), full_page=True)
                    if width == 1280:  # the weakest scene's link opens the Video page with the player at it
                        page.goto(f"http://127.0.0.1:{port}/analytics/test/beta", timeout=20_000)
                        page.click(".weakest a")
                        page.wait_for_function("() => { const p = document.getElementById('player');"
                                               " return p && p.readyState >= 1 && p.currentTime > 0; }",
                                               timeout=20_000)
                        t = page.evaluate("document.getElementById('player').currentTime")
                        assert t == pytest.approx(manifest(built).scenes[1].start_s, abs=0.05)
                    page.close()
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(15)
    assert len(list(shots.glob("analytics-*.png"))) == 4
