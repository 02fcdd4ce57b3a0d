"""A local fake of HeyGen's v3 REST API on 127.0.0.1 (threaded, ephemeral port).

Speaks the wire protocol clients/heygen.py uses: X-Api-Key auth, POST /v3/assets
(multipart `file`), POST /v3/videos, GET /v3/videos/{id} with pending -> processing -> completed
| failed, and presigned download URLs on a separate path that expire (403) when `expire_urls` is
set and a newer URL was handed out (each completed status signs a new one). Errors come in HeyGen's v3 shape
`{"error": {"code", "message", "doc_url"}}`.

Faults: `create_faults` / `status_faults` / `download_faults` are lists of (status, headers) served
before the real answer; `polls_needed` makes a render slow; `fail_with` makes it fail.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Render:
    id: str
    body: dict
    polls: int = 0
    url_version: int = 0
    failed: tuple | None = None  # a failed render stays failed


@dataclass
class FakeHeyGen:
    clip: Path  # the mp4 every render "produces"
    api_key: str = "hg-test-key-0123456789"
    polls_needed: int = 2  # status polls that answer pending/processing before completed
    fail_with: tuple[str, str] | None = None  # (failure_code, failure_message)
    create_faults: list = field(default_factory=list)  # [(status, {headers})] before a successful create
    status_faults: list = field(default_factory=list)
    download_faults: list = field(default_factory=list)
    expire_urls: bool = False  # a URL stops working once it was handed out and a fault was served
    credits: int = 100
    log: list = field(default_factory=list)  # (method, path, headers, body)
    renders: dict = field(default_factory=dict)
    assets: dict = field(default_factory=dict)

    def __post_init__(self):
        self._ids = itertools.count(1)
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                fake.handle(self, "GET")

            def do_POST(self):
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # ---------------------------------------------------------------- wire --
    def send(self, h, status: int, body: dict | bytes, headers: dict | None = None, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def error(self, h, status: int, code: str, message: str, headers: dict | None = None):
        self.send(h, status, {"error": {"code": code, "message": message,
                                        "doc_url": f"https://developers.heygen.com/docs/error-codes#{code}"}}, headers)

    def handle(self, h, method: str):
        url = urllib.parse.urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        with self.lock:
            self.log.append((method, url.path, dict(h.headers), raw))
        if url.path.startswith("/files/"):
            return self.download(h, url)
        if h.headers.get("X-Api-Key") != self.api_key:
            return self.error(h, 401, "unauthorized", "Invalid API key provided")
        if method == "POST" and url.path == "/v3/assets":
            return self.upload(h, raw)
        if method == "POST" and url.path == "/v3/videos":
            return self.create(h, raw)
        m = re.fullmatch(r"/v3/videos/([\w-]+)", url.path)
        if method == "GET" and m:
            return self.status(h, m.group(1))
        return self.error(h, 404, "not_found", f"no route {method} {url.path}")

    def fault(self, h, faults: list) -> bool:
        with self.lock:
            if not faults:
                return False
            status, headers = faults.pop(0)
        codes = {429: "rate_limit_exceeded", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable",
                 402: "insufficient_credit", 404: "not_found", 400: "invalid_parameter"}
        self.error(h, status, codes.get(status, "error"), f"injected {status}", headers)
        return True

    def upload(self, h, raw: bytes):
        ctype = h.headers.get("Content-Type", "")
        m = re.search(r"boundary=(.+)", ctype)
        if not m or b'name="file"' not in raw:
            return self.error(h, 400, "invalid_parameter", "multipart field `file` is required", None)
        boundary = m.group(1).encode()
        part = next(p for p in raw.split(b"--" + boundary) if b'name="file"' in p)
        payload = part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
        asset_id = f"asset_{next(self._ids)}"
        self.assets[asset_id] = payload
        self.send(h, 200, {"data": {"asset_id": asset_id, "url": f"{self.url}/assets/{asset_id}",
                                    "mime_type": "audio/wav", "size_bytes": len(payload)}})

    def create(self, h, raw: bytes):
        if self.fault(h, self.create_faults):
            return
        body = json.loads(raw)
        if body.get("type") != "avatar" or not body.get("avatar_id"):
            return self.error(h, 400, "invalid_parameter", "type 'avatar' with avatar_id is required")
        if bool(body.get("script")) == bool(body.get("audio_asset_id") or body.get("audio_url")):
            return self.error(h, 400, "invalid_parameter", "give script or audio, not both")
        if body.get("audio_asset_id") and body["audio_asset_id"] not in self.assets:
            return self.error(h, 400, "invalid_parameter", "unknown audio_asset_id")
        if self.credits <= 0:
            return self.error(h, 402, "insufficient_credit", "Your account has 0 credits but this video requires 1.")
        vid = f"vid_{next(self._ids)}"
        self.renders[vid] = Render(vid, body)
        self.send(h, 200, {"data": {"video_id": vid}})

    def status(self, h, vid: str):
        if self.fault(h, self.status_faults):
            return
        r = self.renders.get(vid)
        if r is None:
            return self.error(h, 404, "not_found", f"video {vid} not found")
        r.polls += 1
        data = {"id": vid, "title": r.body.get("title"), "created_at": 1763700000}
        if r.polls <= self.polls_needed and not r.failed:
            data["status"] = "pending" if r.polls == 1 else "processing"
        elif self.fail_with or r.failed:
            r.failed = r.failed or self.fail_with
            data.update(status="failed", failure_code=r.failed[0], failure_message=r.failed[1])
        else:
            r.url_version += 1
            data.update(status="completed", duration=1.5, thumbnail_url=f"{self.url}/thumbs/{vid}.jpg",
                        video_url=f"{self.url}/files/{vid}.mp4?X-Amz-Signature=v{r.url_version}")
        self.send(h, 200, {"data": data})

    def download(self, h, url):
        if h.headers.get("X-Api-Key"):
            return self.send(h, 400, b"presigned URLs must not carry the API key", ctype="text/plain")
        vid = url.path.rsplit("/", 1)[1].removesuffix(".mp4")
        r = self.renders.get(vid)
        if r is None:
            return self.send(h, 404, b"NoSuchKey", ctype="application/xml")
        sig = urllib.parse.parse_qs(url.query).get("X-Amz-Signature", [""])[0]
        with self.lock:
            faulted = bool(self.download_faults)
            status = self.download_faults.pop(0)[0] if faulted else None
        if faulted:
            return self.send(h, status, b"<Error><Code>AccessDenied</Code></Error>", ctype="application/xml")
        if self.expire_urls and sig != f"v{r.url_version}":
            return self.send(h, 403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                             ctype="application/xml")
        self.send(h, 200, self.clip.read_bytes(), ctype="video/mp4")

    # ------------------------------------------------------------- queries --
    def calls(self, method: str, prefix: str) -> list:
        return [c for c in self.log if c[0] == method and c[1].startswith(prefix)]
