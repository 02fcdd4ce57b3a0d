"""Slides: a Jinja2 HTML template styled by the brand, screenshotted by headless Chromium.

User text is passed as data with autoescaping on; it can never become template code or live HTML.
Text marked `data-fit` shrinks to fit its box; the facts (`text`) hold where every text element landed, how
big and how legible it is (renderers/_lib/onscreen.py), which the `qc.text` step judges.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from core.errors import StepError

from .base import Context, Params, Renderer
from ._lib import browser
from ._lib.browser import chromium_version, data_uri, render_html


def render_template(path: Path, **data) -> str:
    """Render a spec-chosen template in Jinja's sandbox: it may format the data it is given, never reach
    Python internals (`cycler.__init__.__globals__.os` and the like raise SecurityError, reported here)."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    try:
        return env.from_string(path.read_text(encoding="utf-8")).render(**data)
    except jinja2.exceptions.SecurityError as exc:
        raise StepError(f"template {path.name} tried an unsafe operation, refused by the sandbox: {exc}",
                        hint="templates may only format the data they are given") from None
    except jinja2.TemplateSyntaxError as exc:
        raise StepError(f"template {path.name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise StepError(f"template {path.name}: {exc}") from None


class HtmlSlide(Renderer):
    kind = "slide.html"
    version = 3  # 3: shrink-to-fit, text measured into the facts
    needs = ("chromium",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("template",)
    optional_inputs = ("logo", "image")
    outputs = ("slide.png",)

    class Params(Params):
        width: int
        height: int
        title: str = ""
        bullets: list[str] = Field(default_factory=list)
        body: str = ""
        brand: str = ""
        palette: dict[str, str]
        fonts: dict[str, str]
        caption_safe: float = Field(0.0, ge=0, le=0.6, description="bottom share of the frame kept free for captions")

    resources = ("chromium",)

    @classmethod
    def release(cls, resource: str) -> None:
        browser.close(wait=False)  # the engine's scheduling goes on while Chromium shuts down

    def tool_fingerprint(self) -> dict:
        from importlib.metadata import version

        return {"chromium": chromium_version(), "jinja2": version("jinja2")}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        html = render_template(ctx.inputs["template"], title=p.title, bullets=p.bullets, body=p.body, brand=p.brand,
                               palette=p.palette, fonts=p.fonts, width=p.width, height=p.height, caption_safe=p.caption_safe,
                               portrait=p.height > p.width,
                               logo=data_uri(ctx.inputs.get("logo")), image=data_uri(ctx.inputs.get("image")))
        text = render_html(html, ctx.out("slide.png"), p.width, p.height, measure=True, caption_safe=p.caption_safe)
        return {"width": p.width, "height": p.height, "text": text}
