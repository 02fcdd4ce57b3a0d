"""A local Store that falls through to a shared one: read-through, write-through (Bazel's remote cache).

Two shared backends speak the same small protocol (`RemoteBackend`):

- `HttpBackend`: the studio server's `GET/PUT /cas/<sha256>` and `GET/PUT /ac/<key>` with a bearer token
  (the worker token), in the style of Bazel's HTTP remote cache. Downloads are verified against their digest
  before they enter the local cache; the server verifies uploads.
- `DirBackend`: a plain `Store` on a shared folder (NFS): every write is already atomic (temp file +
  `os.replace` in the same folder), so several machines may write into it at once.

`CachingStore(root, backend)` is a `Store`: the Engine and the workers use it unchanged. Blobs go up before the
manifest that names them, so a manifest in the shared store always means the step is done there too. A machine
writes only into its own local cache and into the shared store through the backend, never into another
machine's cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Mapping, Protocol

from .records import ActionManifest
from .settings import config_dir
from .store import CHUNK, CorruptBlob, OutputRecord, Store, file_digest

DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
WORKER_TOKEN_FILE = "worker-token"
TOKEN_ENV = "SHOWRUNNER_WORKER_TOKEN"


class RemoteStoreError(RuntimeError):
    """The shared store refused or could not be reached; the message says which and what to do."""


def worker_token(env: Mapping[str, str] | None = None) -> str | None:
    """The worker token a client sends: `$SHOWRUNNER_WORKER_TOKEN`, else the `worker-token` file in the machine's
    config folder (copy it from the studio machine, mode 0600). Never logged, never in the cache."""
    env = os.environ if env is None else env
    if env.get(TOKEN_ENV):
        return env[TOKEN_ENV].strip()
    path = config_dir(env) / WORKER_TOKEN_FILE
    try:
        return path.read_text(encoding="ascii").strip() or None
    except OSError:
        return None


class RemoteBackend(Protocol):
    def has_blob(self, digest: str) -> bool: ...
    def fetch_blob(self, digest: str, dst: Path) -> bool: ...   # write to dst (verified); False if absent
    def put_blob(self, digest: str, src: Path) -> None: ...
    def get_action(self, key: str) -> dict | None: ...
    def put_action(self, key: str, data: dict) -> None: ...


class DirBackend:
    """The shared store is a folder every machine mounts (NFS, SMB): a plain Store there."""

    def __init__(self, root: Path):
        self.store = Store(Path(root))

    def has_blob(self, digest: str) -> bool:
        return self.store.has_blob(digest)

    def fetch_blob(self, digest: str, dst: Path) -> bool:
        if not self.store.has_blob(digest):
            return False
        _copy_verified(self.store.blob_path(digest), dst, digest)
        return True

    def put_blob(self, digest: str, src: Path) -> None:
        if not self.store.has_blob(digest):
            rec = self.store.put_file(src)
            if rec.digest != digest:
                raise RemoteStoreError(f"blob {digest[:12]} changed while it was uploaded")

    def get_action(self, key: str) -> dict | None:
        return self.store.get_manifest(key)

    def put_action(self, key: str, data: dict) -> None:
        if self.store.get_manifest(key, check_blobs=False) is None:  # first writer wins: a re-run is harmless
            self.store.put_manifest(key, data)


def _copy_verified(src: Path, dst: Path, digest: str) -> None:
    h = hashlib.sha256()
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while chunk := fi.read(CHUNK):
            h.update(chunk)
            fo.write(chunk)
    if h.hexdigest() != digest:
        raise CorruptBlob(f"shared blob {digest[:12]} is corrupt (content does not match its digest)")


class HttpBackend:
    """Client of the studio's /cas and /ac routes (httpx, one connection pool, bearer token)."""

    def __init__(self, url: str, token: str | None, timeout: float = 60.0, retries: int = 3):
        import httpx

        if not token:
            raise RemoteStoreError("no worker token: set SHOWRUNNER_WORKER_TOKEN or copy the studio machine's "
                                   f"{WORKER_TOKEN_FILE} file into {config_dir()} (chmod 600)")
        self.url = url.rstrip("/")
        self.retries = retries
        self._httpx = httpx
        self.client = httpx.Client(base_url=self.url, timeout=timeout,
                                   headers={"authorization": f"Bearer {token}"})

    def _call(self, method: str, path: str, **kw):
        httpx = self._httpx
        for attempt in range(self.retries + 1):
            try:
                r = self.client.request(method, path, **kw)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise RemoteStoreError(f"shared store {self.url} unreachable ({exc.__class__.__name__}: {exc}); "
                                           "is the studio running (doit serve) and the URL right?") from None
                time.sleep(0.2 * 2 ** attempt)
                continue
            if r.status_code in (401, 403):
                raise RemoteStoreError(f"shared store {self.url} refused the worker token ({r.status_code}); "
                                       "copy the studio machine's worker-token file or set SHOWRUNNER_WORKER_TOKEN")
            if r.status_code >= 500 and attempt < self.retries:
                time.sleep(0.2 * 2 ** attempt)
                continue
            return r
        return r

    def has_blob(self, digest: str) -> bool:
        return self._call("HEAD", f"/cas/{digest}").status_code == 200

    def fetch_blob(self, digest: str, dst: Path) -> bool:
        h = hashlib.sha256()
        with self.client.stream("GET", f"/cas/{digest}") as r:
            if r.status_code == 404:
                return False
            if r.status_code != 200:
                raise RemoteStoreError(f"GET /cas/{digest[:12]}: HTTP {r.status_code}")
            with open(dst, "wb") as fo:
                for chunk in r.iter_bytes(CHUNK):
                    h.update(chunk)
                    fo.write(chunk)
        if h.hexdigest() != digest:
            raise CorruptBlob(f"shared blob {digest[:12]} arrived corrupt (content does not match its digest)")
        return True

    def put_blob(self, digest: str, src: Path) -> None:
        if self.has_blob(digest):
            return

        def body():
            with open(src, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk

        r = self._call("PUT", f"/cas/{digest}", content=body(),
                       headers={"content-length": str(src.stat().st_size)})
        if r.status_code not in (200, 201):
            raise RemoteStoreError(f"PUT /cas/{digest[:12]}: HTTP {r.status_code}: {r.text[:300]}")

    def get_action(self, key: str) -> dict | None:
        r = self._call("GET", f"/ac/{key}")
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise RemoteStoreError(f"GET /ac/{key[:12]}: HTTP {r.status_code}")
        return r.json()

    def put_action(self, key: str, data: dict) -> None:
        r = self._call("PUT", f"/ac/{key}", content=json.dumps(data, sort_keys=True).encode(),
                       headers={"content-type": "application/json"})
        if r.status_code not in (200, 201):
            raise RemoteStoreError(f"PUT /ac/{key[:12]}: HTTP {r.status_code}: {r.text[:300]}")

    def close(self) -> None:
        self.client.close()


class CachingStore(Store):
    """A local Store (this machine's cache) in front of a shared one: reads fall through, writes go to both."""

    def __init__(self, root: Path, backend: RemoteBackend):
        super().__init__(root)
        self.backend = backend

    # blobs: local first, then the shared store (verified on arrival)
    def fetch(self, digest: str) -> bool:
        """Make sure the blob is in the local cache; False if the shared store has none either."""
        if super().has_blob(digest):
            return True
        tmp = self.tmp / f"fetch-{digest}.{os.getpid()}.{time.monotonic_ns()}"
        try:
            if not self.backend.fetch_blob(digest, tmp):
                return False
            os.chmod(tmp, 0o444)
            dst = self.blob_path(digest)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dst)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def open_verified(self, digest: str) -> Path:
        self.fetch(digest)
        return super().open_verified(digest)

    def put_file(self, path: Path) -> OutputRecord:
        rec = super().put_file(path)
        self.backend.put_blob(rec.digest, self.blob_path(rec.digest))
        return rec

    def put_bytes(self, data: bytes) -> OutputRecord:
        rec = super().put_bytes(data)
        self.backend.put_blob(rec.digest, self.blob_path(rec.digest))
        return rec

    # action manifests: a shared hit is copied into the local cache with its blobs
    def get_manifest(self, key: str, check_blobs: bool = True) -> dict | None:
        data = super().get_manifest(key, check_blobs)
        if data is not None:
            return data
        data = self.backend.get_action(key)
        if data is None:
            return None
        if check_blobs and not all(self.fetch(rec["digest"]) for rec in data.get("outputs", {}).values()):
            return None
        Store.put_manifest(self, key, data)
        return data

    def put_manifest(self, key: str, manifest: ActionManifest | dict) -> None:
        data = manifest.to_json() if isinstance(manifest, ActionManifest) else manifest
        super().put_manifest(key, data)
        self.backend.put_action(key, data)


