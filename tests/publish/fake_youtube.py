"""A local fake of the YouTube Data API v3, the YouTube Analytics API v2 and Google's OAuth endpoints.

It speaks the real wire protocol on 127.0.0.1 (threaded, ephemeral port), so the code under
test runs the real google-api-python-client, google-auth and google-auth-oauthlib stacks:

- discovery documents (the ones bundled with googleapiclient, rootUrl rewritten to this server)
- resumable uploads: POST starts a session (200 + Location), PUT chunks with Content-Range
  (308 + Range until the last), `bytes */N` status probes, 201 + the video resource at the end
- videos.list/update (update replaces whole parts, like YouTube), thumbnails.set, captions
  insert/update/list (multipart), playlistItems insert/list (incl. the uploads playlist),
  channels.list(mine), reports.query
- OAuth: authorization endpoint (redirects with a code), token endpoint (code and refresh grants)

Faults are injected with `inject(kind, ...)`: status (any code + reason), drop (connection cut
mid-body), drop_after (request processed, response lost), partial (server keeps only part of a
chunk), expire (session gone: 404), stall (hold the response until released, for kill tests).
`unaudited = True` locks every upload private (an unaudited API project); with
`lock_reported_later = True` the upload's reply still shows the requested privacy and only
videos.list reports the lock.
"""
from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import itertools
import json
import secrets
import socket
import struct
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import googleapiclient

