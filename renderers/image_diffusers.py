"""Text-to-image with a Stable Diffusion family pipeline from a local diffusers folder.

The brand configures the folder (`images.model`); the compiler passes its model_index.json,
configs, tokenizer and weight files as inputs, so the key covers the model's content without
naming its path. The picture is drawn at the model's native size (or the brand's width and
height) and the segment fits it to each format, so one image serves every format.
"""
from __future__ import annotations

from pydantic import Field

from core.errors import StepError

from .base import Context, Params, Renderer
from ._lib.diffusers_common import call_pipeline, cpu_generator, load_pipeline, model_folder, pick_device, versions


class DiffusersImage(Renderer):
    kind = "image.diffusers"
    version = 1
    needs = ("torch",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("model",)
    outputs = ("image.png",)

    class Params(Params):
        prompt: str = Field(min_length=1, description="the scene prompt with the brand's style words appended")
        negative_prompt: str = ""
        seed: int = 0
        steps: int = Field(30, ge=1, le=200)
        guidance: float = Field(7.5, ge=0, le=30)
        width: int | None = Field(None, ge=64, le=2048)
        height: int | None = Field(None, ge=64, le=2048)
        variant: str | None = None

    def tool_fingerprint(self) -> dict:
        return versions()

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        folder = model_folder(ctx.inputs["model"])
        device, dtype = pick_device()
        ctx.progress(0.0, f"loading {folder.name} on {device}")
        pipe = load_pipeline(folder, p.variant, device, dtype)
        result = call_pipeline(pipe, {
            "prompt": p.prompt, "negative_prompt": p.negative_prompt or None, "num_inference_steps": p.steps,
            "guidance_scale": p.guidance, "width": p.width, "height": p.height,
            "generator": cpu_generator(p.seed), "output_type": "pil"}, p.steps, ctx.progress, "drawing",
            required="prompt", needs="a text-to-image pipeline (e.g. Stable Diffusion 1.5, SDXL, SDXL-Turbo)")
        if not getattr(result, "images", None):
            raise StepError(f"{type(pipe).__name__} in {folder.name}/ returned no image")
        image = result.images[0].convert("RGB")
        image.save(ctx.out("image.png"), format="PNG")
        nsfw = getattr(result, "nsfw_content_detected", None)
        luma = sum(image.convert("L").getdata()) / (image.width * image.height)
        return {"device": device, "dtype": dtype, "pipeline": type(pipe).__name__, "width": image.width,
                "height": image.height, "steps": p.steps, "seed": p.seed, "mean_luma": round(luma, 2),
                "nsfw_flagged": bool(nsfw and nsfw[0])}
