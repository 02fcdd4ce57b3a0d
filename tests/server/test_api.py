"""The JSON API over a really built video: detail, reviews (the same records as `doit approve`), publish
dry run and job, SSE, and one real rebuild through the studio after a save."""
from __future__ import annotations

import json
import time

from studio_support import login
from publish.approval import latest_decision, require_approved_build
from publish.ledger import Ledger


def digest_of(root, video="test/beta"):
    return json.loads((root / "build" / video / "manifest.json").read_text())["build_digest"]


def test_video_detail(make_client, built):
    c = make_client(built)
    d = c.get("/api/videos/test/beta").json()
    assert d["summary"]["build"]["state"] == "built" and d["summary"]["badge"] == "built"
    assert [s["narration"] for s in d["scenes"]] == ["Beta has one slide.", "And a second slide to finish."]
    assert d["scenes"][1]["start_s"] > 0 and d["scenes"][0]["visual_kind"] == "slide"
    assert d["video_url"].startswith("/files/test/beta/video.mp4") and d["captions_url"]
    assert d["steps"] and d["explain"] and all(r["status"] == "hit" for r in d["explain"])
    assert c.get(d["video_url"], headers={"Range": "bytes=0-99"}).status_code == 206
    assert c.get("/api/videos/test/nope").status_code == 404
    assert c.get("/api/videos/..%2f/x").status_code == 404
    page = c.get("/videos/test/beta").text
    assert "<video" in page and 'kind="captions"' in page and "Beta has one slide." in page


def test_reviews_write_the_gate_records(make_client, built, tmp_path):
    c = make_client(built)
    csrf = login(c)
    h = {"X-CSRF-Token": csrf}
    digest = digest_of(built)
    url = "/api/videos/test/beta/reviews"
    r = c.post(url, json={"verdict": "request-changes", "build_digest": digest, "reasons": ["visual.glitch"],
                          "scene_index": 1, "timecode_s": 1.5, "note": "flicker"}, headers=h)
    assert r.status_code == 201, r.text
    assert c.post(url, json={"verdict": "reject", "build_digest": digest, "reasons": ["bogus"]},
                  headers=h).status_code == 400
    assert c.post(url, json={"verdict": "reject", "build_digest": digest}, headers=h).status_code == 409  # say why
    assert c.post(url, json={"verdict": "approve", "build_digest": "0" * 64}, headers=h).status_code == 409
    ledger = Ledger.open(f"sqlite:///{built / '.showrunner' / 'ledger.db'}")
    try:
        d = latest_decision(ledger, "test/beta", digest)
        assert not d.approved and "visual: glitch" in d.reason and "scene 2 at 1.5s" in d.reason
        assert c.get("/api/videos").json()["brands"][0]["videos"][1]["badge"] == "changes requested"
        r = c.post(url, json={"verdict": "approve", "build_digest": digest, "reviewer": "ann"}, headers=h)
        assert r.status_code == 201, r.text
        assert require_approved_build(ledger, "test/beta", digest).reviewer == "ann"
        assert latest_decision(ledger, "test/beta", digest).publish_digest  # covers the publish settings
    finally:
        ledger.close()
    hist = c.get(url).json()
    assert [x["verdict"] for x in hist] == ["approve", "request-changes"] and all(x["current"] for x in hist)
    assert hist[1]["reasons"] == ["visual.glitch"] and hist[1]["scene_index"] == 1
    assert c.get("/api/videos").json()["brands"][0]["videos"][1]["badge"] == "approved"
    assert len(c.get("/api/reasons").json()) == 16


