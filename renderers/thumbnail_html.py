"""Thumbnail: a brand HTML template at 1280x720, saved as JPEG under YouTube's 2 MB limit.

Its text shrinks to fit (data-fit) and is measured like a slide's (renderers/_lib/onscreen.py), once: the
JPEG quality changes bytes, never the layout."""
from __future__ import annotations

from .base import Context, Params, Renderer
from ._lib import browser
from ._lib.browser import chromium_version, data_uri, render_html
from .slide_html import render_template

MAX_BYTES = 2 * 1024 * 1024


class HtmlThumbnail(Renderer):
    kind = "thumbnail.html"
    version = 2  # 2: shrink-to-fit, text measured into the facts
    needs = ("chromium",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("template",)
    optional_inputs = ("image", "logo")
    outputs = ("thumbnail.jpg",)

    class Params(Params):
        text: str
        brand: str = ""
        palette: dict[str, str]
        fonts: dict[str, str]
        width: int = 1280
        height: int = 720

    resources = ("chromium",)

    @classmethod
    def release(cls, resource: str) -> None:
        browser.close(wait=False)  # the engine's scheduling goes on while Chromium shuts down

    def tool_fingerprint(self) -> dict:
        return {"chromium": chromium_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        html = render_template(ctx.inputs["template"], text=p.text, words=p.text.split(), brand=p.brand,
                               palette=p.palette, fonts=p.fonts, width=p.width, height=p.height,
                               image=data_uri(ctx.inputs.get("image")), logo=data_uri(ctx.inputs.get("logo")))
        out = ctx.out("thumbnail.jpg")
        text = None
        for quality in (92, 85, 75, 60, 45):
            measured = render_html(html, out, p.width, p.height, jpeg_quality=quality, measure=text is None)
            text = text or measured
            if out.stat().st_size < MAX_BYTES:
                return {"bytes": out.stat().st_size, "quality": quality, "text": text}
        from core.errors import StepError

        raise StepError("thumbnail stays over 2 MB even at JPEG quality 45")
