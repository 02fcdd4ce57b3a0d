"""One headless Chromium per process, and one page in it, reused by every HTML renderer (slides, thumbnails).

Launching Chromium costs about a second; a 12-slide video pays it once. The system Chromium is
used (never `playwright install`), with background networking off so nothing leaves the machine.
"""
from __future__ import annotations

import atexit
import base64
import functools
import mimetypes
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.errors import StepError

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--font-render-hinting=none", "--force-color-profile=srgb", "--hide-scrollbars"]

_lock = threading.Lock()
_state: dict = {}
# Playwright's sync API is bound to the thread that started it: every browser call runs here.
_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")


# macOS app bundles (Homebrew's `chromium` cask, or Google Chrome), tried after PATH
MAC_BROWSERS = ("/Applications/Chromium.app/Contents/MacOS/Chromium",
                "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")


def chromium_path() -> str:
    exe = os.environ.get("SHOWRUNNER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe and sys.platform == "darwin":
        exe = next((p for p in MAC_BROWSERS if os.access(p, os.X_OK)), None)
    if not exe:
        raise StepError("Chromium is not installed", hint="run scripts/install.sh (apt-get install chromium on "
                        "Debian/Ubuntu, brew install --cask chromium on macOS), or set SHOWRUNNER_CHROMIUM")
    return exe


@functools.lru_cache(maxsize=None)
def chromium_version() -> str:
    out = subprocess.run([chromium_path(), "--version"], capture_output=True, text=True).stdout.strip()
    from importlib.metadata import version

    return f"{out}; playwright {version('playwright')}"


def browser():
    with _lock:
        if "browser" not in _state:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            _state["pw"] = pw
            _state["browser"] = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            atexit.register(close)
        return _state["browser"]


def close(wait: bool = True) -> None:
    """Close the browser (the next render starts another). Without `wait` the close is queued on the browser's
    thread and runs beside the caller's work; a render asked for later queues behind it and reopens it."""
    try:
        done = _thread.submit(_close)
        if wait:
            done.result(timeout=20)
    except Exception:  # interpreter shutting down: the driver exits with us and takes Chromium along
        pass


def _close() -> None:
    with _lock:
        _state.pop("page", None)  # closed with its browser
        b, pw = _state.pop("browser", None), _state.pop("pw", None)
    try:
        if b:
            b.close()
        if pw:
            pw.stop()
    except Exception:
        pass


def render_html(html: str, out: Path, width: int, height: int, *, jpeg_quality: int | None = None,
                measure: bool = False, caption_safe: float = 0.0) -> dict | None:
    """Screenshot `html` at exactly width x height. The page cannot reach the network. Text marked `data-fit`
    is shrunk to fit its box first (onscreen.py); with `measure`, returns the measurements of the text on
    the page as screenshotted (onscreen.measure), else None."""
    return _thread.submit(_render, html, out, width, height, jpeg_quality, measure, caption_safe).result()


def _page(width: int, height: int):
    """The one page every render reuses (resized as needed). A page per render started a renderer process per
    slide and Chromium's memory grew with the number of slides (0.4 GB after 6, 0.67 GB after 18); one page keeps
    it flat, and the screenshots are byte-identical (set_content replaces the whole document)."""
    page = _state.get("page")
    if page is None or page.is_closed():
        page = browser().new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
        page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("data:") else route.continue_())
        _state["page"] = page
    elif page.viewport_size != {"width": width, "height": height}:
        page.set_viewport_size({"width": width, "height": height})
    return page


def _render(html: str, out: Path, width: int, height: int, jpeg_quality: int | None, measure: bool,
            caption_safe: float) -> dict | None:
    from . import onscreen

    page = _page(width, height)
    try:
        page.set_content(html, wait_until="load")
        page.evaluate("document.fonts.ready")
        scales = onscreen.fit(page)
        if jpeg_quality:
            page.screenshot(path=str(out), type="jpeg", quality=jpeg_quality, full_page=False)
        else:
            page.screenshot(path=str(out), type="png", full_page=False)
        if not measure:
            return None
        return {**onscreen.measure(page, caption_safe), "fit_scales": scales}
    except Exception:
        _state.pop("page", None)  # a crashed or hung page is not reused
        try:
            page.close()
        except Exception:
            pass
        raise


def data_uri(path: Path | None) -> str | None:
    if path is None:
        return None
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode()}"
