"""The YouTube client: real google-api-python-client, our own retries, resumable uploads that survive a kill.

Pitfalls handled here (research doc, Addendum):
- `next_chunk()` is always called with num_retries=0 inside our own backoff (clients.retry): the library's
  retry re-sends a file stream it has already read. After any error the next call sends the
  `Content-Range: bytes */N` probe and resumes from the server's Range.
- Network errors arrive as plain Python exceptions, not HttpError; they are caught and retried.
- The transport is googleapiclient.http.build_http() (308 is not a redirect) wrapped in
  google_auth_httplib2.AuthorizedHttp, which refreshes tokens on 401; a failed refresh is a
  RefreshError, mapped to "run doit auth:<brand>".
- quotaExceeded / uploadLimitExceeded are never retried.
- Chunks are read as bytes (`FileChunks`), not as a stream: httplib2 silently re-sends a request
  once after a dropped connection, and AuthorizedHttp re-sends after a refresh; a stream would
  be re-sent empty, bytes are re-sent whole.
- The session is persisted as HttpRequest.to_json() the moment the server hands out the session
  URI, before the first byte is sent. HttpRequest.from_json() neither restores resumable_uri nor
  accepts our media class, so `restore_upload` rebuilds the request itself.
- The discovery document is the one bundled with googleapiclient; SHOWRUNNER_YOUTUBE_ROOT_URL /
  SHOWRUNNER_ANALYTICS_ROOT_URL rewrite its rootUrl (client_options.api_endpoint alone would
  leave media uploads pointing at Google).
"""
from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from typing import Any, Callable

from clients.retry import RetryPolicy, Transient

from .errors import (ApiError, QuotaExceeded, SessionExpired, from_refresh_error, from_reply, is_retryable,
                     parse_reply, reply_of)
from .plan import ApiCall
from .quota import QuotaBook

KIB = 1024
MIB = 1024 * KIB
CHUNK_ALIGN = 256 * KIB
DEFAULT_CHUNK = 8 * MIB
ROOT_ENV = {"youtube": "SHOWRUNNER_YOUTUBE_ROOT_URL", "youtubeAnalytics": "SHOWRUNNER_ANALYTICS_ROOT_URL"}
VERSIONS = {"youtube": "v3", "youtubeAnalytics": "v2"}

MAX_ATTEMPTS = 8
MAX_STALLS = 10
# Exponential backoff with full jitter (the official upload sample's policy): after failed attempt
# 1, 2, 3 ... a random delay in [0, min(64, 2**attempt)) s. Tests replace this policy's sleep.
RETRY = RetryPolicy(attempts=MAX_ATTEMPTS, base_s=2.0, cap_s=64.0, jitter=(0.0, 1.0))


def chunk_size(requested: int | None = None) -> int:
    size = requested or int(float(os.environ.get("SHOWRUNNER_UPLOAD_CHUNK_MIB", "8")) * MIB)
    if size <= 0 or size % CHUNK_ALIGN:
        raise ValueError(f"upload chunk size must be a positive multiple of 256 KiB, got {size} bytes")
    return size


def _transport_errors() -> tuple[type[BaseException], ...]:
    import httplib2
    from google.auth.exceptions import TransportError

    return (OSError, socket.timeout, http.client.HTTPException, httplib2.HttpLib2Error, TransportError)


# ------------------------------------------------------------- discovery ---

_DOCS: dict[tuple[str, str], dict] = {}


def discovery_document(api: str) -> dict:
    """The bundled discovery document, with rootUrl pointed at SHOWRUNNER_*_ROOT_URL when set."""
    import googleapiclient

    version = VERSIONS[api]
    root = os.environ.get(ROOT_ENV[api]) or (os.environ.get(ROOT_ENV["youtube"]) if api != "youtube" else None)
    cache_key = (api, root or "")
    if cache_key not in _DOCS:
        path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / f"{api}.{version}.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        if root:
            root = root if root.endswith("/") else root + "/"
            doc["rootUrl"] = root
            doc["mtlsRootUrl"] = root
            doc["baseUrl"] = root + doc.get("servicePath", "")
        _DOCS[cache_key] = doc
    return _DOCS[cache_key]


