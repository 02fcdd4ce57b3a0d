"""Files by digest and from build/, with HTTP Range (browsers seek in a <video> with 206 responses).

`/media/<sha256>` serves a cache blob by its digest; `/files/<brand>/<slug>/<name>` serves a file of a build and
`/files/.preview/<brand>/<slug>/<name>` one of the studio's preview (build/.preview/), only from build/: `..`,
encoded dots, absolute paths and symlinks that lead out of build/ all answer 404, exactly like a file that does
not exist. The ETag is the file's sha256 (the blob's name, or a digest
memoised per inode and mtime), so a rebuilt file is a new entity.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import Stream

from core.store import Store, file_digest
from .ids import video_id
from .previews.thumbs import SceneThumbs

CHUNK = 256 * 1024
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
THUMB_RE = re.compile(r"^([0-9]{1,3})\.jpg$")
TYPES = {".mp4": "video/mp4", ".vtt": "text/vtt; charset=utf-8", ".srt": "text/plain; charset=utf-8",
         ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".json": "application/json",
         ".wav": "audio/wav", ".svg": "image/svg+xml", ".webm": "video/webm", ".txt": "text/plain; charset=utf-8"}


def sniff_type(head: bytes) -> str:
    """The content type of a blob (blobs have no names) from its first bytes."""
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"WEBVTT"):
        return "text/vtt; charset=utf-8"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.lstrip()[:1] in (b"{", b"["):
        return "application/json"
    return "application/octet-stream"


def type_of(path: Path) -> str:
    return TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(ValueError):
    pass


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """One byte range of a `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`), clipped to the file.
    None: no header, another unit, several ranges or bad syntax (the whole file is sent: RFC 9110 lets a
    server ignore Range). Unsatisfiable: a well-formed range that lies beyond the file."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) \
            or (last and not last.isdigit()):
        return None
    if not first:  # suffix: the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(0, size - n), size - 1)
    start = int(first)
    if start >= size:
        raise Unsatisfiable(header)
    end = int(last) if last else size - 1
    if end < start:
        return None
    return ByteRange(start, min(end, size - 1))


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            data = f.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data


def send_file(request: Request, path: Path, *, etag: str, content_type: str, immutable: bool) -> Response:
    """200, 206, 304 or 416 for one file, streamed in chunks."""
    size = path.stat().st_size
    tag = f'"{etag}"'
    headers = {"accept-ranges": "bytes", "etag": tag,
               "cache-control": "public, max-age=31536000, immutable" if immutable else "no-cache"}
    if request.headers.get("if-none-match") in (tag, f"W/{tag}"):
        return Response(content=b"", status_code=304, headers=headers)
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range and if_range != tag:
        range_header = None  # the file changed since the client's partial copy: send it whole
    try:
        rng = parse_range(range_header, size)
    except Unsatisfiable:
        return Response(content=b"", status_code=416, headers={**headers, "content-range": f"bytes */{size}"},
                        media_type=content_type)
    if rng is None:
        return Stream(content=_chunks(path, 0, size), status_code=200, media_type=content_type,
                      headers={**headers, "content-length": str(size)})
    return Stream(content=_chunks(path, rng.start, rng.length), status_code=206, media_type=content_type,
                  headers={**headers, "content-length": str(rng.length),
                           "content-range": f"bytes {rng.start}-{rng.end}/{size}"})


class DigestMemo:
    """sha256 of build files, computed once per (inode, size, mtime)."""

    def __init__(self) -> None:
        self._memo: dict[tuple, str] = {}
        self._lock = threading.Lock()

    def digest(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            hit = self._memo.get(key)
        if hit is None:
            hit = file_digest(path)
            with self._lock:
                self._memo[key] = hit
        return hit


def build_file(build_root: Path, parts: list[str]) -> Path:
    """The file under build/ that `parts` names, or NotFoundException (never a path outside build/)."""
    if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p or "\x00" in p for p in parts):
        raise NotFoundException()
    base = build_root.resolve()
    candidate = base.joinpath(*parts)
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotFoundException() from None
    if not real.is_relative_to(base) or not real.is_file():
        raise NotFoundException()
    return real


class MediaController(Controller):
    include_in_schema = False

    @get("/media/{digest:str}", sync_to_thread=False)
    def media(self, request: Request, digest: str, store: Store) -> Response:
        if not DIGEST_RE.match(digest):
            raise NotFoundException()
        path = store.blob_path(digest)
        if not path.is_file():
            raise NotFoundException()
        with path.open("rb") as f:
            head = f.read(16)
        return send_file(request, path, etag=digest, content_type=sniff_type(head), immutable=True)

    @get("/thumbs/{digest:str}/{name:str}", sync_to_thread=True)
    def thumb(self, request: Request, digest: str, name: str, thumbs: SceneThumbs) -> Response:
        """A scene's frame: /thumbs/<video sha256>/<scene index>.jpg (made once, cached under cache/studio/)."""
        m = THUMB_RE.match(name)
        if not DIGEST_RE.match(digest) or m is None:
            raise NotFoundException()
        path = thumbs.get(digest, int(m.group(1)))
        if path is None:
            raise NotFoundException()
        return send_file(request, path, etag=f"{digest[:16]}-{int(m.group(1))}", content_type="image/jpeg",
                         immutable=True)

    @get("/files/{brand:str}/{slug:str}/{name:path}", sync_to_thread=True)
    def files(self, request: Request, brand: str, slug: str, name: str, build_root: Path,
              digests: DigestMemo) -> Response:
        """A file of a final build: build/<brand>/<slug>/<name>."""
        return _serve(request, build_root, [], brand, slug, name, digests)

    @get("/files/.preview/{brand:str}/{slug:str}/{name:path}", sync_to_thread=True)
    def preview_files(self, request: Request, brand: str, slug: str, name: str, build_root: Path,
                      digests: DigestMemo) -> Response:
        """A file of the studio's preview: build/.preview/<brand>/<slug>/<name>."""
        return _serve(request, build_root, [PREVIEW_FOLDER], brand, slug, name, digests)


PREVIEW_FOLDER = ".preview"


def _serve(request: Request, build_root: Path, prefix: list[str], brand: str, slug: str, name: str,
           digests: DigestMemo) -> Response:
    # brand and slug must be video-id parts (so no dot folder such as .preview is reachable as a "brand"); Litestar's
    # path parameter starts with "/"; anything else empty, "..", absolute or encoded is refused part by part, and
    # the resolved file must still lie inside build/.
    video_id(brand, slug)
    rest = name[1:] if name.startswith("/") else name
    path = build_file(build_root, [*prefix, brand, slug, *rest.split("/")])
    return send_file(request, path, etag=digests.digest(path), content_type=type_of(path), immutable=False)
