"""Image-to-video with a local diffusers pipeline (Stable Video Diffusion; I2VGen-XL also fits).

The still is cropped to the model's size, animated into a few seconds of frames, optionally
played forward then backward (a boomerang loops without a jump when the segment repeats it),
and encoded with ffmpeg into clip.mp4. The segment trims or loops it to the scene's length.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from core.errors import StepError

from .base import Context, Params, Renderer, ffmpeg_version, run_ffmpeg
from ._lib.diffusers_common import call_pipeline, cpu_generator, load_pipeline, model_folder, pick_device, versions
from .segment_ffmpeg import x264_args


def cover(image, width: int, height: int):
    """Scale and centre-crop a PIL image to exactly width x height."""
    from PIL import Image

    scale = max(width / image.width, height / image.height)
    w, h = max(width, round(image.width * scale)), max(height, round(image.height * scale))
    image = image.resize((w, h), Image.LANCZOS)
    left, top = (w - width) // 2, (h - height) // 2
    return image.crop((left, top, left + width, top + height))


class DiffusersVideo(Renderer):
    kind = "video.diffusers"
    version = 1
    needs = ("ffmpeg", "torch")  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("image", "model")
    outputs = ("clip.mp4",)

    class Params(Params):
        seed: int = 0
        prompt: str = Field("", description="used only by pipelines that take a prompt (I2VGen-XL)")
        frames: int = Field(14, ge=2, le=128)
        fps: int = Field(7, ge=1, le=60)
        steps: int = Field(25, ge=1, le=200)
        width: int = Field(1024, ge=64, le=2048)
        height: int = Field(576, ge=64, le=2048)
        motion_bucket_id: int = Field(127, ge=1, le=255)
        noise_aug_strength: float = Field(0.02, ge=0, le=1)
        decode_chunk_size: int = Field(8, ge=1, le=128)
        boomerang: bool = True
        variant: str | None = None

    def tool_fingerprint(self) -> dict:
        return {**versions(), "ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        from PIL import Image

        p = ctx.params
        folder = model_folder(ctx.inputs["model"])
        still = cover(Image.open(Path(ctx.inputs["image"])).convert("RGB"), p.width, p.height)
        device, dtype = pick_device()
        ctx.progress(0.0, f"loading {folder.name} on {device}")
        pipe = load_pipeline(folder, p.variant, device, dtype)
        result = call_pipeline(pipe, {
            "image": still, "prompt": p.prompt or None, "num_frames": p.frames, "height": p.height, "width": p.width,
            "num_inference_steps": p.steps, "fps": p.fps, "motion_bucket_id": p.motion_bucket_id,
            "noise_aug_strength": p.noise_aug_strength, "decode_chunk_size": min(p.decode_chunk_size, p.frames),
            "generator": cpu_generator(p.seed), "output_type": "pil"}, p.steps, ctx.progress, "animating",
            required="image", needs="an image-to-video pipeline (e.g. Stable Video Diffusion)")
        frames = list(getattr(result, "frames", [[]])[0])
        if len(frames) < 2:
            raise StepError(f"{type(pipe).__name__} returned {len(frames)} frame(s); expected a clip")
        generated = len(frames)
        if p.boomerang:
            frames += frames[-2:0:-1]
        for n, frame in enumerate(frames):
            frame.convert("RGB").save(ctx.scratch / f"f{n:05d}.png")
        run_ffmpeg(["-framerate", str(p.fps), "-i", str(ctx.scratch / "f%05d.png"), "-an",
                    "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p", "-frames:v", str(len(frames))]
                   + x264_args(p.fps, intermediate=True) + [str(ctx.out("clip.mp4"))], what="encoding the generated clip")
        w, h = frames[0].size
        return {"device": device, "dtype": dtype, "pipeline": type(pipe).__name__, "generated_frames": generated,
                "frames": len(frames), "fps": p.fps, "duration_s": round(len(frames) / p.fps, 4),
                "width": w - w % 2, "height": h - h % 2}
