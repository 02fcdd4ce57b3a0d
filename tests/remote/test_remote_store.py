"""core/remote_store.py: a local cache in front of the shared store, over HTTP (the studio) or a shared folder."""
from __future__ import annotations

import hashlib
import os

import pytest

from farm import WORKER_TOKEN, Farm


@pytest.fixture
def served(tmp_path, mini):
    f = Farm(mini, tmp_path)
    f.serve()
    yield f
    f.close()


def _manifest(key: str, rec) -> dict:
    return {"key": key, "step": "s", "kind": "k", "version": 1, "outputs": {"o": {"digest": rec.digest, "size": rec.size}}}


def _roundtrip(a, b, shared_has):
    src = a.tmp / "f.bin"
    src.write_bytes(b"payload " * 5000)
    rec = a.put_file(src)                        # write-through: local and shared
    assert shared_has(rec.digest)
    key = hashlib.sha256(b"key").hexdigest()
    a.put_manifest(key, _manifest(key, rec))
    assert not b.has_blob(rec.digest)
    m = b.get_manifest(key)                      # read-through: manifest and its blobs arrive in b's own cache
    assert m["outputs"]["o"]["digest"] == rec.digest
    assert b.blob_path(rec.digest).read_bytes() == src.read_bytes()
    assert (b.root / "actions" / f"{key}.json").is_file()
    assert b.open_verified(rec.digest) == b.blob_path(rec.digest)
    assert b.get_manifest(hashlib.sha256(b"other").hexdigest()) is None


def test_http_store_read_through_write_through(served, tmp_path):
    from core.remote_store import CachingStore, HttpBackend

    a = CachingStore(tmp_path / "a", HttpBackend(served.url, WORKER_TOKEN))
    b = CachingStore(tmp_path / "b", HttpBackend(served.url, WORKER_TOKEN))
    shared = served.root / "cache"
    _roundtrip(a, b, lambda d: (shared / "blobs" / d[:2] / d[2:]).is_file())


def test_http_store_wrong_token_is_a_clear_error(served, tmp_path):
    from core.remote_store import CachingStore, HttpBackend, RemoteStoreError

    bad = CachingStore(tmp_path / "bad", HttpBackend(served.url, "not-the-token" * 3))
    with pytest.raises(RemoteStoreError, match="refused the worker token"):
        bad.get_manifest("a" * 64)
    with pytest.raises(RemoteStoreError, match="no worker token"):
        HttpBackend(served.url, None)


def test_shared_folder_backend(tmp_path):
    from core.remote_store import store_for

    shared = tmp_path / "nfs"
    a = store_for(tmp_path / "a", None, str(shared))
    b = store_for(tmp_path / "b", None, str(shared))
    _roundtrip(a, b, lambda d: (shared / "blobs" / d[:2] / d[2:]).is_file())


def test_a_corrupt_shared_blob_never_enters_the_local_cache(tmp_path):
    from core.remote_store import store_for
    from core.store import CorruptBlob

    shared = tmp_path / "nfs"
    a = store_for(tmp_path / "a", None, str(shared))
    rec = a.put_bytes(b"good bytes")
    blob = shared / "blobs" / rec.digest[:2] / rec.digest[2:]
    os.chmod(blob, 0o644)
    blob.write_bytes(b"evil bytes")
    b = store_for(tmp_path / "b", None, str(shared))
    with pytest.raises(CorruptBlob, match="corrupt"):
        b.open_verified(rec.digest)
    assert not b.has_blob(rec.digest)
