"""compiler/remote/worker.py without Celery: what a worker does with one task."""
from __future__ import annotations

import hashlib

import farm_renderers


def _store(tmp_path, name):
    from core.remote_store import store_for

    return store_for(tmp_path / name, None, str(tmp_path / "shared"))


def _payload(coordinator, fingerprint=None, text="hi"):
    from core.keys import action_key

    data = coordinator.put_bytes(b"source bytes\n")
    material = {"kind": "test.model", "version": 1, "params": {"text": text}, "inputs": {"data": data.digest},
                "fingerprint": fingerprint if fingerprint is not None else {}, "salt": ""}
    return {"step": "v/m", "key": action_key(material), "kind": "test.model", "version": 1, "params": {"text": text},
            "salt": "", "fingerprint": material["fingerprint"], "inputs": material["inputs"],
            "names": {"data": "../../etc/notes.txt"}, "facts": {}}


def test_runs_uploads_and_answers_a_redelivery_from_the_shared_store(tmp_path, monkeypatch):
    from compiler.remote.worker import execute_payload

    farm_renderers.register()
    models = tmp_path / "models" / "tiny"
    models.mkdir(parents=True)
    (models / "model_index.json").write_text("{}")
    monkeypatch.setenv("SHOWRUNNER_MODELS", str(tmp_path / "models"))
    payload = _payload(_store(tmp_path, "coord"))
    first = execute_payload(_store(tmp_path, "w1"), payload, name="w1")
    assert first["ok"] and not first["cached"], first
    out = first["manifest"]["outputs"]["out.txt"]
    shared = tmp_path / "shared" / "blobs" / out["digest"][:2] / out["digest"][2:]
    text = shared.read_text()  # uploaded to the shared store; the source staged under its own base name only
    assert text == f"hi\nnotes.txt\nsource bytes\n{hashlib.sha256(b'{}').hexdigest()}\n"
    assert (tmp_path / "shared" / "actions" / f"{payload['key']}.json").is_file()
    again = execute_payload(_store(tmp_path, "w2"), payload, name="w2")  # a redelivered task on another machine
    assert again["ok"] and again["cached"] and again["manifest"]["outputs"] == first["manifest"]["outputs"]
    assert not (tmp_path / "w2" / "tmp").exists() or not any((tmp_path / "w2" / "tmp").iterdir())


def test_another_toolchain_is_refused_with_the_difference(tmp_path):
    from compiler.remote.worker import execute_payload

    farm_renderers.register()
    payload = _payload(_store(tmp_path, "coord"), fingerprint={"ffmpeg": "ffmpeg version 0.1"})
    res = execute_payload(_store(tmp_path, "w1"), payload, name="w1")
    assert not res["ok"] and "another toolchain for test.model (ffmpeg differ" in res["error"]
    assert not list((tmp_path / "shared" / "actions").glob("*.json"))


def test_a_renderer_error_comes_back_as_the_steps_error(tmp_path, monkeypatch):
    from compiler.remote.worker import execute_payload

    farm_renderers.register()
    monkeypatch.setenv("SHOWRUNNER_MODELS", str(tmp_path / "no-models"))
    res = execute_payload(_store(tmp_path, "w1"), _payload(_store(tmp_path, "coord")), name="w1")
    assert not res["ok"] and "internal error in renderer test.model on w1: FileNotFoundError" in res["error"]
    unknown = {**_payload(_store(tmp_path, "coord"), text="x"), "kind": "no.such"}
    res = execute_payload(_store(tmp_path, "w1"), unknown, name="w1")
    assert not res["ok"] and "has no renderer 'no.such'" in res["error"]
