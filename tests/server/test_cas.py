"""The shared store over HTTP (server/cas): bearer worker token only, digests verified, atomic idempotent puts,
manifests validated; and the client side (core/remote_store.py) reading and writing through it."""
from __future__ import annotations

import hashlib
import json

import pytest
from litestar.testing import TestClient

from studio_support import TOKEN, FakeBuild, settings_for

WORKER = "w" * 43


@pytest.fixture
def cas(mini, tmp_path):
    from server.app import create_app

    app = create_app(settings_for(mini, tmp_path), token=TOKEN, worker_token=WORKER, watch=False,
                     build_fn=FakeBuild(), scan=False)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client, mini / "cache"


def auth(token: str = WORKER) -> dict:
    return {"authorization": f"Bearer {token}"}


def test_blob_roundtrip_verified_and_idempotent(cas):
    client, cache = cas
    data = b"hello render farm\n" * 1000
    d = hashlib.sha256(data).hexdigest()
    assert client.head(f"/cas/{d}", headers=auth()).status_code == 404
    assert client.get(f"/cas/{d}", headers=auth()).status_code == 404
    r = client.put(f"/cas/{d}", content=data, headers=auth())
    assert r.status_code == 201, r.text
    assert client.put(f"/cas/{d}", content=data, headers=auth()).status_code == 200  # idempotent
    assert client.head(f"/cas/{d}", headers=auth()).status_code == 200
    r = client.get(f"/cas/{d}", headers=auth())
    assert r.status_code == 200 and r.content == data
    blob = cache / "blobs" / d[:2] / d[2:]
    assert blob.read_bytes() == data and not (blob.stat().st_mode & 0o222)  # read-only, like local blobs
    assert not list((cache / "tmp").glob("put-*"))


def test_blob_with_wrong_digest_is_refused_and_leaves_nothing(cas):
    client, cache = cas
    d = hashlib.sha256(b"the real bytes").hexdigest()
    r = client.put(f"/cas/{d}", content=b"other bytes", headers=auth())
    assert r.status_code == 422 and "refused" in r.text
    assert client.head(f"/cas/{d}", headers=auth()).status_code == 404
    assert not list((cache / "tmp").glob("put-*"))
    assert client.get("/cas/not-a-digest", headers=auth()).status_code == 404


def test_token_bearer_only_never_the_session(cas):
    client, _ = cas
    data = b"x"
    d = hashlib.sha256(data).hexdigest()
    assert client.put(f"/cas/{d}", content=data).status_code == 401
    assert client.put(f"/cas/{d}", content=data, headers=auth("wrong" * 9)).status_code == 401
    assert client.put(f"/cas/{d}", content=data, headers={"authorization": f"Basic {WORKER}"}).status_code == 401
    assert client.get(f"/login?token={TOKEN}", follow_redirects=False).status_code == 303  # a logged-in browser...
    assert client.get(f"/cas/{d}").status_code == 401                                        # ...still gets nothing
    assert client.put(f"/cas/{d}", content=data).status_code == 401
    assert client.put(f"/cas/{d}", content=data, headers=auth(TOKEN)).status_code == 401  # the studio token is not it


def test_action_manifest_validated_blobs_first_first_wins(cas):
    client, _ = cas
    data = b"output bytes"
    d = hashlib.sha256(data).hexdigest()
    key = "a" * 64
    man = {"key": key, "step": "s", "kind": "k", "version": 1, "outputs": {"out.bin": {"digest": d, "size": len(data)}}}
    assert client.get(f"/ac/{key}", headers=auth()).status_code == 404
    r = client.put(f"/ac/{key}", content=json.dumps(man), headers=auth())
    assert r.status_code == 409 and "blobs first" in r.text
    client.put(f"/cas/{d}", content=data, headers=auth())
    assert client.put(f"/ac/{key}", content=b"{not json", headers=auth()).status_code == 422
    assert client.put(f"/ac/{key}", content=json.dumps({**man, "outputs": {"x": {"size": 1}}}), headers=auth()).status_code == 422
    assert client.put(f"/ac/{'b' * 64}", content=json.dumps(man), headers=auth()).status_code == 422  # key mismatch
    assert client.put(f"/ac/{key}", content=json.dumps(man), headers=auth()).status_code == 201
    again = {**man, "facts": {"second": True}}
    assert client.put(f"/ac/{key}", content=json.dumps(again), headers=auth()).status_code == 200
    assert client.get(f"/ac/{key}", headers=auth()).json() == man  # the first finished run wins


def test_manifest_size_limit(cas):
    client, _ = cas
    key = "c" * 64
    big = json.dumps({"key": key, "facts": {"pad": "x" * (2 << 20)}})
    assert client.put(f"/ac/{key}", content=big, headers=auth()).status_code == 413


def test_machines_api_lists_the_registry(cas, monkeypatch):
    client, _ = cas
    monkeypatch.setenv("SHOWRUNNER_REMOTE_NS", "showrunner:test:machines-api-empty")
    r = client.get("/api/machines")
    assert r.status_code == 200
    assert r.json() == {"namespace": "showrunner:test:machines-api-empty", "machines": [], "error": None}
