"""Image dimensions at load time, read from the file header only.

A 20000x20000 PNG is 1 MB on disk and ~1.6 GB once Chromium or ffmpeg decodes it, so image inputs
(visual files, slide and thumbnail pictures, the brand logo, genimage library stills) are measured
before anything decodes them. Pillow's `open` parses only the header; its own decompression-bomb
guard stays on as a second fence.
"""
from __future__ import annotations

import warnings
from pathlib import Path

MAX_PIXELS = 50_000_000  # 50 megapixels: four times an 8K frame, far above any 4K slide or thumbnail
FORMATS = ("PNG", "JPEG", "WEBP", "BMP")  # the raster formats project.MEDIA_SUFFIXES["image"] admits


def image_problem(path: Path) -> str | None:
    """Why `path` is not a usable raster image (not one, unreadable, too many pixels), or None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as im:
                width, height = im.size
    except Image.DecompressionBombError:
        return f"the image has more than {MAX_PIXELS // 1_000_000} megapixels (the limit); scale it down"
    except UnidentifiedImageError:
        return f"not a readable {'/'.join(f.lower() for f in FORMATS)} image"
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow raises SyntaxError for some broken headers
        return f"not a readable image ({exc})"
    if width * height > MAX_PIXELS:
        return (f"the image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); the limit is "
                f"{MAX_PIXELS // 1_000_000} megapixels: scale it down")
    return None
