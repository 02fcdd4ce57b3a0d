"""The quality gate in the studio (issue 11) over a really built video: each build's qc.json stored in the ledger
when the studio sees it (scan, its own builds, a build made beside it), the QC badge on Home, the Video page's
findings with scene, time and spec file:line:col, the review queue (riskiest first, left by a review, live over the
broker), retention notes on the scenes of a published video, and the Publish section honouring the verdict.

The QC reports are written here as the qc.verdict step would materialize them (a core.qc.QCReport as JSON)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.qc import Finding, QCReport, sample_fraction, verdict_of
from publish.ledger import Ledger
from publish.qcstore import get_qc
from studio_support import FakeBuild, login

WARN = {"check": "audio.silence", "scene": 1, "at_s": 1.25, "severity": "warning", "reason": "audio.pacing",
        "message": "6.2 s of silence inside the narration", "field": ["narration"], "value": 6.2, "limit": 3.0}
ERROR = {"check": "text.overflow", "scene": 0, "severity": "error", "reason": "visual.text_overflow",
         "message": "the slide title runs off the frame by 42 px", "field": ["visual", "title"]}
TITLE = {"check": "script.title_length", "severity": "info", "reason": "metadata.title",
         "message": "title is 10 characters; 40-70 read best", "field": ["title"], "value": 10, "limit": 40}
CARRIED = {"check": "policy.similarity", "severity": "warning", "reason": "script.off_brand_tone",
           "message": "the script repeats an earlier video", "where": "videos/test/alpha.yaml:3:5"}


def write_qc(root: Path, folder: str, *findings: dict, video: str = "test/beta") -> QCReport:
    fs = [Finding(**f) for f in findings]
    report = QCReport(video=video, format="tiny", verdict=verdict_of(fs), findings=fs,
                      scores={"audio.max_silence_s": 6.2}, thresholds={"audio": {"max_silence_s": 3.0}})
    path = root / "build" / folder / "qc.json"
    path.unlink(missing_ok=True)  # the build's own qc.json is a hard link into the store: replace it, never edit it
    path.write_text(json.dumps(report.to_json(), sort_keys=True))
    return report


def manifest(root: Path, folder: str = "test/beta") -> dict:
    return json.loads((root / "build" / folder / "manifest.json").read_text())


def ledger_of(root: Path) -> Ledger:
    return Ledger.open(f"sqlite:///{root / '.showrunner' / 'ledger.db'}")


def set_brand_qc(root: Path, text: str) -> None:
    brand = root / "brands" / "test.yaml"
    brand.write_text(brand.read_text() + f"qc: {text}\n")


def fake_unit(root: Path, folder: str, digest_seed: str, video: str) -> str:
    """A copy of the beta build under another folder with its own build digest (another unit in build/)."""
    src, dst = root / "build" / "test" / "beta", root / "build" / folder
    dst.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.is_file() and p.name != "qc.json":
            shutil.copy(p, dst / p.name)
    m = manifest(root)
    m["build_digest"] = digest_seed * 64
    m["video"] = video
    (dst / "manifest.json").write_text(json.dumps(m))
    meta = json.loads((dst / "metadata.json").read_text())
    meta["title"] = f"Copy {digest_seed}"
    (dst / "metadata.json").write_text(json.dumps(meta))
    return m["build_digest"]


def test_the_scan_stores_each_builds_qc_json(make_client, built):
    write_qc(built, "test/beta", WARN, TITLE)
    c = make_client(built)
    digest = manifest(built)["build_digest"]
    ledger = ledger_of(built)
    try:
        rec = get_qc(ledger, "test/beta", digest)
        assert rec is not None and rec.verdict == "flag" and rec.sampled  # every flagged build is sampled
        assert [f.check for f in rec.findings] == ["audio.silence", "script.title_length"]
        assert rec.scores == {"audio.max_silence_s": 6.2}
        saved = c.app.state.qc.saved
        c.get("/")  # reads do not store an unchanged report again
        c.get("/api/queue")
        assert c.app.state.qc.saved == saved
        # a threshold change re-judges the same build (qc.json is not in the digest): stored again when seen
        write_qc(built, "test/beta", dict(WARN, severity="error"))
        assert c.get("/api/videos/test/beta/qc").json()["verdict"] == "reject"
        assert get_qc(ledger, "test/beta", digest).verdict == "reject"
    finally:
        ledger.close()


def test_a_build_the_studio_runs_stores_its_qc_before_it_reads_as_built(make_client, built):
    seen: list[str] = []

    class QCBuild(FakeBuild):
        def __call__(self, ws, video, profile):
            if profile == "final":  # the engine materializes qc.json with the final build
                write_qc(built, "test/beta", ERROR)
            return super().__call__(ws, video, profile)

    (built / "build/test/beta/qc.json").unlink()  # the real build judged itself: start from a build without a report
    c = make_client(built, QCBuild())
    book, publish = c.app.state.book, c.app.state.broker.publish

    def spy(event, payload):
        if event == "state" and '"built"' in str(payload):
            seen.append("built")
        elif event == "queue":
            seen.append("queue")
        return publish(event, payload)

    c.app.state.broker.publish = spy
    assert c.get("/api/videos/test/beta/qc").status_code == 404  # no report yet
    q = c.app.state.queue
    q.request(["test/beta"], profiles=("final",))
    assert q.wait_idle(30)
    assert book.get("test/beta").state == "built"
    assert seen.index("queue") < seen.index("built"), seen  # the page that reloads on "built" sees the verdict
    assert c.get("/api/videos/test/beta/qc").json()["verdict"] == "reject"


def test_qc_api_findings_worst_first_with_scene_time_and_spec_location(make_client, built):
    write_qc(built, "test/beta", TITLE, WARN, ERROR, CARRIED)
    c = make_client(built)
    qc = c.get("/api/videos/test/beta/qc").json()
    assert qc["verdict"] == "reject" and qc["label"] == "rejected" and qc["sampled"] and not qc["reviewed"]
    assert qc["counts"] == {"error": 1, "warning": 2, "info": 1}
    assert [f["severity"] for f in qc["findings"]] == ["error", "warning", "warning", "info"]
    by = {f["check"]: f for f in qc["findings"]}
    scenes = manifest(built)["scenes"]
    spec = (built / "videos" / "test" / "beta.yaml").read_text().splitlines()
    # scene 1's narration: the line that holds it in the spec; time: the finding's own at_s
    line = next(i for i, t in enumerate(spec, 1) if "And a second slide" in t)
    assert by["audio.silence"]["where"].startswith(f"videos/test/beta.yaml:{line}:")
    assert by["audio.silence"]["seek_s"] == 1.25 and by["audio.silence"]["reason_label"] == "audio: pacing"
    # no at_s: the player goes to the scene's start
    title_line = next(i for i, t in enumerate(spec, 1) if "title: Beta}" in t)
    assert by["text.overflow"]["where"].startswith(f"videos/test/beta.yaml:{title_line}:")
    assert by["text.overflow"]["seek_s"] == scenes[0]["start_s"] and by["text.overflow"]["at_s"] is None
    assert by["script.title_length"]["where"] == "videos/test/beta.yaml:1:8"  # title: Beta Video
    assert by["script.title_length"]["scene"] is None and by["script.title_length"]["seek_s"] is None
    assert by["policy.similarity"]["where"] == "videos/test/alpha.yaml:3:5"  # carried by the finding itself
    assert c.get("/api/videos/test/alpha/qc").status_code == 404  # not built: no report
    assert c.get("/api/videos/test/nope/qc").status_code == 404
    assert c.get("/api/videos/test/beta/qc?format=../x").status_code == 400
    assert "/api/queue" in c.get("/schema/openapi.json").json()["paths"]


def test_home_badge_and_video_page_qc_section(make_client, built):
    write_qc(built, "test/beta", WARN, TITLE)
    c = make_client(built)
    home = c.get("/").text
    assert 'class="badge qc qc-flag"' in home and "QC flagged" in home
    summary = c.get("/api/videos").json()["brands"][0]["videos"][1]
    assert summary["qc"] == {"verdict": "flag", "label": "flagged", "errors": 0, "warnings": 1, "sampled": True}
    assert summary["badge"] == "built"  # the build state stays; the verdict sits beside it
    page = c.get("/videos/test/beta").text
    assert "Quality check" in page and "6.2 s of silence inside the narration" in page
    assert "audio: pacing" in page and 'class="qc-seek" data-t="1.25" data-scene="1"' in page
    assert "Warnings" in page and "Notes" in page and "Errors" not in page
    assert "videos/test/beta.yaml:" in page and "6.2 (limit 3)" in page
    assert 'href="/queue">in the review queue' in page
    assert "a person reviews and approves it before publishing" in page
    fragment = c.get("/videos/test/beta/qc-section").text
    assert "6.2 s of silence" in fragment and "<html" not in fragment
    alpha = c.get("/videos/test/alpha").text  # no build, no report: the section says so
    assert "No QC report for this build yet." in alpha


def test_review_queue_riskiest_first_and_left_by_a_review(make_client, built):
    set_brand_qc(built, "{sample_share: 1.0}")
    write_qc(built, "test/beta", WARN)                                # flag: risk 1.03
    fake_unit(built, "test/alpha", "a", "test/alpha")
    write_qc(built, "test/alpha", ERROR, WARN, video="test/alpha")    # reject: risk 2.13
    fake_unit(built, "test/beta/wide", "b", "test/beta")
    write_qc(built, "test/beta/wide", TITLE)                          # auto-approve, sampled by the brand's share
    stale = fake_unit(built, "test/gamma", "c", "test/gamma")
    write_qc(built, "test/gamma", ERROR, video="test/gamma")
    c = make_client(built)
    events: list[tuple[str, object]] = []
    publish = c.app.state.broker.publish
    c.app.state.broker.publish = lambda e, p: (events.append((e, p)), publish(e, p))[1]
    m = manifest(built, "test/gamma")  # gamma rebuilt without QC: its old report leaves the queue
    m["build_digest"] = "d" * 64
    (built / "build" / "test" / "gamma" / "manifest.json").write_text(json.dumps(m))
    (built / "build" / "test" / "gamma" / "qc.json").unlink()

    q = c.get("/api/queue").json()
    assert [i["unit"] for i in q["items"]] == ["test/alpha", "test/beta", "test/beta@wide"], q
    assert q["count"] == 3 and stale not in [i["build_digest"] for i in q["items"]]
    alpha, beta, wide = q["items"]
    assert alpha["verdict"] == "reject" and alpha["risk"] > beta["risk"] > wide["risk"] == 0.0
    assert [f["check"] for f in alpha["top_findings"]] == ["text.overflow", "audio.silence"]
    assert alpha["title"] == "Copy a" and alpha["thumbnail"].startswith("/files/test/alpha/thumbnail.jpg?v=")
    assert wide["thumbnail"].startswith("/files/test/beta/wide/thumbnail.jpg?v=") and wide["format"] == "wide"
    assert beta["review_url"] == "/videos/test/beta#review-box"
    assert c.get(wide["thumbnail"]).status_code == 200

    page = c.get("/queue").text
    assert page.index("Copy a") < page.index("the slide title runs off") < page.index("6.2 s of silence")
    assert 'id="queue-count">3<' in page and "3 builds waiting for a person" in page
    assert 'id="queue-count">3<' in c.get("/").text  # the count in the nav on every page

    # a person reviews beta: it leaves the queue, and the pages hear of it
    csrf = login(c)
    r = c.post("/api/videos/test/beta/reviews", headers={"X-CSRF-Token": csrf},
               json={"verdict": "request-changes", "build_digest": manifest(built)["build_digest"],
                     "reasons": ["audio.pacing"]})
    assert r.status_code == 201, r.text
    assert [i["unit"] for i in c.get("/api/queue").json()["items"]] == ["test/alpha", "test/beta@wide"]
    queue_msgs = [p if isinstance(p, dict) else json.loads(p) for e, p in events if e == "queue"]
    assert queue_msgs and queue_msgs[-1] == {"count": 2, "units": ["test/beta"]}
    assert "Copy a" in c.get("/queue/items").text and "<html" not in c.get("/queue/items").text
    assert c.get("/api/videos/test/beta/qc").json()["reviewed"] is True

    # the further format is reviewed on the same Video page: its QC in the section, its build in the form
    assert wide["review_url"] == "/videos/test/beta?format=wide#review-box"
    page = c.get("/videos/test/beta?format=wide").text
    assert "Format wide" in page and 'class="badge qc qc-auto-approve">QC auto-approve' in page
    assert f'<option value="wide" data-digest="{"b" * 64}" selected>wide</option>' in page
    d = c.get("/api/videos/test/beta").json()
    assert [(u["unit"], u["format"]) for u in d["units"]] == [("test/beta", "tiny"), ("test/beta@wide", "wide")]
    assert [o["unit"] for o in d["other_qc"]] == ["test/beta@wide"]
    assert "Format wide" in c.get("/videos/test/beta/qc-section").text
    r = c.post("/api/videos/test/beta/reviews", headers={"X-CSRF-Token": csrf},
               json={"verdict": "request-changes", "build_digest": "b" * 64, "format": "wide",
                     "reasons": ["metadata.title"]})
    assert r.status_code == 201, r.text
    assert [i["unit"] for i in c.get("/api/queue").json()["items"]] == ["test/alpha"]


def test_auto_approved_builds_are_sampled_by_the_brand_share(make_client, built):
    set_brand_qc(built, "{sample_share: 0.0}")
    write_qc(built, "test/beta", TITLE)
    c = make_client(built)
    assert c.get("/api/queue").json() == {"count": 0, "items": []}
    assert "Nothing to review" in c.get("/queue").text and 'id="queue-count">0<' in c.get("/queue").text
    qc = c.get("/api/videos/test/beta/qc").json()
    assert qc["verdict"] == "auto-approve" and not qc["sampled"]
    # the same build with a share above its sample fraction is sampled, on every run
    digest = manifest(built)["build_digest"]
    assert 0 <= sample_fraction(digest) < 1


def test_publish_section_honours_the_verdict(make_client, built):
    write_qc(built, "test/beta", ERROR)
    c = make_client(built)
    login(c)
    d = c.get("/api/videos/test/beta").json()
    assert d["publish_gate"]["state"] == "rejected" and d["publish_gate"]["reasons"] == ["visual: text overflow"]
    page = c.get("/videos/test/beta").text
    assert "QC rejected this build (1 error)" in page and '<div id="publish-actions" hidden>' in page

    set_brand_qc(built, "{autopublish: true}")
    write_qc(built, "test/beta", TITLE)
    page = c.get("/videos/test/beta").text
    assert "it publishes without a person&#39;s approval" in page
    assert '<div id="publish-actions" >' in page
    assert c.get("/api/videos/test/beta").json()["publish_gate"]["state"] == "autopublish"


def test_retention_notes_on_the_scenes_of_a_published_video(make_client, built):
    from test_analytics import seed

    c = make_client(built)
    assert all(s["retention"] is None for s in c.get("/api/videos/test/beta").json()["scenes"])
    seed(built)
    scenes = c.get("/api/videos/test/beta").json()["scenes"]
    first, second = scenes[0]["retention"], scenes[1]["retention"]
    # the seeded curve loses about 10 points over scene 1 and 50 over scene 2 (sampled at 21 points)
    assert first["drop"] == pytest.approx(0.1, abs=0.02) and not first["weakest"]
    assert second["drop"] == pytest.approx(0.5, abs=0.02) and second["weakest"] and not second["from_published"]
    text = (f"Audience lost {second['drop'] * 100:.1f} points ({second['retention_start'] * 100:.0f}% → "
            f"{second['retention_end'] * 100:.0f}%), one of the weakest scenes")
    assert second["text"] == text and first["text"].startswith("Audience lost ") and "weakest" not in first["text"]
    page = c.get("/videos/test/beta").text
    assert f'<span class="rnote weak lost">{text}</span>' in page


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system Chromium at /usr/bin/chromium")
def test_pages_in_chromium_at_1280_and_390(built, tmp_path):
    """Home, Video (QC findings, retention notes) and Queue rendered by the real Chromium from the real server: no
    sideways scroll at either width, a finding's scene button seeks the player, the nav count follows a review
    without a reload (SSE). Screenshots in $STUDIO_SHOTS (or the test's tmp folder) to look at."""
    import os
    import threading
    import time

    sync_api = pytest.importorskip("playwright.sync_api")
    uvicorn = pytest.importorskip("uvicorn")
    from server.app import create_app
    from studio_support import TOKEN, settings_for
    from test_analytics import seed
    from test_e2e import CHROMIUM_ARGS, free_port, wait_js

    write_qc(built, "test/beta", TITLE, WARN, ERROR, CARRIED)
    fake_unit(built, "test/alpha", "a", "test/alpha")
    write_qc(built, "test/alpha", WARN, video="test/alpha")
    fake_unit(built, "test/beta/wide", "b", "test/beta")
    write_qc(built, "test/beta/wide", TITLE)
    set_brand_qc(built, "{sample_share: 1.0}")
    seed(built)
    app = create_app(settings_for(built, tmp_path), token=TOKEN, watch=False, build_fn=FakeBuild())
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
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for width in (1280, 390):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    errors: list[str] = []
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    page.goto(f"{base}/login?token={TOKEN}", timeout=20_000)
                    for name, path in (("home", "/"), ("video", "/videos/test/beta"), ("queue", "/queue")):
                        page.goto(base + path, timeout=20_000)
                        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
                        page.screenshot(path=str(shots / f"qc-{name}-{width}.png"), full_page=True)
                    left = 3 if width == 1280 else 1  # two reviews at the end of the 1280 round
                    assert page.locator("#queue-count").inner_text() == str(left)
                    assert page.locator(".qitem").count() == left
                    if width == 1280:
                        page.goto(base + "/videos/test/beta", timeout=20_000)
                        assert page.locator("#publish-actions").is_hidden()
                        assert page.locator("#qc-gate").is_visible()
                        page.locator(".qc-seek[data-scene='1']").first.click()
                        wait_js(page, "document.getElementById('player').currentTime > 1.2", 20_000)
                        assert page.evaluate("document.getElementById('player').currentTime") == \
                            pytest.approx(1.25, abs=0.3)
                        assert page.locator('select[name="scene_index"]').input_value() == "1"
                        # the queue's link to the further format: its build preselected in the review form
                        page.goto(base + "/queue", timeout=20_000)
                        page.locator('.qitem[data-unit="test/beta@wide"] a.review-link').click()
                        page.wait_for_url("**/videos/test/beta?format=wide#review-box")
                        assert page.locator('select[name="unit"]').input_value() == "wide"
                        form = page.locator("form#review")
                        form.locator('input[value="metadata.title"]').check()
                        form.locator('button[value="request-changes"]').click()
                        sync_api.expect(page.locator(".history li").first).to_contain_text("request-changes")
                        assert page.locator("#queue-count").inner_text() == "2"
                        # a review on the queue page's other tab: the nav count and the list follow live
                        page.goto(base + "/queue", timeout=20_000)
                        wait_js(page, "document.getElementById('live').classList.contains('on')", 20_000)
                        csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
                        r = page.request.post(f"{base}/api/videos/test/beta/reviews", headers={"X-CSRF-Token": csrf},
                                              data={"verdict": "request-changes", "reasons": ["audio.pacing"],
                                                    "build_digest": manifest(built)["build_digest"]})
                        assert r.status == 201, r.text()
                        wait_js(page, "document.getElementById('queue-count').textContent === '1' && "
                                      "document.querySelectorAll('.qitem').length === 1", 20_000)
                    assert not errors, errors
                    page.close()
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(15)
    assert len(list(shots.glob("qc-*.png"))) == 6


def test_a_brand_share_change_resamples_after_the_rebuild_it_causes(make_client, built):
    set_brand_qc(built, "{sample_share: 0.0}")
    write_qc(built, "test/beta", TITLE)
    c = make_client(built)
    assert c.get("/api/videos/test/beta/qc").json()["sampled"] is False
    brand = built / "brands" / "test.yaml"
    brand.write_text(brand.read_text().replace("sample_share: 0.0", "sample_share: 1.0"))
    q = c.app.state.queue
    q.notify_changes([brand])  # what the watcher does on a save: reload, rebuild the brand's videos
    assert q.wait_idle(30)
    assert c.get("/api/videos/test/beta/qc").json()["sampled"] is True
    assert [i["unit"] for i in c.get("/api/queue").json()["items"]] == ["test/beta"]


def test_queue_reads_are_open_on_loopback_and_need_a_session_on_a_lan_host(make_client, built):
    write_qc(built, "test/beta", WARN)
    c = make_client(built)
    for path in ("/queue", "/queue/items", "/api/queue", "/api/videos/test/beta/qc", "/videos/test/beta/qc-section"):
        assert c.get(path).status_code == 200, path
    lan = make_client(built, host="0.0.0.0")
    for path in ("/queue", "/queue/items", "/api/queue", "/api/videos/test/beta/qc", "/videos/test/beta/qc-section"):
        assert lan.get(path).status_code == 401, path
    login(lan)
    assert lan.get("/api/queue").json()["count"] == 1