def open_store(cache: Path, env: Mapping[str, str] | None = None) -> Store:
    """This machine's store: plain, or in front of the shared one named by `$SHOWRUNNER_STORE_URL` (the studio's
    HTTP store, with the worker token) or `$SHOWRUNNER_STORE_DIR` (a shared folder)."""
    env = os.environ if env is None else env
    return store_for(cache, env.get("SHOWRUNNER_STORE_URL") or None, env.get("SHOWRUNNER_STORE_DIR") or None, env)


def store_for(cache: Path, url: str | None, shared_dir: str | None, env: Mapping[str, str] | None = None) -> Store:
    if url and shared_dir:
        raise RemoteStoreError("set either SHOWRUNNER_STORE_URL (HTTP) or SHOWRUNNER_STORE_DIR (shared folder), not both")
    if url:
        return CachingStore(cache, HttpBackend(url, worker_token(env)))
    if shared_dir:
        if Path(shared_dir).resolve() == Path(cache).resolve():
            return Store(cache)
        return CachingStore(cache, DirBackend(Path(shared_dir)))
    return Store(cache)


__all__ = ["CachingStore", "DirBackend", "HttpBackend", "RemoteStoreError", "DIGEST_RE", "open_store", "store_for",
           "worker_token", "file_digest"]