def http_timeout() -> float:
    return float(os.environ.get("SHOWRUNNER_HTTP_TIMEOUT", "120"))


def authorized_http(credentials):
    from google_auth_httplib2 import AuthorizedHttp
    from googleapiclient.http import build_http

    base = build_http()  # 308 is "resume incomplete", not a redirect
    base.timeout = http_timeout()
    return AuthorizedHttp(credentials, http=base)


def build_service(api: str, http):
    from googleapiclient.discovery import build_from_document

    return build_from_document(discovery_document(api), http=http)


# ------------------------------------------------------------------ media ---

def _media_base():
    from googleapiclient.http import MediaUpload

    return MediaUpload


class _FileChunksMixin:
    """A resumable MediaUpload that hands out each chunk as bytes (see module docstring)."""

    def __init__(self, filename: str, mimetype: str, chunksize: int):
        self._filename = str(filename)
        self._mimetype = mimetype
        self._chunksize = chunksize
        self._size = os.path.getsize(self._filename)

    def chunksize(self) -> int:
        return self._chunksize

    def mimetype(self) -> str:
        return self._mimetype

    def size(self) -> int:
        return self._size

    def resumable(self) -> bool:
        return True

    def has_stream(self) -> bool:
        return False

    def getbytes(self, begin: int, length: int) -> bytes:
        with open(self._filename, "rb") as fh:
            fh.seek(begin)
            return fh.read(length)

    def to_json(self) -> str:
        return json.dumps({"_class": "FileChunks", "_filename": self._filename, "_mimetype": self._mimetype,
                           "_chunksize": self._chunksize, "_size": self._size})


_FILE_CHUNKS: type | None = None


def file_chunks(filename: str, mimetype: str, chunksize: int):
    """Build the media object; the class is created on first use so importing this module stays light."""
    global _FILE_CHUNKS
    if _FILE_CHUNKS is None:
        _FILE_CHUNKS = type("FileChunks", (_FileChunksMixin, _media_base()), {})
    return _FILE_CHUNKS(filename, mimetype, chunksize)


class _SessionWatch:
    """Wraps the transport for one upload to catch the session URI the moment the server sends it."""

    def __init__(self, http, on_session: Callable[[str], None]):
        self._http, self._on_session = http, on_session

    def request(self, uri, method="GET", body=None, headers=None, **kwargs):
        resp, content = self._http.request(uri, method, body=body, headers=headers, **kwargs)
        if method == "POST" and resp.status == 200 and "location" in resp:
            self._on_session(resp["location"])
        return resp, content

    def __getattr__(self, name):
        return getattr(self._http, name)


def session_json(request, resumable_uri: str | None = None) -> str:
    """HttpRequest.to_json() without anything that could carry a credential."""
    d = json.loads(request.to_json())
    if resumable_uri is not None:
        d["resumable_uri"] = resumable_uri
    d["headers"] = {k: v for k, v in (d.get("headers") or {}).items()
                    if k.lower() not in ("authorization", "x-goog-api-key", "cookie")}
    return json.dumps(d, sort_keys=True)


# ----------------------------------------------------------------- client ---

