"""The store: atomic writes, digest verification, manifests last, garbage collection."""
from __future__ import annotations

import os

import pytest

from core.store import CorruptBlob, Store, atomic_write_bytes, file_digest


def test_atomic_write_leaves_old_content_on_crash(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    atomic_write_bytes(target, b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temp file left behind


def test_blobs_are_content_addressed_and_read_only(tmp_path):
    store = Store(tmp_path / "cache")
    f = tmp_path / "x.bin"
    f.write_bytes(b"hello")
    rec = store.put_file(f)
    assert rec.digest == file_digest(f) and rec.size == 5
    p = store.blob_path(rec.digest)
    assert p.read_bytes() == b"hello"
    assert oct(p.stat().st_mode & 0o777) == "0o444"
    assert store.put_bytes(b"hello").digest == rec.digest


def test_corrupt_blob_is_detected_and_quarantined(tmp_path):
    store = Store(tmp_path / "cache")
    rec = store.put_bytes(b"good data")
    store.put_manifest("k1", {"outputs": {"o": {"digest": rec.digest, "size": rec.size}}})
    p = store.blob_path(rec.digest)
    os.chmod(p, 0o644)
    p.write_bytes(b"bad data!")  # same size, different content
    with pytest.raises(CorruptBlob):
        store.open_verified(rec.digest)
    assert not p.exists()
    assert store.get_manifest("k1") is None  # the manifest no longer counts as done


def test_manifest_without_its_blobs_is_not_done(tmp_path):
    store = Store(tmp_path / "cache")
    store.put_manifest("k", {"outputs": {"o": {"digest": "ab" * 32, "size": 3}}})
    assert store.get_manifest("k") is None
    (store.actions / "broken.json").write_text("{not json")
    assert store.get_manifest("broken") is None


def test_gc_keeps_live_and_removes_the_rest(tmp_path):
    store = Store(tmp_path / "cache")
    live = store.put_bytes(b"live")
    dead = store.put_bytes(b"dead")
    store.put_manifest("live", {"outputs": {"o": {"digest": live.digest, "size": live.size}}})
    store.put_manifest("dead", {"outputs": {"o": {"digest": dead.digest, "size": dead.size}}})
    dry = store.gc({"live"}, dry_run=True)
    assert dry["actions_removed"] == 1 and store.get_manifest("dead") is not None
    res = store.gc({"live"})
    assert res == {"actions_removed": 1, "blobs_removed": 1, "bytes_freed": 4}
    assert store.get_manifest("live") is not None and store.has_blob(live.digest)
    assert not store.has_blob(dead.digest)
