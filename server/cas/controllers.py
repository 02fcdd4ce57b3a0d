"""`GET/HEAD/PUT /cas/<sha256>` (blobs) and `GET/PUT /ac/<key>` (action manifests) for render workers.

Machine clients authenticate with the worker token as `Authorization: Bearer <token>` (compared in constant
time); the studio's cookie sessions are never accepted here, so a web page cannot reach the store through a
logged-in browser, and no CSRF token is needed (a browser never sends the bearer header by itself).

Puts are atomic and idempotent: a blob is streamed into cache/tmp while it is hashed, refused unless it hashes
to the digest in its URL, and moved into place with `os.replace`; an existing blob is kept. A manifest must
parse as `core.records.ActionManifest`, carry its own key, and name only blobs the store already holds (blobs
first, manifest last, as on one machine); the first manifest for a key wins, so a step that ran twice (a
redelivered task) changes nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time

from litestar import Controller, Request, Response, get, head, put
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.response import Stream
from pydantic import ValidationError

from core.records import ActionManifest
from core.store import Store

DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20
MAX_BLOB = int(os.environ.get("SHOWRUNNER_CAS_MAX_BYTES", str(8 << 30)))  # one render output: 8 GiB
MAX_MANIFEST = 1 << 20  # an action manifest is small JSON


def worker_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Bearer worker token only (never a cookie session), constant-time compare."""
    expected: str | None = connection.app.state.worker_token
    header = connection.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not given or \
            not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise NotAuthorizedException("the shared store needs the worker token (Authorization: Bearer <token>)")


def _digest(value: str) -> str:
    if not DIGEST_RE.match(value):
        raise NotFoundException("not a sha256 digest (64 lowercase hex digits)")
    return value


class CasController(Controller):
    """The store the studio already owns (cache/), opened to workers."""

    include_in_schema = False
    guards = [worker_guard]

    @head("/cas/{digest:str}", sync_to_thread=False)
    def has_blob(self, digest: str, store: Store) -> Response[None]:
        if not store.has_blob(_digest(digest)):
            raise NotFoundException("no such blob")
        return Response(content=None, status_code=200,
                        headers={"content-length": str(store.blob_path(digest).stat().st_size)})

    @get("/cas/{digest:str}", sync_to_thread=False)
    def get_blob(self, digest: str, store: Store) -> Stream:
        path = store.blob_path(_digest(digest))
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            raise NotFoundException("no such blob") from None
        size = os.fstat(fh.fileno()).st_size

        def chunks():
            with fh:
                while chunk := fh.read(CHUNK):
                    yield chunk

        return Stream(chunks(), media_type="application/octet-stream", headers={"content-length": str(size)})

    @put("/cas/{digest:str}", status_code=201, request_max_body_size=MAX_BLOB)
    async def put_blob(self, request: Request, digest: str, store: Store) -> Response:
        _digest(digest)
        if store.has_blob(digest):
            async for _ in request.stream():  # idempotent: the blob is already there
                pass
            return Response(content=None, status_code=200)
        dst = store.blob_path(digest)
        tmp = store.tmp / f"put-{digest}.{os.getpid()}.{time.monotonic_ns()}"
        h = hashlib.sha256()
        try:
            with open(tmp, "wb") as fh:
                async for chunk in request.stream():
                    h.update(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if h.hexdigest() != digest:
                raise ClientException(f"body hashes to {h.hexdigest()[:12]}, not to {digest[:12]}: refused",
                                      status_code=422)
            os.chmod(tmp, 0o444)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dst)
        finally:
            tmp.unlink(missing_ok=True)
        return Response(content=None, status_code=201)

    @get("/ac/{key:str}", sync_to_thread=False)
    def get_action(self, key: str, store: Store) -> Response:
        data = store.get_manifest(_digest(key))
        if data is None:
            raise NotFoundException("no such action")
        return Response(content=data, media_type="application/json")

    @put("/ac/{key:str}", status_code=201, request_max_body_size=MAX_MANIFEST)
    async def put_action(self, request: Request, key: str, store: Store) -> Response:
        _digest(key)
        body = await request.body()
        try:
            record = ActionManifest.model_validate(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as exc:
            raise ClientException(f"not an action manifest: {str(exc)[:300]}", status_code=422) from None
        if record.key != key:
            raise ClientException(f"the manifest's key {record.key[:12]!r} is not the URL's {key[:12]}",
                                  status_code=422)
        missing = [n for n, o in record.outputs.items() if not store.has_blob(o.digest, o.size)]
        if missing:
            raise ClientException(f"upload the blobs first: {', '.join(missing)} missing from the store",
                                  status_code=409)
        if store.get_manifest(key) is not None:  # the first finished run wins; a second run is harmless
            return Response(content=None, status_code=200)
        store.put_manifest(key, record)
        return Response(content=None, status_code=201)
