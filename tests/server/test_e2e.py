"""End to end: the real studio (uvicorn on 127.0.0.1, a free port, the real watcher, build queue and engine) over
the tiny project, driven by the system Chromium through Playwright, publishing to the project's fake YouTube.

Log in with the login link; Home; open the video; save a spec on disk: the page shows "building", then the new
preview through SSE without a reload; the video plays; the final replaces the preview; request changes on scene 2
with a reason; fix the spec; approve; publish; the page shows "published" with the link. Screenshots of the Video
page at 1280 and 390 px go to /tmp/studio-shots/.
"""
from __future__ import annotations

import json
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from studio_support import TOKEN, settings_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path("/tmp/studio-shots")
WAIT_MS = 60_000   # one build (preview or final) of the tiny video on a busy 2-core machine
CHANNEL = "UCtest"  # tests/support.py BRAND

pytestmark = [pytest.mark.timeout(170),
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system Chromium at /usr/bin/chromium")]
playwright_api = pytest.importorskip("playwright.sync_api")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "publish"))  # fake_youtube, publish_support
from fake_youtube import FakeYouTube  # noqa: E402
from publish_support import SECRETS, write_token  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on", timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, name="studio-e2e", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the studio did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def youtube(tmp_path, monkeypatch):
    """The project's fake YouTube on 127.0.0.1 with the test brand's channel and a token for it (the same
    environment as the publish tests: tests/publish/conftest.py)."""
    fake = FakeYouTube(client_secret=SECRETS["client_secret"]).start()
    fake.add_channel(CHANNEL, "Test Brand", refresh_token=SECRETS["cosmos_refresh"])
    config = tmp_path / "config"  # studio_support.settings_for's config folder
    for k in ("SHOWRUNNER_ROOT", "SHOWRUNNER_CACHE", "SHOWRUNNER_DB_URL", "SHOWRUNNER_QUOTA_LIMITS",
              "SHOWRUNNER_CLOUD_PROJECT", "SHOWRUNNER_UPLOAD_CHUNK_MIB"):
        monkeypatch.delenv(k, raising=False)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("SHOWRUNNER_CONFIG_DIR", str(config))
    monkeypatch.setenv("SHOWRUNNER_CLIENT_SECRETS", str(config / "client_secret.json"))
    monkeypatch.setenv("SHOWRUNNER_YOUTUBE_ROOT_URL", fake.url)
    monkeypatch.setenv("SHOWRUNNER_ANALYTICS_ROOT_URL", fake.url)
    monkeypatch.setenv("SHOWRUNNER_TOKEN_URI", fake.url + "token")
    monkeypatch.setenv("SHOWRUNNER_HTTP_TIMEOUT", "5")
    write_token(config, "test", fake, refresh=SECRETS["cosmos_refresh"], channel=CHANNEL, title="Test Brand")
    yield fake
    fake.stop()


def edit(spec: Path, old: str, new: str) -> None:
    text = spec.read_text()
    assert old in text, old
    spec.write_text(text.replace(old, new))