class Client:
    """One brand's access to YouTube: the Data API (quota-charged) and the Analytics API."""

    def __init__(self, brand: str, credentials, quota: QuotaBook | None, *, out: Callable[[str], None] = print,
                 retry: RetryPolicy | None = None):
        self.brand = brand
        self.credentials = credentials
        self.quota = quota
        self.out = out
        self.retry = retry or RETRY
        self._http = None
        self._youtube = None
        self._analytics = None
        self.uploads_playlist: str | None = None

    @property
    def http(self):
        if self._http is None:
            self._http = authorized_http(self.credentials)
        return self._http

    @property
    def youtube(self):
        if self._youtube is None:
            self._youtube = build_service("youtube", self.http)
        return self._youtube

    @property
    def analytics(self):
        if self._analytics is None:
            self._analytics = build_service("youtubeAnalytics", self.http)
        return self._analytics

    def close(self) -> None:
        """Close the kept-alive connections (a run ends; the sockets should not linger until exit)."""
        if self._http is not None:
            self._http.close()

    # ------------------------------------------------------------ calls --

    def _request(self, call: ApiCall):
        from googleapiclient.http import MediaFileUpload

        resource, verb = call.method.split(".")
        kwargs: dict[str, Any] = dict(call.params)
        if call.body is not None:
            kwargs["body"] = call.body
        if call.media is not None:
            kwargs["media_body"] = MediaFileUpload(call.media["file"], mimetype=call.media["mimetype"],
                                                   resumable=False)
        service = self.analytics if resource == "reports" else self.youtube
        return getattr(getattr(service, resource)(), verb)(**kwargs)

    def execute(self, call: ApiCall) -> dict:
        """Send one call: charge quota first, retry transient failures, map terminal ones."""
        from google.auth.exceptions import RefreshError
        from googleapiclient.errors import HttpError

        transport = _transport_errors()
        charged = call.method != "reports.query"

        def attempt() -> dict:
            if charged and self.quota is not None:
                self.quota.charge(call.method)
            try:
                return self._request(call).execute(num_retries=0)
            except HttpError as exc:
                reply = reply_of(exc)
                if not is_retryable(reply):
                    raise self._terminal(reply, call.method) from None
                raise Transient(f"{reply.status} {reply.reason}".strip(), status=reply.status,
                                error=self._terminal(reply, call.method)) from None
            except RefreshError as exc:
                raise from_refresh_error(exc, brand=self.brand) from None
            except transport as exc:
                raise Transient(type(exc).__name__, error=ApiError(
                    f"{call.method}: network error after {self.retry.attempts} attempts ({type(exc).__name__}: {exc})",
                    hint="check the connection and run again")) from None

        return self.retry.run(attempt, on_retry=lambda n, delay, why: self.out(
            f"  {call.method}: {why}; retrying in {delay:.1f} s"))

    def _terminal(self, reply, method: str):
        err = from_reply(reply, brand=self.brand, method=method)
        if isinstance(err, QuotaExceeded) and self.quota is not None:
            self.quota.exhaust(method)
        if reply.status >= 500 or reply.status == 429:
            err = ApiError(f"{method}: YouTube kept failing ({reply.status} {reply.reason or ''}) after "
                           f"{self.retry.attempts} attempts", hint="YouTube may be having trouble; run again later")
        return err

    # ----------------------------------------------------------- upload --

    def insert_request(self, call: ApiCall, chunk: int):
        media = file_chunks(call.media["file"], call.media["mimetype"], chunk)
        return self.youtube.videos().insert(body=call.body, media_body=media, **call.params)

    def restore_upload(self, saved: str):
        """Rebuild a resumable upload from its persisted session; the first next_chunk probes the server."""
        from googleapiclient.http import HttpRequest
        from googleapiclient.model import JsonModel

        d = json.loads(saved)
        m = json.loads(d["resumable"])
        media = file_chunks(m["_filename"], m["_mimetype"], m["_chunksize"])
        if media.size() != m["_size"]:
            raise SessionExpired("the file changed size since the session started")
        doc = discovery_document("youtube")
        req = HttpRequest(self.http, JsonModel("dataWrapper" in doc.get("features", [])).response,
                          d["uri"], method=d["method"], body=d["body"], headers=d["headers"],
                          methodId=d["methodId"], resumable=media)
        req.resumable_uri = d["resumable_uri"]
        req.resumable_progress = int(d.get("resumable_progress") or 0)
        req._in_error_state = True  # ask the server how much it has before sending anything
        return req

    def upload(self, request, *, on_session: Callable[[str], None] | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> dict:
        """Drive a resumable upload to the end; returns the video resource.

        Raises SessionExpired when the server no longer knows the session (404/410): the caller
        reconciles (did a video get created?) and starts over.
        """
        from google.auth.exceptions import RefreshError
        from googleapiclient.errors import HttpError

        transport = _transport_errors()
        total = request.resumable.size()
        watch = _SessionWatch(request.http, on_session or (lambda uri: None))
        stalls = 0
        while True:
            starting = request.resumable_uri is None
            if starting and self.quota is not None:
                self.quota.charge("videos.insert")
            before = request.resumable_progress
            try:
                status, body = request.next_chunk(http=watch, num_retries=0)
            except HttpError as exc:
                reply = reply_of(exc)
                if not starting and reply.status in (404, 410):
                    raise SessionExpired(f"upload session answered {reply.status}") from None
                if not is_retryable(reply):
                    raise self._terminal(reply, "videos.insert") from None
                why = f"{reply.status} {reply.reason}".strip()
            except RefreshError as exc:
                raise from_refresh_error(exc, brand=self.brand) from None
            except transport as exc:
                if request.resumable_uri is not None:
                    request._in_error_state = True  # next call probes `bytes */N` first
                why = type(exc).__name__
            else:
                if body is not None:
                    if on_progress:
                        on_progress(total, total)
                    return body
                if on_progress:
                    on_progress(request.resumable_progress, total)
                stalls = 0
                continue
            if request.resumable_progress > before:
                stalls = 0
            stalls += 1
            if stalls > MAX_STALLS:
                raise ApiError(f"upload made no progress after {MAX_STALLS} attempts (last: {why})",
                               hint="run `doit publish` again: it resumes from what YouTube has received")
            self.retry.pause(stalls, why, on_retry=lambda n, delay, why: self.out(
                f"  upload: {why} at {request.resumable_progress}/{total} bytes; resuming in {delay:.1f} s"))

    def probe(self, saved: str) -> tuple[str, dict | None]:
        """Ask a persisted upload session how far it got, without sending any bytes.

        Returns ("complete", video) when the upload finished (the crash came after it),
        ("incomplete", None) when bytes are missing, ("gone", None) when the session expired.
        """
        from google.auth.exceptions import RefreshError

        d = json.loads(saved)
        size = json.loads(d["resumable"])["_size"]
        transport = _transport_errors()

        def gave_up(why: str) -> Transient:
            return Transient(why, error=ApiError(f"could not ask YouTube about an earlier upload ({why})",
                                                 hint="run again later"))

        def attempt() -> tuple[str, dict | None]:
            try:
                resp, content = self.http.request(d["resumable_uri"], "PUT", body=b"",
                                                  headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"})
            except RefreshError as exc:
                raise from_refresh_error(exc, brand=self.brand) from None
            except transport as exc:
                raise gave_up(type(exc).__name__) from None
            if resp.status in (200, 201):
                return "complete", json.loads(content)
            if resp.status == 308:
                return "incomplete", None
            if resp.status in (404, 410):
                return "gone", None
            reply = parse_reply(resp.status, content)
            if not is_retryable(reply):
                raise self._terminal(reply, "videos.insert")
            raise gave_up(f"{reply.status} {reply.reason}".strip())

        return self.retry.run(attempt)

    # -------------------------------------------------------- reconcile --

    def find_marked(self, marker: str, *, max_pages: int = 4) -> dict | None:
        """Look through the channel's recent uploads for a video tagged with `marker`."""
        if self.uploads_playlist is None:
            return None
        token = None
        for _ in range(max_pages):
            params: dict[str, Any] = {"part": "contentDetails", "playlistId": self.uploads_playlist, "maxResults": 50}
            if token:
                params["pageToken"] = token
            page = self.execute(ApiCall("playlistItems.list", params))
            ids = [it["contentDetails"]["videoId"] for it in page.get("items", [])]
            if ids:
                found = self.execute(ApiCall("videos.list", {"part": "snippet,status", "id": ",".join(ids),
                                                             "maxResults": 50}))
                for video in found.get("items", []):
                    if marker in (video.get("snippet", {}).get("tags") or []):
                        return video
            token = page.get("nextPageToken")
            if not token:
                return None
        return None