def test_publish_dry_run_and_job_report_without_5xx(make_client, built):
    c = make_client(built)
    h = {"X-CSRF-Token": login(c)}
    r = c.post("/api/videos/test/beta/publish/dry-run", json={}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "not-approved" and "no review yet" in r.json()["message"]
    r = c.post("/api/videos/test/beta/publish", json={}, headers=h)
    assert r.status_code == 202
    job = r.json()
    c.app.state.jobs.wait(job["id"], 30)
    done = c.get(f"/api/jobs/{job['id']}").json()
    assert done["state"] == "failed" and done["status"] == "not-approved" and done["message"]


def test_events_stream_states(make_client, mini):
    c = make_client(mini)
    with c.stream("GET", "/api/events?max_events=2") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    assert text.count("event: state") == 2 and '"video":"test/alpha"' in text


def test_broker_delivers_thread_events():
    import asyncio
    import threading

    from core.events import Event
    from server.broker import Broker, BrokerReporter

    async def main():
        b = Broker()
        q = b.subscribe()
        threading.Thread(target=lambda: BrokerReporter(b).emit(Event(type="hit", step="s", video="v"))).start()
        msg = await asyncio.wait_for(q.get(), 5)
        b.unsubscribe(q)
        return msg

    msg = asyncio.run(main())
    assert msg.event == "build" and json.loads(msg.data)["type"] == "hit"


def test_a_save_rebuilds_for_real(make_client, built):
    """One small real build: edit a narration line, the studio rebuilds through the real engine."""
    c = make_client(built, real=True)
    before = digest_of(built)
    spec = built / "videos" / "test" / "beta.yaml"
    spec.write_text(spec.read_text().replace("And a second slide to finish.", "And a new second line."))
    q = c.app.state.queue
    q.notify_changes([spec])
    assert q.wait_idle(600)
    st = c.get("/api/videos/test/beta").json()["summary"]["build"]
    assert st["state"] == "built", st
    assert st["build_digest"] == digest_of(built) != before
    d = c.get("/api/videos/test/beta").json()
    assert d["scenes"][1]["narration"] == "And a new second line."
    assert [p for v, p, _ in q.stats.history] == ["preview", "final"]
    assert (built / "build" / ".preview" / "test" / "beta" / "video.mp4").is_file()
    assert d["summary"]["shown"] == "final" and d["video_url"].startswith("/files/test/beta/video.mp4")
    lb = d["last_build"]  # what changed (explain misses before the build) and the build's log
    assert lb["profiles"] == ["preview", "final"] and lb["state"] == "built" and lb["finished_at"]
    narr = [c for c in lb["changes"] if c["input"] == "narration"]
    assert narr and narr[0]["scene"] == 1 and "And a new second line." in narr[0]["why"], lb["changes"]
    assert all(c["scene"] in (None, 1) for c in lb["changes"]), lb["changes"]
    assert "--- preview build" in lb["log"] and "--- final build" in lb["log"]
    assert any(line.startswith("executed") and "narration/01" in line for line in lb["log"])
    page = c.get("/videos/test/beta").text
    assert "What changed" in page and "scene 2 · narration" in page and "Build log" in page


def test_the_preview_is_shown_while_newer_than_the_final(make_client, built):
    """build/.preview/ newer than build/: the API and the page show the preview (with its badge), served from
    /files/.preview/; a final that lands (even unchanged on disk) takes over; without a final the preview shows."""
    import shutil

    from compiler.workspace import Workspace
    from server.previews.services import mark_final_landed

    spec = built / "videos" / "test" / "beta.yaml"
    spec.write_text(spec.read_text().replace("Beta has one slide.", "Beta has one new slide."))
    assert Workspace.open(built).build(["test/beta"], profile="preview").outcome("test/beta").status == "built"
    c = make_client(built)
    d = c.get("/api/videos/test/beta").json()
    s = d["summary"]
    assert s["shown"] == "preview" and s["preview_label"] == "preview (90p)", s
    assert d["video_url"].startswith("/files/.preview/test/beta/video.mp4?v=")
    assert d["captions_url"].startswith("/files/.preview/test/beta/captions.vtt")
    assert d["final_url"].startswith("/files/test/beta/video.mp4") and s["build"]["build_digest"] == digest_of(built)
    assert d["scenes"][0]["narration"] == "Beta has one new slide."
    assert d["explain"] and all(r["step"].startswith("test/beta/") for r in d["explain"])
    assert c.get(d["video_url"], headers={"Range": "bytes=0-9"}).status_code == 206
    page = c.get("/videos/test/beta").text
    assert "preview (90p)" in page and 'src="/files/.preview/test/beta/video.mp4' in page

    mark_final_landed(built / "build", "test/beta")
    d = c.get("/api/videos/test/beta").json()
    assert d["summary"]["shown"] == "final" and d["video_url"].startswith("/files/test/beta/video.mp4")
    assert 'id="shown" hidden' in c.get("/videos/test/beta").text

    shutil.rmtree(built / "build" / "test" / "beta")
    d = c.get("/api/videos/test/beta").json()
    assert d["summary"]["shown"] == "preview" and not d["final_url"]
    from server.previews.schemas import VideoState, VideoSummary
    from server.previews.views import badge
    assert badge(VideoSummary(video="test/beta", brand="test", slug="beta", shown="preview",
                              build=VideoState(video="test/beta", state="built"))) == "preview"
    assert d["summary"]["thumbnail"].startswith("/files/.preview/test/beta/thumbnail.jpg")


def test_change_of_names_scene_and_input():
    from server.previews.services import change_of

    assert change_of("test/beta/preview/tiny/slide/01", "test/beta", "params.title: A -> B").model_dump() == {
        "step": "test/beta/preview/tiny/slide/01", "scene": 1, "input": "slide", "why": "params.title: A -> B"}
    assert change_of("test/beta/narration/00", "test/beta", "x").scene == 0
    c = change_of("test/beta/scriptfiles", "test/beta", "params.scenes[1].narration: a -> b")
    assert c.scene is None and c.input == "scriptfiles"
    assert change_of("test/beta/tiny/thumbnail", "test/beta", "").input == "thumbnail"
    why = "inputs.audio: c7782fb3b6...4c4fb -> c9e21ded28...a134; inputs.timings[1]: 1b321fb2e1...6dae3 -> d23924f73d...d4da"
    assert change_of("test/beta/tiny/segment/01", "test/beta", why).why == "inputs.audio changed; inputs.timings[1] changed"
    assert change_of("test/beta/narration/01", "test/beta", "params.text: a -> b").why == "params.text: a -> b"
    assert change_of("test/beta/narration/01", "test/beta", "params.text: cafe -> face").why == "params.text: cafe -> face"


def test_last_build_survives_a_restart(make_client, built):
    """What changed and the build log are kept as atomic JSON under cache/studio/builds/: a new app instance shows
    them; one left mid-build reads as interrupted."""
    c = make_client(built)
    book = c.app.state.book
    from server.previews.schemas import ChangeView
    book.begin_build("test/beta", "preview", [ChangeView(step="test/beta/narration/01", scene=1, input="narration",
                                                         why="params.text: a -> b")], fresh=True)
    book.end_build("test/beta", "built")
    saved = built / "cache" / "studio" / "builds" / "test" / "beta.json"
    assert json.loads(saved.read_text())["state"] == "built"
    book.begin_build("test/alpha", "final", [], fresh=True)  # the server "stops" during this one
    c2 = make_client(built)
    lb = c2.get("/api/videos/test/beta").json()["last_build"]
    assert lb["state"] == "built" and lb["changes"][0]["scene"] == 1 and "--- preview build" in lb["log"]
    assert "scene 2 · narration" in c2.get("/videos/test/beta").text
    assert c2.app.state.book.last_build("test/alpha").state == "interrupted"
    assert not list(saved.parent.glob("*.tmp*"))


def test_home_shows_the_preview_thumbnail_when_the_preview_is_shown(make_client, built):
    from compiler.workspace import Workspace

    spec = built / "videos" / "test" / "beta.yaml"
    spec.write_text(spec.read_text().replace("Beta has one slide.", "Beta has one new slide."))
    assert Workspace.open(built).build(["test/beta"], profile="preview").outcome("test/beta").status == "built"
    c = make_client(built)
    s = c.get("/api/videos/test/beta").json()["summary"]
    assert s["shown"] == "preview" and s["thumbnail"].startswith("/files/.preview/test/beta/thumbnail.jpg?v=")
    assert s["thumbnail"] in c.get("/").text
    assert c.get(s["thumbnail"]).headers["content-type"] == "image/jpeg"
