"""/media/<sha256> and /files/...: Range (206, 416, suffix, open), types, ETag, traversal -> 404."""
from __future__ import annotations

import hashlib
import os

import pytest

from core.store import Store
from server.media import parse_range, Unsatisfiable

DATA = bytes(range(256)) * 8  # 2048 bytes


@pytest.fixture
def media_client(make_client, mini, tmp_path):
    d = mini / "build" / "test" / "alpha"
    d.mkdir(parents=True)
    (d / "video.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + DATA)
    (d / "captions.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n")
    (d / "thumbnail.jpg").write_bytes(b"\xff\xd8\xff" + DATA[:10])
    (d / "metadata.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", d / "leak.txt")
    (mini / "outside.txt").write_text("not in build")
    p = mini / "build" / ".preview" / "test" / "alpha"
    p.mkdir(parents=True)
    (p / "video.mp4").write_bytes(b"\0\0\0\x18ftypisom" + DATA[:100])
    os.symlink(tmp_path / "secret.txt", p / "leak.txt")
    os.symlink(tmp_path, mini / "build" / ".preview" / "test" / "out")
    (mini / "build" / ".hidden").mkdir()
    (mini / "build" / ".hidden" / "x.txt").write_text("not a video")
    return make_client(mini), None


def test_parse_range():
    assert parse_range("bytes=0-9", 100).length == 10
    assert (parse_range("bytes=-500", 100).start, parse_range("bytes=-500", 100).end) == (0, 99)
    assert (parse_range("bytes=90-", 100).start, parse_range("bytes=90-", 100).end) == (90, 99)
    assert parse_range("bytes=0-5,10-20", 100) is None and parse_range("items=0-1", 100) is None
    assert parse_range("bytes=abc", 100) is None
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=100-", 100)


def test_files_ranges_and_types(media_client):
    c, _ = media_client
    url = "/files/test/alpha/video.mp4"
    full = c.get(url)
    body = b"\0\0\0\x18ftypmp42" + DATA
    assert full.status_code == 200 and full.content == body
    assert full.headers["content-type"] == "video/mp4" and full.headers["accept-ranges"] == "bytes"
    assert full.headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    r = c.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == body[:100]
    assert r.headers["content-range"] == f"bytes 0-99/{len(body)}" and r.headers["content-length"] == "100"
    r = c.get(url, headers={"Range": "bytes=-500"})
    assert r.status_code == 206 and r.content == body[-500:]
    r = c.get(url, headers={"Range": "bytes=100-"})
    assert r.status_code == 206 and r.content == body[100:]
    r = c.get(url, headers={"Range": f"bytes={len(body)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(body)}"
    assert c.get(url, headers={"If-None-Match": full.headers["etag"]}).status_code == 304
    assert c.get("/files/test/alpha/captions.vtt").headers["content-type"].startswith("text/vtt")
    assert c.get("/files/test/alpha/thumbnail.jpg").headers["content-type"] == "image/jpeg"
    assert c.get("/files/test/alpha/metadata.json").headers["content-type"] == "application/json"


@pytest.mark.parametrize("path", [
    "/files/test/alpha/../../outside.txt",
    "/files/test/alpha/%2e%2e/%2e%2e/outside.txt",
    "/files/test/%2e%2e/%2e%2e/outside.txt",
    "/files/test/alpha/..%2f..%2foutside.txt",
    "/files/test/alpha//etc/passwd",
    "/files/test/alpha/leak.txt",
    "/files/test/alpha/nothing.mp4",
    "/files/..%2f..%2f/x/outside.txt",
    "/files/.preview/test/alpha/../../../../outside.txt",
    "/files/.preview/test/alpha/%2e%2e/%2e%2e/%2e%2e/outside.txt",
    "/files/.preview/%2e%2e/%2e%2e/outside.txt",
    "/files/.preview/test/%2e%2e/alpha/video.mp4",
    "/files/.preview/test/alpha/..%2f..%2f..%2foutside.txt",
    "/files/.preview/test/alpha//etc/passwd",
    "/files/.preview/test/alpha/leak.txt",
    "/files/.preview/test/out/secret.txt",
    "/files/.preview/.preview/test/alpha/video.mp4",
    "/files/.preview/test/alpha/nothing.mp4",
    "/files/.hidden/x/x.txt",
    "/files/%2ehidden/x/x.txt",
    "/files/.preview/%2e%2e/.hidden/x.txt",
])
def test_traversal_is_404(media_client, path):
    c, _ = media_client
    r = c.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert b"secret" not in r.content and b"not in build" not in r.content


def test_preview_files(media_client):
    c, _ = media_client
    url = "/files/.preview/test/alpha/video.mp4"
    body = b"\0\0\0\x18ftypisom" + DATA[:100]
    full = c.get(url)
    assert full.status_code == 200 and full.content == body and full.headers["content-type"] == "video/mp4"
    r = c.get(url, headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == body[-10:]
    assert c.get("/files/test/alpha/video.mp4").content != body  # the final is another file


def test_media_by_digest(media_client, mini):
    c, _ = media_client
    blob = mini / "cache" / "blobs"
    data = b"\x89PNG\r\n\x1a\n" + DATA
    digest = hashlib.sha256(data).hexdigest()
    p = Store(mini / "cache").blob_path(digest)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    r = c.get(f"/media/{digest}", headers={"Range": "bytes=-8"})
    assert r.status_code == 206 and r.content == data[-8:] and r.headers["content-type"] == "image/png"
    assert r.headers["etag"] == f'"{digest}"'
    assert c.get(f"/media/{digest}").content == data
    assert c.get("/media/" + "0" * 64).status_code == 404
    assert c.get("/media/../../etc/passwd").status_code == 404
    assert c.get("/media/XYZ").status_code == 404
    assert blob.is_dir()
