"""The declared stand-in for a generated picture when the brand has no usable image model.

The compiler decides the fallback from the brand config (`images.fallback: media | slide`) and
the plan shows this step in place of `image.diffusers`; its params and facts name the fallback
and the reason, so the manifest's provenance says which pictures were not generated.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from core.errors import StepError

from .base import Context, Params, Renderer

MAX_SIDE = 4096


class FallbackImage(Renderer):
    kind = "image.fallback"
    version = 1
    inputs = ("image",)
    outputs = ("image.png",)

    class Params(Params):
        fallback: Literal["media", "slide"]
        reason: str = Field(description="why the brand's model was not used")
        prompt: str = Field(description="the prompt the picture stands in for")

    def tool_fingerprint(self) -> dict:
        import PIL

        return {"pillow": PIL.__version__}

    def run(self, ctx: Context) -> dict:
        from PIL import Image, UnidentifiedImageError

        src = Path(ctx.inputs["image"])
        try:
            image = Image.open(src)
            image.load()
        except (OSError, UnidentifiedImageError) as exc:
            raise StepError(f"fallback still {src.name} is not a readable image: {exc}") from None
        image = image.convert("RGB")
        if max(image.size) > MAX_SIDE:
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
        image.save(ctx.out("image.png"), format="PNG")
        p = ctx.params
        return {"fallback": p.fallback, "reason": p.reason, "width": image.width, "height": image.height,
                "source": "slide" if p.fallback == "slide" else src.name}
