"""Slides and thumbnails through real headless Chromium; user text is data, never markup."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from core.errors import StepError
from support import REPO
from helpers import run_renderer
from renderers.slide_html import HtmlSlide, render_template
from renderers.thumbnail_html import HtmlThumbnail

PALETTE = {"background": "#102030", "surface": "#102030", "text": "#ffffff", "accent": "#ff8800", "muted": "#aaaaaa"}
FONTS = {"heading": "DejaVu Sans", "body": "DejaVu Sans"}
SLIDE = REPO / "recipes/templates/slide/default.html.j2"


def test_user_text_cannot_inject_markup():
    html = render_template(SLIDE, title="<script>alert(1)</script>", bullets=["<b>bold</b>"], body="", brand="B",
                           palette=PALETTE, fonts=FONTS, width=320, height=180, portrait=False, logo=None, image=None)
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "&lt;b&gt;bold" in html


def test_slide_renders_at_format_size_in_brand_colours(tmp_path):
    out, _ = run_renderer(HtmlSlide, tmp_path, {"width": 320, "height": 180, "title": "Hello", "bullets": ["a", "b"],
                                                "palette": PALETTE, "fonts": FONTS, "brand": "B"}, {"template": SLIDE})
    im = Image.open(out / "slide.png").convert("RGB")
    assert im.size == (320, 180)
    assert im.getpixel((310, 5)) == (0x10, 0x20, 0x30)  # background colour from the palette
    colours = im.getcolors(maxcolors=100000)
    assert any(abs(r - 255) < 30 and abs(g - 136) < 30 and b < 40 for _, (r, g, b) in colours)  # accent bullets
    bold = REPO / "recipes/templates/slide/bold.html.j2"
    out2, _ = run_renderer(HtmlSlide, tmp_path, {"width": 180, "height": 320, "title": "Tall", "palette": PALETTE,
                                                 "fonts": FONTS}, {"template": bold}, name="portrait")
    assert Image.open(out2 / "slide.png").size == (180, 320)


def test_a_render_queued_behind_a_release_reopens_the_browser(tmp_path):
    """The engine releases Chromium without waiting (HtmlSlide.release): the close runs on the browser's thread,
    and a render asked for right after it waits its turn and starts a new browser, with the same pixels."""
    from renderers._lib import browser

    params = {"width": 320, "height": 180, "title": "Again", "palette": PALETTE, "fonts": FONTS}
    first, _ = run_renderer(HtmlSlide, tmp_path, params, {"template": SLIDE}, name="first")
    old = browser._state.get("browser")
    HtmlSlide.release("chromium")
    again, _ = run_renderer(HtmlSlide, tmp_path, params, {"template": SLIDE}, name="again")
    assert browser._state.get("browser") is not None and browser._state["browser"] is not old
    assert (first / "slide.png").read_bytes() == (again / "slide.png").read_bytes()


def test_thumbnail_is_1280x720_jpeg_under_2mb(tmp_path):
    out, facts = run_renderer(HtmlThumbnail, tmp_path, {"text": "Where did the Milky Way go?", "palette": PALETTE,
                                                        "fonts": FONTS, "brand": "B"},
                              {"template": REPO / "recipes/templates/thumbnail/default.html.j2",
                               "image": REPO / "videos/cosmos/media/nebula.jpg"})
    p = Path(out / "thumbnail.jpg")
    im = Image.open(p)
    assert im.format == "JPEG" and im.size == (1280, 720) and p.stat().st_size < 2 * 1024 * 1024


EXPLOIT = "{{ cycler.__init__.__globals__.os.popen('touch %s').read() }}"


def test_templates_run_in_the_sandbox(tmp_path):
    """A slide or thumbnail template (chosen by a spec) cannot reach Python: a clear StepError, nothing runs."""
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.html.j2"
    evil.write_text("<p>" + EXPLOIT % marker + "</p>")
    for cls, params in ((HtmlSlide, {"width": 320, "height": 180, "palette": PALETTE, "fonts": FONTS}),
                        (HtmlThumbnail, {"text": "x", "palette": PALETTE, "fonts": FONTS})):
        with pytest.raises(StepError, match="evil.html.j2 tried an unsafe operation, refused by the sandbox"):
            run_renderer(cls, tmp_path, params, {"template": evil}, name=cls.kind)
    assert not marker.exists()
    # the other classics are refused too; template errors are StepErrors, never tracebacks
    for body in ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ lipsum.__globals__ }}",
                 "{{ config.items() }}", "{% for x in %}"):
        evil.write_text(body)
        with pytest.raises(StepError, match="evil.html.j2"):
            render_template(evil)


def test_cjk_text_renders_as_glyphs_not_boxes(tmp_path):
    """Japanese and Chinese fall back to Noto CJK (scripts/install.sh installs fonts-noto-cjk): different
    characters draw differently, and unlike the box of a character no font has (U+E000)."""
    def title(text, name, template=SLIDE):
        out, _ = run_renderer(HtmlSlide, tmp_path, {"width": 480, "height": 270, "title": text, "palette": PALETTE,
                                                    "fonts": FONTS}, {"template": template}, name=name)
        return hashlib.sha256(Image.open(out / "slide.png").convert("L").tobytes()).hexdigest()[:12]

    tofu = title("\ue000" * 3, "tofu")
    texts = {"ja": "日本語", "zh": "中文字", "kana": "ひらが"}
    shots = {k: title(t, k) for k, t in texts.items()}
    assert len(set(shots.values())) == len(shots), "CJK characters render alike: boxes? (apt-get install fonts-noto-cjk)"
    assert tofu not in shots.values()
    bold = REPO / "recipes/templates/slide/bold.html.j2"
    assert title("日本語", "bold-ja", bold) != title("中文字", "bold-zh", bold) != title("\ue000" * 3, "bold-tofu", bold)
    html = render_template(SLIDE, title="x", bullets=[], body="", brand="", palette=PALETTE, fonts=FONTS, width=9,
                           height=9, portrait=False, logo=None, image=None)
    assert '"DejaVu Sans", "Noto Sans CJK JP"' in html  # brand font first, then CJK, then generic
