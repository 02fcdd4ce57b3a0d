"""Content-addressed store in cache/: blobs by digest plus action manifests (Bazel CAS + AC).

Layout::

    cache/blobs/ab/cdef...      read-only file contents, named by sha256
    cache/actions/<key>.json    the manifest of a finished step: outputs -> digests, facts
    cache/refs/<step>.json      last key material per step id (only for `explain`)
    cache/tmp/                  scratch; anything here after a crash is garbage

Blobs are written first and the manifest last, each as temp file + os.replace, so a manifest
that exists means the step is done and its blobs are complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .keys import sha256_text
from .records import ActionManifest

CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644 if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def atomic_copy(src: Path, dst: Path) -> None:
    """Place `src` at `dst` atomically: hardlink when possible (same file system), else copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    try:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()


class CorruptBlob(Exception):
    pass


@dataclass
class OutputRecord:
    digest: str
    size: int


class Store:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.actions = self.root / "actions"
        self.refs = self.root / "refs"
        self.tmp = self.root / "tmp"
        for d in (self.blobs, self.actions, self.refs, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ blobs --
    def blob_path(self, digest: str) -> Path:
        return self.blobs / digest[:2] / digest[2:]

    def has_blob(self, digest: str, size: int | None = None) -> bool:
        p = self.blob_path(digest)
        try:
            st = p.stat()
        except FileNotFoundError:
            return False
        return size is None or st.st_size == size

    def put_file(self, path: Path) -> OutputRecord:
        """Ingest a file produced in scratch space; moves it into the store when possible."""
        digest = file_digest(path)
        size = path.stat().st_size
        dst = self.blob_path(digest)
        if not self.has_blob(digest, size):
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.parent / f".{dst.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
            shutil.copyfile(path, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, dst)
        return OutputRecord(digest, size)

    def put_bytes(self, data: bytes) -> OutputRecord:
        digest = hashlib.sha256(data).hexdigest()
        if not self.has_blob(digest, len(data)):
            atomic_write_bytes(self.blob_path(digest), data, mode=0o444)
        return OutputRecord(digest, len(data))

    def open_verified(self, digest: str) -> Path:
        """Path to a blob after checking its content still hashes to `digest`."""
        p = self.blob_path(digest)
        if not p.exists():
            raise CorruptBlob(f"blob {digest[:12]} is missing")
        if file_digest(p) != digest:
            self.quarantine(digest)
            raise CorruptBlob(f"blob {digest[:12]} is corrupt (content does not match its digest)")
        return p

    def quarantine(self, digest: str) -> None:
        p = self.blob_path(digest)
        if p.exists():
            bad = self.tmp / f"corrupt-{digest}"
            os.replace(p, bad)

    # ---------------------------------------------------------- actions --
    def manifest_path(self, key: str) -> Path:
        return self.actions / f"{key}.json"

    def get_manifest(self, key: str, check_blobs: bool = True) -> dict | None:
        """The manifest of a finished action, or None. Missing blobs make it invalid."""
        try:
            data = json.loads(self.manifest_path(key).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if check_blobs:
            for rec in data.get("outputs", {}).values():
                if not self.has_blob(rec["digest"], rec["size"]):
                    return None
        return data

    def put_manifest(self, key: str, manifest: ActionManifest | dict) -> None:
        data = manifest.to_json() if isinstance(manifest, ActionManifest) else manifest
        atomic_write_json(self.manifest_path(key), data)

    def drop_manifest(self, key: str) -> None:
        try:
            self.manifest_path(key).unlink()
        except FileNotFoundError:
            pass

    # ------------------------------------------------------------- refs --
    def ref_path(self, step_id: str) -> Path:
        return self.refs / f"{sha256_text(step_id)[:32]}.json"

    def get_ref(self, step_id: str) -> dict | None:
        try:
            return json.loads(self.ref_path(step_id).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def has_ref(self, step_id: str) -> bool:
        return self.ref_path(step_id).is_file()

    def put_ref(self, step_id: str, key: str, material: dict) -> None:
        atomic_write_json(self.ref_path(step_id), {"step": step_id, "key": key, "material": material})

    # ---------------------------------------------------------- scratch --
    def scratch(self, label: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[-60:]
        return Path(tempfile.mkdtemp(prefix=f"{safe}-", dir=self.tmp))

    # --------------------------------------------------------------- gc --
    def gc(self, live_keys: Iterable[str], keep_digests: Iterable[str] = (), dry_run: bool = False) -> dict:
        """Delete manifests not in `live_keys` and blobs no live manifest references."""
        live = set(live_keys)
        keep = set(keep_digests)
        removed_actions = removed_blobs = freed = 0
        for mf in self.actions.glob("*.json"):
            key = mf.stem
            if key in live:
                try:
                    data = json.loads(mf.read_text())
                except json.JSONDecodeError:
                    continue
                keep.update(rec["digest"] for rec in data.get("outputs", {}).values())
            else:
                removed_actions += 1
                if not dry_run:
                    mf.unlink(missing_ok=True)
        for sub in self.blobs.iterdir():
            if not sub.is_dir():
                continue
            for blob in sub.iterdir():
                digest = sub.name + blob.name
                if digest not in keep:
                    removed_blobs += 1
                    freed += blob.stat().st_size
                    if not dry_run:
                        blob.unlink(missing_ok=True)
        if not dry_run:  # scratch left by killed builds; recent entries may belong to a running build
            cutoff = time.time() - 3600
            for leftover in self.tmp.iterdir():
                if leftover.stat().st_mtime < cutoff:
                    shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)
        return {"actions_removed": removed_actions, "blobs_removed": removed_blobs, "bytes_freed": freed}
