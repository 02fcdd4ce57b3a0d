"""Video ids from URL parts: validated before they touch a path (404 for anything else)."""
from __future__ import annotations

import re

from litestar.exceptions import NotFoundException

BRAND_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
FORMAT_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def video_id(brand: str, slug: str) -> str:
    if not BRAND_RE.match(brand) or not SLUG_RE.match(slug):
        raise NotFoundException(f"no video {brand}/{slug}")
    return f"{brand}/{slug}"
