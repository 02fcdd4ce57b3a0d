"""A thin client for HeyGen's v3 REST API (HeyGen ships no Python SDK), plus the local bookkeeping
that keeps paid renders safe: a cross-process slot counter and a journal of created videos.

Protocol (developers.heygen.com, v3):
  POST /v3/assets              multipart `file`            -> {"data": {"asset_id", "url", ...}}
  POST /v3/videos              {"type": "avatar", ...}     -> {"data": {"video_id"}}
  GET  /v3/videos/{video_id}                               -> {"data": {"status": pending|processing|
                                                               completed|failed, "video_url", "duration",
                                                               "failure_code", "failure_message"}}
  errors: {"error": {"code", "message", "doc_url"}}; 401 bad key, 402 insufficient credits,
          429 too many requests (honour Retry-After), 5xx transient.
Every request carries `X-Api-Key`; the key never appears in messages, facts or files. Presigned
download URLs are fetched without it (they point at a storage host, not the API).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from clients.retry import RetryPolicy, Transient, parse_retry_after
from core.errors import StepError

DEFAULT_BASE_URL = "https://api.heygen.com"
CREATE_RETRIES = 6  # 429 / 5xx / connection errors per request before giving up
# 2 s, 4 s, 8 s ... capped at 60 s, each up to a quarter longer; a 429's Retry-After as asked, at most 300 s.
# Tests replace this policy's sleep (the avatar renderer polls with the same sleep).
RETRY = RetryPolicy(attempts=CREATE_RETRIES + 1, base_s=2.0, cap_s=60.0, jitter=(1.0, 1.25), max_wait_s=300.0)


class HeyGenError(StepError):
    def __init__(self, message: str, *, status: int | None = None, code: str | None = None, hint: str | None = None):
        self.status, self.code = status, code
        super().__init__(message, hint=hint)


def base_url() -> str:
    return os.environ.get("HEYGEN_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


def _error_text(resp) -> tuple[str | None, str]:
    """(code, message) from a v3 `{"error": {...}}`, a legacy `{"code", "message"}` or a plain body."""
    try:
        body = resp.json()
    except ValueError:
        return None, (resp.text or "").strip()[:300]
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return err.get("code"), str(err.get("message") or err)
    if isinstance(err, str) and err:
        return None, err
    if isinstance(body, dict) and body.get("message"):
        return str(body.get("code")) if body.get("code") is not None else None, str(body["message"])
    return None, json.dumps(body)[:300]


class Client:
    def __init__(self, api_key: str, key_env: str, *, url: str | None = None, retry: RetryPolicy | None = None,
                 timeout: float = 60.0, on_retry: Callable[[int, float, str], None] | None = None):
        import httpx

        self.on_retry = on_retry
        self.key_env = key_env
        self.url = url or base_url()
        self.retry = retry or RETRY
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=15.0), follow_redirects=True,
                                 headers={"X-Api-Key": api_key, "Accept": "application/json",
                                          "User-Agent": "showrunner"})
        self.plain = httpx.Client(timeout=httpx.Timeout(300.0, connect=15.0), follow_redirects=True)
        self.waited_s = 0.0  # total backoff, for facts

    def close(self) -> None:
        self.http.close()
        self.plain.close()

    def _count(self, attempt: int, delay: float, reason: str) -> None:
        self.waited_s += delay
        if self.on_retry:
            self.on_retry(attempt, delay, reason)

    def request(self, method: str, path: str, *, what: str, ok404: bool = False, **kw) -> dict | None:
        return self.retry.run(lambda: self._attempt(method, path, what=what, ok404=ok404, **kw), on_retry=self._count)

    def _attempt(self, method: str, path: str, *, what: str, ok404: bool, **kw) -> dict | None:
        import httpx

        try:
            resp = self.http.request(method, self.url + path, **kw)
        except httpx.TransportError as exc:
            raise Transient(type(exc).__name__, error=HeyGenError(
                f"HeyGen unreachable while {what}: {type(exc).__name__}")) from None
        status = resp.status_code
        if 200 <= status < 300:
            try:
                return resp.json()
            except ValueError:
                raise HeyGenError(f"HeyGen sent a non-JSON answer while {what}") from None
        code, message = _error_text(resp)
        if status == 404 and ok404:
            return None
        if status == 401:
            raise HeyGenError(f"HeyGen rejected the API key in ${self.key_env} (401 {code or 'unauthorized'}): "
                              f"{message}", status=status, code=code,
                              hint=f"set {self.key_env} to a valid key from HeyGen > Settings > API")
        if status == 402:
            raise HeyGenError(f"HeyGen: insufficient credits (402 {code or 'payment required'}): {message}",
                              status=status, code=code,
                              hint="top up the HeyGen API balance (API usage is billed separately from the web plan)")
        if status == 403:
            raise HeyGenError(f"HeyGen refused access while {what} (403 {code or 'forbidden'}): {message}",
                              status=status, code=code)
        if status == 429 or status >= 500:
            wait = parse_retry_after(resp.headers.get("Retry-After")) if status == 429 else None
            raise Transient(f"{status} {message}", status=status, retry_after=wait, error=HeyGenError(
                f"HeyGen kept answering {status} while {what}: {message}", status=status, code=code,
                hint="too many jobs at once (HeyGen allows ~10 concurrent on pay-as-you-go); try again later"))
        raise HeyGenError(f"HeyGen refused the request while {what} ({' '.join(filter(None, [str(status), code]))}): "
                          f"{message}", status=status, code=code)

    # ----------------------------------------------------------- endpoints --
    def upload_audio(self, path: Path) -> str:
        with open(path, "rb") as fh:
            body = self.request("POST", "/v3/assets", what="uploading the narration",
                                files={"file": (path.name, fh, "audio/wav")})
        asset = (body or {}).get("data", {}).get("asset_id")
        if not asset:
            raise HeyGenError("HeyGen accepted the audio upload but returned no asset_id")
        return asset

    def create_video(self, payload: dict) -> str:
        body = self.request("POST", "/v3/videos", what="creating the avatar video", json=payload)
        video_id = (body or {}).get("data", {}).get("video_id")
        if not video_id:
            raise HeyGenError("HeyGen accepted the video request but returned no video_id",
                              hint="check the HeyGen dashboard before retrying, to avoid paying twice")
        return video_id

    def video(self, video_id: str, ok404: bool = False) -> dict | None:
        body = self.request("GET", f"/v3/videos/{video_id}", what="checking the video status", ok404=ok404)
        return None if body is None else body.get("data") or {}

    def download(self, url: str, dst: Path) -> int:
        """Stream a presigned URL to dst (no API key header). Returns the HTTP status (200 on success)."""
        import httpx

        try:
            with self.plain.stream("GET", url) as resp:
                if resp.status_code != 200:
                    return resp.status_code
                with open(dst, "wb") as fh:
                    for chunk in resp.iter_bytes(1 << 20):
                        fh.write(chunk)
        except httpx.TransportError:
            return 0
        return 200


# ------------------------------------------------------ local bookkeeping --

class Slots:
    """A cross-process semaphore: `n` lock files, each held (flock) by one job while HeyGen renders it.

    A crashed process releases its slot with its file descriptors, so nothing is ever left locked.
    """

    def __init__(self, folder: Path, n: int, sleep: Callable[[float], None] = time.sleep):
        self.folder, self.n, self.sleep = folder, max(1, n), sleep
        folder.mkdir(parents=True, exist_ok=True)

    def try_acquire(self):
        import fcntl

        for i in range(self.n):
            fh = open(self.folder / f"slot-{i:02d}.lock", "a+")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            return fh
        return None

    @contextmanager
    def hold(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        delay = 1.0
        while (fh := self.try_acquire()) is None:
            if on_wait:
                on_wait()
            self.sleep(delay)
            delay = min(delay * 1.5, 30.0)
        try:
            yield
        finally:
            fh.close()


class Journal:
    """Which HeyGen video a request created, so a crashed, timed-out or evicted step resumes that
    video instead of paying for a new one. Keyed by a hash of the request (never the API key)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def request_id(material: Any) -> str:
        return hashlib.sha256(json.dumps(material, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def get(self, rid: str) -> str | None:
        try:
            return json.loads((self.folder / f"{rid}.json").read_text()).get("video_id")
        except (FileNotFoundError, ValueError):
            return None

    def put(self, rid: str, video_id: str) -> None:
        from core.store import atomic_write_json

        atomic_write_json(self.folder / f"{rid}.json", {"video_id": video_id, "created": int(time.time())})

    def drop(self, rid: str) -> None:
        (self.folder / f"{rid}.json").unlink(missing_ok=True)