def wait_js(page, expression: str, timeout_ms: float) -> None:
    """Poll a JavaScript expression until it is true (page.wait_for_function evaluates its predicate with eval,
    which the studio's Content-Security-Policy refuses, as it should)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def final_digest(root: Path) -> str:
    return json.loads((root / "build" / "test" / "beta" / "manifest.json").read_text())["build_digest"]


def test_studio_end_to_end(built, tmp_path, youtube):
    from server.app import create_app

    app = create_app(settings_for(built, tmp_path), token=TOKEN, watch=True)
    spec = built / "videos" / "test" / "beta.yaml"
    first = final_digest(built)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Server(app) as server, playwright_api.sync_playwright() as pw:
        assert app.state.queue.wait_idle(30)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: d.accept())  # "Publish this build to YouTube now?"
            expect = playwright_api.expect

            # log in with the login link: it lands on Home, with both videos
            page.goto(f"{server.url}/login?token={TOKEN}")
            assert page.url.rstrip("/") == server.url
            expect(page.locator('.card[data-video="test/beta"]')).to_be_visible()
            expect(page.locator('.card[data-video="test/alpha"] [data-badge]')).to_have_text("not built")
            expect(page.locator("form.logout")).to_be_visible()

            # the video page, then a save on disk: "building", then the preview swapped in without a reload
            page.locator('.card[data-video="test/beta"] a').first.click()
            page.wait_for_url("**/videos/test/beta")
            expect(page.locator("#live")).to_have_class("live on")
            final_src = page.locator("#player").get_attribute("src")
            assert final_src.startswith("/files/test/beta/video.mp4")
            page.evaluate("window.__sameDocument = true")
            edit(spec, "Beta has one slide.", "Beta has one slide, now with a longer line to hear.")
            expect(page.locator(".videohead [data-badge]")).to_contain_text("building", timeout=WAIT_MS)
            wait_js(page, "document.getElementById('player').getAttribute('src').startsWith('/files/.preview/')",
                                   WAIT_MS)
            expect(page.locator("#preview-badge")).to_have_text("preview (90p)")
            expect(page.locator("#shown")).to_be_visible()
            expect(page.locator(".scenes .narr").first).to_have_text("Beta has one slide, now with a longer line to hear.")
            assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
            page.screenshot(path=str(SHOTS / "preview-1280.png"))

            # the preview plays (currentTime advances); the final replaces it when it lands, still no reload
            page.evaluate("const v = document.getElementById('player'); v.muted = true; v.play().catch(() => {})")
            wait_js(page, "document.getElementById('player').currentTime > 0.5", 20_000)
            # and its sound (FLAC in MP4, joined per scene) is decoded, not just the picture
            wait_js(page, "document.getElementById('player').webkitAudioDecodedByteCount > 0", 20_000)
            wait_js(page, "document.querySelector('.videohead').dataset.shown === 'final' && "
                                   "document.getElementById('player').getAttribute('src').startsWith('/files/test/')",
                                   WAIT_MS)
            expect(page.locator("#shown")).to_be_hidden()
            assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
            assert app.state.queue.wait_idle(WAIT_MS / 1000)
            second = final_digest(built)
            assert second != first and page.evaluate("document.querySelector('.videohead').dataset.digest") == second

            # request changes on scene 2, with a reason
            form = page.locator("form#review")
            form.locator('input[value="audio.pacing"]').check()
            form.locator('select[name="scene_index"]').select_option(label="2")  # scene 2 (value 1)
            form.locator('textarea[name="note"]').fill("The second line is rushed.")
            form.locator('button[value="request-changes"]').click()
            expect(page.locator(".videohead [data-badge]")).to_have_text("changes requested")
            expect(page.locator(".history li").first).to_contain_text("request-changes")
            expect(page.locator(".history li").first).to_contain_text("scene 2")
            expect(page.locator(".history li").first).to_contain_text("pacing")

            # fix the spec: a new preview, then the new final
            edit(spec, "And a second slide to finish.", "And a calmer second slide to finish.")
            wait_js(page, f"document.querySelector('.videohead').dataset.digest !== '{second}' && "
                                   "document.querySelector('.videohead').dataset.shown === 'final'", 2 * WAIT_MS)
            assert app.state.queue.wait_idle(WAIT_MS / 1000)
            third = final_digest(built)
            assert third not in (first, second)
            expect(page.locator(".scenes .narr").nth(1)).to_have_text("And a calmer second slide to finish.")

            # approve (the page reloads with the new build's form), then publish to the fake YouTube
            page.reload()
            assert page.locator(".videohead").get_attribute("data-digest") == third
            page.locator('form#review button[value="approve"]').click()
            expect(page.locator(".videohead [data-badge]")).to_have_text("approved")
            page.locator('[data-action="publish"]').click()
            link = page.locator("#published a")
            expect(link).to_be_visible(timeout=WAIT_MS)
            expect(link).to_have_text(f"https://youtu.be/{next(iter(youtube.videos))}")
            expect(page.locator(".videohead [data-badge]")).to_have_text("published")
            expect(page.locator("#publish-out")).to_contain_text("youtu.be")

            vids = [v for v in youtube.videos.values() if v["channel"] == CHANNEL]
            assert len(vids) == 1
            assert vids[0]["content"] == (built / "build" / "test" / "beta" / "video.mp4").read_bytes()
            assert youtube.violations == []

            page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top in a full-page shot
            page.screenshot(path=str(SHOTS / "video-1280.png"), full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(SHOTS / "video-390.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
            assert not errors, errors
        finally:
            browser.close()