CHUNK_ALIGN = 256 * 1024
DOCS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
CATEGORIES = {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def content_range(self) -> str | None:
        return self.headers.get("content-range")

    @property
    def is_probe(self) -> bool:
        return (self.content_range or "").startswith("bytes */")

    @property
    def is_chunk(self) -> bool:
        return self.method == "PUT" and "upload_id" in self.query and not self.is_probe

    @property
    def is_last_chunk(self) -> bool:
        if not self.is_chunk or not self.content_range:
            return False
        span, total = self.content_range.split()[1].split("/")
        return int(span.split("-")[1]) + 1 == int(total)

    @property
    def chunk_start(self) -> int | None:
        cr = self.content_range
        if not cr or self.is_probe:
            return None
        return int(cr.split()[1].split("-")[0])


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: str | None = None
    when: Callable[[Req], bool] | None = None
    times: int = 1
    params: dict = field(default_factory=dict)
    fired: int = 0

    def matches(self, req: Req) -> bool:
        if self.times and self.fired >= self.times:
            return False
        if self.method and req.method != self.method:
            return False
        if self.path and not req.path.startswith(self.path):
            return False
        return self.when is None or bool(self.when(req))


def yt_error(code: int, reason: str, message: str, domain: str = "youtube.api") -> dict:
    return {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": domain, "reason": reason}]}}


def tags_length(tags: list[str]) -> int:
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


class _Drop(Exception):
    """Cut the connection without a response."""


class FakeYouTube:
    def __init__(self, *, client_id: str = "123456789012-fake.apps.googleusercontent.com",
                 client_secret: str = "fake-client-secret"):
        self.client_id, self.client_secret = client_id, client_secret
        self.lock = threading.RLock()
        self.channels: dict[str, dict] = {}
        self.refresh_tokens: dict[str, str] = {}     # refresh token -> channel id
        self.revoked: set[str] = set()
        self.access_tokens: dict[str, str] = {}      # access token -> channel id
        self.codes: dict[str, str] = {}              # authorization code -> channel id
        self.consent_channel: str | None = None     # the channel a "user" picks in the chooser
        self.auth_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.videos: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.thumbnails: dict[str, list[bytes]] = {}
        self.captions: dict[str, dict] = {}
        self.playlists: dict[str, str] = {}          # playlist id -> channel id
        self.playlist_items: list[dict] = []
        self.analytics: dict[str, dict] = {}         # video id -> {"daily": {date: {...}}, "retention": [...]}
        self.unaudited = False                       # locked-private uploads
        self.lock_reported_later = False             # unaudited: the upload reply still shows what was asked
        self.requests: list[tuple[str, str, dict]] = []
        self.violations: list[str] = []                # protocol rules the client broke
        self.faults: list[Fault] = []
        self.released = threading.Event()
        self.stalled = threading.Event()
        self._ids = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------- set-up --

    def add_channel(self, channel_id: str, title: str, *, refresh_token: str, playlists: list[str] = ()) -> None:
        with self.lock:
            self.channels[channel_id] = {"id": channel_id, "title": title}
            self.refresh_tokens[refresh_token] = channel_id
            for p in playlists:
                self.playlists[p] = channel_id

    def issue_access_token(self, channel_id: str) -> str:
        token = "ya29.fake-" + secrets.token_hex(8)
        with self.lock:
            self.access_tokens[token] = channel_id
        return token

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def inject(self, kind: str, *, method: str | None = None, path: str | None = None,
               when: Callable[[Req], bool] | None = None, times: int = 1, **params) -> Fault:
        fault = Fault(kind, method, path, when, times, params)
        with self.lock:
            self.faults.append(fault)
        return fault

    # ------------------------------------------------------------ server --

    def start(self) -> "FakeYouTube":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                fake._handle(self)

            def do_POST(self):
                fake._handle(self)

            def do_PUT(self):
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    # ------------------------------------------------------------ views --

    def calls(self, method: str | None = None, path: str | None = None) -> list[tuple[str, str, dict]]:
        with self.lock:
            return [r for r in self.requests if (method is None or r[0] == method)
                    and (path is None or r[1].startswith(path))]

    def api_calls(self) -> list[tuple[str, str, dict]]:
        """Every request except discovery and OAuth."""
        return [r for r in self.calls() if not r[1].startswith(("/discovery", "/token", "/o/oauth2"))]

    def video_bytes_sha(self, video_id: str) -> str:
        return hashlib.sha256(self.videos[video_id]["content"]).hexdigest()

    # ---------------------------------------------------------- handler --

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        req = Req(h.command, parsed.path, query, {k.lower(): v for k, v in h.headers.items()})
        with self.lock:
            self.requests.append((req.method, req.path, query))
            fault = next((f for f in self.faults if f.matches(req)), None)
            if fault:
                fault.fired += 1
        length = int(req.headers.get("content-length") or 0)
        try:
            if fault is not None and fault.kind == "drop":
                keep = int(length * fault.params.get("read", 0.5))
                got = h.rfile.read(keep) if keep else b""
                if req.is_chunk and req.query.get("upload_id") in self.sessions:
                    with self.lock:
                        self.sessions[req.query["upload_id"]]["wire_bytes"] += len(got)
                        if fault.params.get("persist"):
                            self._store_chunk(req, got)
                raise _Drop()
            body = h.rfile.read(length) if length else b""
            if fault is not None and fault.kind == "status":
                code = fault.params.get("code", 503)
                self._send(h, code, yt_error(code, fault.params.get("reason", "backendError"),
                                             fault.params.get("message", "injected failure"),
                                             fault.params.get("domain", "global")))
                return
            if fault is not None and fault.kind == "expire" and "upload_id" in query:
                with self.lock:
                    self.sessions[query["upload_id"]]["gone"] = True
            status, payload, headers = self._route(req, body, fault)
            if fault is not None and fault.kind == "stall":
                self.stalled.set()
                self.released.wait(fault.params.get("timeout", 30))
                raise _Drop()
            if fault is not None and fault.kind == "drop_after":
                raise _Drop()
            self._send(h, status, payload, headers)
        except _Drop:
            h.close_connection = True
            try:
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                h.connection.close()
            except OSError:
                pass

    def _send(self, h, status: int, payload, headers: dict | None = None) -> None:
        data = payload if isinstance(payload, bytes) else (json.dumps(payload).encode() if payload is not None else b"")
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if payload is not None and not isinstance(payload, bytes):
            h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _route(self, req: Req, body: bytes, fault: Fault | None):
        p, m = req.path, req.method
        if p.startswith("/discovery/v1/apis/"):
            return self._discovery(p)
        if p == "/o/oauth2/auth":
            return self._authorize(req)
        if p == "/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            basic = req.headers.get("authorization", "")
            if basic.startswith("Basic "):  # requests-oauthlib sends the client credentials this way
                cid, _, csecret = base64.b64decode(basic[6:]).decode().partition(":")
                form.update(client_id=urllib.parse.unquote(cid), client_secret=urllib.parse.unquote(csecret))
            return self._token(form)
        channel = self._channel_of(req)
        if channel is None:
            return 401, yt_error(401, "authError", "Request had invalid authentication credentials.",
                                 "global"), {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'}
        with self.lock:
            if p == "/upload/youtube/v3/videos" and m == "POST":
                return self._start_session(req, body, channel)
            if p == "/upload/youtube/v3/videos" and m == "PUT":
                return self._put_chunk(req, body, fault)
            if p == "/youtube/v3/videos" and m == "GET":
                return self._videos_list(req, channel)
            if p == "/youtube/v3/videos" and m == "PUT":
                return self._videos_update(req, body, channel)
            if p == "/upload/youtube/v3/thumbnails/set" and m == "POST":
                return self._thumbnail(req, body, channel)
            if p == "/upload/youtube/v3/captions" and m in ("POST", "PUT"):
                return self._caption_write(req, body, channel)
            if p == "/youtube/v3/captions" and m == "GET":
                return self._captions_list(req, channel)
            if p == "/youtube/v3/playlistItems" and m == "POST":
                return self._playlist_insert(req, body, channel)
            if p == "/youtube/v3/playlistItems" and m == "GET":
                return self._playlist_list(req, channel)
            if p == "/youtube/v3/channels" and m == "GET":
                return self._channels(req, channel)
            if p == "/v2/reports" and m == "GET":
                return self._reports(req, channel)
        return 404, yt_error(404, "notFound", f"no route for {m} {p}"), None

    # ----------------------------------------------------------- oauth --

    def _discovery(self, path: str):
        parts = path.strip("/").split("/")  # discovery v1 apis <api> <version> rest
        doc = json.loads((DOCS / f"{parts[3]}.{parts[4]}.json").read_text())
        doc["rootUrl"] = doc["mtlsRootUrl"] = self.url
        doc["baseUrl"] = self.url + doc.get("servicePath", "")
        return 200, doc, None

    def _authorize(self, req: Req):
        with self.lock:
            self.auth_requests.append(dict(req.query))
            channel = self.consent_channel
            code = "code-" + secrets.token_hex(6)
            self.codes[code] = channel
        q = urllib.parse.urlencode({"code": code, "state": req.query.get("state", ""),
                                    "scope": req.query.get("scope", "")})
        return 302, b"", {"Location": f"{req.query['redirect_uri']}?{q}"}

    def _token(self, form: dict):
        with self.lock:
            self.token_requests.append({k: v for k, v in form.items() if k == "grant_type"})
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}, None
            if form.get("grant_type") == "refresh_token":
                rt = form.get("refresh_token", "")
                if rt not in self.refresh_tokens or rt in self.revoked:
                    return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, None
                channel = self.refresh_tokens[rt]
                extra = {}
            elif form.get("grant_type") == "authorization_code":
                channel = self.codes.pop(form.get("code", ""), None)
                if channel is None:
                    return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}, None
                rt = "1//fake-refresh-" + secrets.token_hex(8)
                self.refresh_tokens[rt] = channel
                extra = {"refresh_token": rt}
            else:
                return 400, {"error": "unsupported_grant_type"}, None
        token = self.issue_access_token(channel)
        scope = " ".join(form.get("scope", "").split()) or None
        out = {"access_token": token, "expires_in": 3599, "token_type": "Bearer", **extra}
        if scope:
            out["scope"] = scope
        return 200, out, None

    def _channel_of(self, req: Req) -> str | None:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with self.lock:
            return self.access_tokens.get(auth[len("Bearer "):])

    # ---------------------------------------------------------- upload --

    def _validate_video(self, body: dict, parts: set[str], *, insert: bool):
        snippet = body.get("snippet")
        if "snippet" in parts:
            if not snippet or not snippet.get("title"):
                return yt_error(400, "invalidTitle", "The request metadata specifies an empty video title.")
            if len(snippet["title"]) > 100 or any(c in snippet["title"] for c in "<>"):
                return yt_error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
            desc = snippet.get("description", "")
            if len(desc.encode()) > 5000 or any(c in desc for c in "<>"):
                return yt_error(400, "invalidDescription", "The request metadata specifies an invalid video description.")
            if tags_length(snippet.get("tags") or []) > 500:
                return yt_error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
            if snippet.get("categoryId") not in CATEGORIES:
                return yt_error(400, "invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID.")
        status = body.get("status")
        if "status" in parts and status is not None:
            if status.get("privacyStatus") not in (None, "public", "private", "unlisted"):
                return yt_error(400, "invalidVideoMetadata", "bad privacyStatus")
            if status.get("publishAt") and status.get("privacyStatus") != "private":
                return yt_error(400, "invalidPublishAt", "The request metadata specifies an invalid scheduled "
                                "publishing time.")
        return None

    def _start_session(self, req: Req, body: bytes, channel: str):
        if req.query.get("uploadType") != "resumable":
            return 400, yt_error(400, "badRequest", "only resumable uploads are faked"), None
        meta = json.loads(body or b"{}")
        parts = set(req.query.get("part", "").split(","))
        err = self._validate_video(meta, parts, insert=True)
        if err:
            return 400, err, None
        total = req.headers.get("x-upload-content-length")
        if total is None:
            return 400, yt_error(400, "badRequest", "X-Upload-Content-Length is required"), None
        upload_id = "up-" + secrets.token_hex(8)
        self.sessions[upload_id] = {"meta": meta, "parts": parts, "total": int(total), "data": bytearray(),
                                    "video_id": None, "channel": channel, "gone": False, "wire_bytes": 0,
                                    "chunks": 0, "probes": 0, "ranges": [], "mimetype": req.headers.get("x-upload-content-type")}
        location = f"{self.url}upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        return 200, b"", {"Location": location, "X-GUploader-UploadID": upload_id}

    def _store_chunk(self, req: Req, data: bytes) -> None:
        s = self.sessions[req.query["upload_id"]]
        start = req.chunk_start
        if start is None:
            return
        have = len(s["data"])
        if start > have:
            return  # a gap: keep nothing, the Range tells the client where to continue
        overlap = s["data"][start:have]
        if bytes(overlap[:len(data)]) != data[:len(overlap)]:
            raise AssertionError("client re-sent different bytes for a range the server already has")
        s["data"].extend(data[have - start:])

    def _range_headers(self, s: dict) -> dict:
        return {"Range": f"bytes=0-{len(s['data']) - 1}"} if s["data"] else {}

    def _put_chunk(self, req: Req, body: bytes, fault: Fault | None):
        upload_id = req.query.get("upload_id")
        s = self.sessions.get(upload_id or "")
        if s is None or s["gone"]:
            return 404, yt_error(404, "notFound", "upload session not found or expired"), None
        if s["video_id"] is not None and (req.is_probe or req.is_chunk):
            return 200, self._resource(self.videos[s["video_id"]], s["parts"]), None
        if req.is_probe:
            s["probes"] += 1
            return 308, b"", self._range_headers(s)
        cr = req.content_range or ""
        try:
            span, total = cr.split()[1].split("/")
            first, last = (int(x) for x in span.split("-"))
        except (IndexError, ValueError):
            return 400, yt_error(400, "badRequest", f"bad Content-Range {cr!r}"), None
        if int(total) != s["total"] or last - first + 1 != len(body):
            return 400, yt_error(400, "badRequest", f"Content-Range {cr!r} does not match {len(body)} bytes"), None
        is_last = last + 1 == s["total"]
        if not is_last and len(body) % CHUNK_ALIGN:
            return 400, yt_error(400, "badRequest", "chunks must be multiples of 256 KiB except the last"), None
        s["chunks"] += 1
        s["wire_bytes"] += len(body)
        s["ranges"].append(cr)
        data = body
        if fault is not None and fault.kind == "partial":
            data = body[: int(len(body) * fault.params.get("keep", 0.5))]
        try:
            self._store_chunk(req, data)
        except AssertionError as exc:
            self.violations.append(str(exc))
            return 400, yt_error(400, "badRequest", str(exc)), None
        if len(s["data"]) == s["total"]:
            return 201, self._finish(s), None
        return 308, b"", self._range_headers(s)

    def _finish(self, s: dict) -> dict:
        video_id = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                           for _ in range(11))
        meta = s["meta"]
        status = {"uploadStatus": "uploaded", "privacyStatus": "private", "license": "youtube",
                  "embeddable": True, "publicStatsViewable": True, **(meta.get("status") or {})}
        status["madeForKids"] = bool(status.get("selfDeclaredMadeForKids", False))
        asked = dict(status)
        if self.unaudited:
            status["privacyStatus"] = "private"
            status.pop("publishAt", None)
        snippet = {**(meta.get("snippet") or {}), "channelId": s["channel"],
                   "publishedAt": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "thumbnails": {"default": {"url": f"{self.url}vi/{video_id}/default.jpg"}}}
        self.videos[video_id] = {"id": video_id, "snippet": snippet, "status": status,
                                 "contentDetails": {"duration": "PT1S"}, "content": bytes(s["data"]),
                                 "channel": s["channel"], "seq": next(self._ids), "mimetype": s["mimetype"]}
        s["video_id"] = video_id
        if self.lock_reported_later:
            return self._resource({**self.videos[video_id], "status": asked}, s["parts"])
        return self._resource(self.videos[video_id], s["parts"])

    def _resource(self, video: dict, parts: set[str]) -> dict:
        out = {"kind": "youtube#video", "etag": hashlib.md5(video["id"].encode()).hexdigest(), "id": video["id"]}
        for part in ("snippet", "status", "contentDetails"):
            if part in parts:
                out[part] = json.loads(json.dumps(video[part]))
        return out

    # ---------------------------------------------------------- videos --

    def _videos_list(self, req: Req, channel: str):
        parts = set(req.query.get("part", "").split(","))
        ids = [i for i in req.query.get("id", "").split(",") if i]
        items = [self._resource(self.videos[i], parts) for i in ids
                 if i in self.videos and self.videos[i]["channel"] == channel]
        return 200, {"kind": "youtube#videoListResponse", "items": items,
                     "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}}, None

    def _videos_update(self, req: Req, body: bytes, channel: str):
        parts = set(req.query.get("part", "").split(","))
        data = json.loads(body)
        video = self.videos.get(data.get("id", ""))
        if video is None or video["channel"] != channel:
            return 404, yt_error(404, "videoNotFound", "The video that you are trying to update cannot be found."), None
        err = self._validate_video(data, parts, insert=False)
        if err:
            return 400, err, None
        if "snippet" in parts:  # whole part replaced; unspecified writable fields are cleared
            keep = {k: video["snippet"][k] for k in ("channelId", "publishedAt", "thumbnails")}
            video["snippet"] = {**data["snippet"], **keep}
        if "status" in parts:
            status = dict(data.get("status") or {})
            if status.get("publishAt") and status.get("privacyStatus") != "private":
                return 400, yt_error(400, "invalidPublishAt", "publishAt needs privacyStatus private"), None
            keep = {k: video["status"][k] for k in ("uploadStatus",)}
            status.setdefault("privacyStatus", "private")
            status["madeForKids"] = bool(status.get("selfDeclaredMadeForKids", False))
            video["status"] = {**status, **keep}
        return 200, self._resource(video, parts), None

    def _owned(self, video_id: str, channel: str) -> bool:
        return video_id in self.videos and self.videos[video_id]["channel"] == channel

    def _thumbnail(self, req: Req, body: bytes, channel: str):
        vid = req.query.get("videoId", "")
        if not self._owned(vid, channel):
            return 404, yt_error(404, "videoNotFound", "The video you are trying to set a thumbnail for cannot be found."), None
        if not body.startswith(b"\xff\xd8"):
            return 400, yt_error(400, "invalidImage", "The provided image content is invalid.", "youtube.thumbnail"), None
        self.thumbnails.setdefault(vid, []).append(body)
        return 200, {"kind": "youtube#thumbnailSetResponse",
                     "items": [{"default": {"url": f"{self.url}vi/{vid}/default.jpg", "width": 120, "height": 90}}]}, None

    # --------------------------------------------------------- captions --

    @staticmethod
    def _multipart(req: Req, body: bytes) -> tuple[dict, bytes]:
        ctype = req.headers.get("content-type", "")
        msg = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body,
                                       policy=email.policy.HTTP)
        parts = list(msg.iter_parts())
        meta = json.loads(parts[0].get_payload(decode=True) or b"{}")
        media = parts[1].get_payload(decode=True) if len(parts) > 1 else b""
        return meta, media

    def _caption_write(self, req: Req, body: bytes, channel: str):
        if req.query.get("uploadType") != "multipart":
            return 400, yt_error(400, "badRequest", "expected a multipart caption upload"), None
        meta, media = self._multipart(req, body)
        if not media.strip():
            return 400, yt_error(400, "invalidMetadata", "caption file is empty"), None
        if req.method == "POST":
            snippet = meta.get("snippet") or {}
            if not self._owned(snippet.get("videoId", ""), channel):
                return 404, yt_error(404, "videoNotFound", "The video identified by videoId could not be found."), None
            if not snippet.get("language") or not snippet.get("name"):
                return 400, yt_error(400, "invalidMetadata", "language and name are required"), None
            track_id = "cap-" + secrets.token_hex(6)
            self.captions[track_id] = {"id": track_id, "snippet": {**snippet, "trackKind": "standard"},
                                       "content": media, "versions": 1}
        else:
            track = self.captions.get(meta.get("id", ""))
            if track is None or not self._owned(track["snippet"]["videoId"], channel):
                return 404, yt_error(404, "captionNotFound", "The caption track could not be found."), None
            track["content"] = media
            track["versions"] += 1
            if "isDraft" in (meta.get("snippet") or {}):
                track["snippet"]["isDraft"] = meta["snippet"]["isDraft"]
            track_id = track["id"]
        t = self.captions[track_id]
        return 200, {"kind": "youtube#caption", "id": track_id, "snippet": t["snippet"]}, None

    def _captions_list(self, req: Req, channel: str):
        vid = req.query.get("videoId", "")
        if not self._owned(vid, channel):
            return 404, yt_error(404, "videoNotFound", "video not found"), None
        items = [{"kind": "youtube#caption", "id": t["id"], "snippet": t["snippet"]}
                 for t in self.captions.values() if t["snippet"]["videoId"] == vid]
        return 200, {"kind": "youtube#captionListResponse", "items": items}, None

    # -------------------------------------------------------- playlists --

    def uploads_playlist(self, channel: str) -> str:
        return "UU" + channel[2:]

    def _playlist_insert(self, req: Req, body: bytes, channel: str):
        snippet = json.loads(body).get("snippet", {})
        pid, vid = snippet.get("playlistId"), snippet.get("resourceId", {}).get("videoId")
        if self.playlists.get(pid) != channel:
            return 404, yt_error(404, "playlistNotFound", "The playlist identified with the request's playlistId "
                                 "parameter cannot be found."), None
        if vid not in self.videos:
            return 404, yt_error(404, "videoNotFound", "video not found"), None
        item = {"kind": "youtube#playlistItem", "id": "pli-" + secrets.token_hex(6),
                "snippet": {"playlistId": pid, "resourceId": {"kind": "youtube#video", "videoId": vid}},
                "contentDetails": {"videoId": vid}}
        self.playlist_items.append(item)
        return 200, item, None

    def _playlist_list(self, req: Req, channel: str):
        pid = req.query.get("playlistId", "")
        if pid == self.uploads_playlist(channel):
            vids = sorted((v for v in self.videos.values() if v["channel"] == channel), key=lambda v: -v["seq"])
            items = [{"kind": "youtube#playlistItem", "id": f"u-{v['id']}",
                      "contentDetails": {"videoId": v["id"], "videoPublishedAt": v["snippet"]["publishedAt"]}}
                     for v in vids]
        elif self.playlists.get(pid) == channel:
            items = [i for i in self.playlist_items if i["snippet"]["playlistId"] == pid]
        else:
            return 404, yt_error(404, "playlistNotFound", "playlist not found"), None
        if req.query.get("videoId"):
            items = [i for i in items if i["contentDetails"]["videoId"] == req.query["videoId"]]
        size = int(req.query.get("maxResults", 5))
        start = int(req.query.get("pageToken") or 0)
        page = items[start:start + size]
        out = {"kind": "youtube#playlistItemListResponse", "items": page,
               "pageInfo": {"totalResults": len(items), "resultsPerPage": size}}
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        return 200, out, None

    def _channels(self, req: Req, channel: str):
        if req.query.get("mine") != "true":
            return 400, yt_error(400, "badRequest", "only mine=true is faked"), None
        ch = self.channels[channel]
        item = {"kind": "youtube#channel", "id": channel, "snippet": {"title": ch["title"]},
                "contentDetails": {"relatedPlaylists": {"uploads": self.uploads_playlist(channel)}}}
        return 200, {"kind": "youtube#channelListResponse", "items": [item]}, None

    # -------------------------------------------------------- analytics --

    def _reports(self, req: Req, channel: str):
        q = req.query
        if q.get("ids") not in ("channel==MINE", f"channel=={channel}"):
            return 403, yt_error(403, "forbidden", "ids does not match the token's channel"), None
        filters = dict(f.split("==", 1) for f in q.get("filters", "").split(";") if "==" in f)
        vid = filters.get("video")
        if not vid or not self._owned(vid, channel):
            return 400, yt_error(400, "badRequest", "The query is not supported."), None
        metrics = q["metrics"].split(",")
        start, end = dt.date.fromisoformat(q["startDate"]), dt.date.fromisoformat(q["endDate"])
        data = self.analytics.get(vid, {"daily": {}, "retention": []})
        dims = q.get("dimensions", "")
        headers = [{"name": dims, "columnType": "DIMENSION", "dataType": "STRING" if dims == "day" else "FLOAT"}]
        headers += [{"name": m, "columnType": "METRIC",
                     "dataType": "INTEGER" if m in ("views", "likes", "subscribersGained", "estimatedMinutesWatched",
                                                     "averageViewDuration") else "FLOAT"} for m in metrics]
        if dims == "day":
            rows = [[day.isoformat()] + [vals.get(m, 0) for m in metrics]
                    for day, vals in sorted(data["daily"].items()) if start <= day <= end]
        elif dims == "elapsedVideoTimeRatio":
            rows = [[r["elapsedVideoTimeRatio"]] + [r.get(m) for m in metrics] for r in data["retention"]]
        else:
            return 400, yt_error(400, "badRequest", "The query is not supported."), None
        return 200, {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows}, None
