"""A render worker: `doit worker` or `python -m compiler.remote worker` on any machine with Showrunner installed.

It needs no checkout of the specs. A task carries the step (kind, version, params, salt, the coordinator's
tool fingerprint, input digests and the facts of upstream steps, and the key); the worker fetches the inputs by
digest from the shared store into its own cache (verified), runs the renderer through `execute.run_action` (the
code path of a local build), uploads the outputs and then the manifest, and returns the manifest. A step whose
manifest is already in the shared store is answered from there, so a redelivered step changes nothing.

Source files (media, templates) arrive as blobs too; they are staged under their original file name, since a
renderer may look at the suffix. A toolchain that differs from the coordinator's (another ffmpeg, another voice
file) would make different bytes under the same key: the worker refuses such a step with the difference.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import traceback
from pathlib import Path

import renderers

from core import observability
from core.errors import StepError
from core.remote_store import CachingStore, RemoteStoreError, store_for
from core.store import CorruptBlob, Store
from ..execute import run_action
from .capabilities import probe
from .celeryapp import TASK, make_app
from .config import RemoteConfig
from .registry import Heartbeat, Registry, queues_for_caps

_fingerprints: dict[str, dict] = {}


def _fingerprint(kind: str) -> dict:
    if kind not in _fingerprints:
        _fingerprints[kind] = renderers.get(kind)().tool_fingerprint()
    return _fingerprints[kind]


def _stage(store: Store, staging: Path, name: str, digests, names) -> tuple[object, list[Path]]:
    """Input `name` as local paths: blobs fetched by digest; source files linked under their own file name."""
    many = isinstance(digests, list)
    ds = digests if many else [digests]
    ns = names if isinstance(names, list) else [names] * len(ds)
    paths = []
    for i, (d, fname) in enumerate(zip(ds, ns)):
        blob = store.open_verified(d)
        if fname:
            dst = staging / name / str(i) / Path(fname).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(blob, dst)
            except OSError:
                shutil.copyfile(blob, dst)
            paths.append(dst)
        else:
            paths.append(blob)
    return (paths if many else paths[0]), paths


def execute_payload(store: Store, payload: dict, heartbeat: Heartbeat | None = None, name: str = "") -> dict:
    """Run one step described by `payload` into `store` (a CachingStore in front of the shared one), in a span
    that continues the coordinator's trace; counted in this worker's metrics and logged as a JSON line."""
    with observability.worker_span(payload.get("kind", "?"), payload.get("step", "?"), payload.get("trace")):
        out = _execute_payload(store, payload, heartbeat, name)
        result = "failed" if not out.get("ok") else "hit" if out.get("cached") else "executed"
        observability.record_worker_step(payload.get("kind", "?"), result, float(out.get("seconds") or 0.0),
                                         step=payload.get("step"), key=payload.get("key"), worker=name,
                                         detail=out.get("error", ""))
        return out


def _execute_payload(store: Store, payload: dict, heartbeat: Heartbeat | None, name: str) -> dict:
    sid, key, kind = payload["step"], payload["key"], payload["kind"]
    if heartbeat is not None:
        heartbeat.started(sid)
    try:
        # already done elsewhere (a redelivery): the shared store says so without downloading the outputs here
        done = store.backend.get_action(key) if isinstance(store, CachingStore) else store.get_manifest(key)
        if done is not None:
            return {"ok": True, "manifest": done, "worker": name, "cached": True, "seconds": 0.0}
        if kind not in renderers.kinds():
            return {"ok": False, "error": f"this worker ({name}) has no renderer {kind!r}: update Showrunner there"}
        mine = _fingerprint(kind)
        if mine != payload["fingerprint"]:
            diff = sorted(k for k in set(mine) | set(payload["fingerprint"]) if mine.get(k) != payload["fingerprint"].get(k))
            return {"ok": False, "error": f"worker {name} has another toolchain for {kind} ({', '.join(diff)} differ "
                                          f"from the coordinator's); its bytes could differ under the same key: "
                                          f"install the same versions there"}
        staging = store.scratch(f"in-{sid}")
        try:
            inputs = {}
            for iname, digests in payload["inputs"].items():
                inputs[iname], _ = _stage(store, staging, iname, digests, payload["names"].get(iname))
            material = {"version": payload["version"], "inputs": payload["inputs"], "fingerprint": payload["fingerprint"]}
            manifest, seconds = run_action(store, renderers.get(kind), step_id=sid, key=key, material=material,
                                           params=payload["params"], salt=payload["salt"], inputs=inputs,
                                           input_facts=payload["facts"])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return {"ok": True, "manifest": manifest, "worker": name, "cached": False, "seconds": seconds}
    except (StepError, CorruptBlob, RemoteStoreError) as exc:
        return {"ok": False, "error": str(exc), "worker": name}
    except Exception as exc:  # a renderer bug: the traceback goes back to the coordinator
        return {"ok": False, "error": f"internal error in renderer {kind} on {name}: {exc!r}\n{traceback.format_exc()}",
                "worker": name}
    finally:
        if heartbeat is not None:
            heartbeat.finished(sid)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="doit worker", description="start a render worker on this machine")
    ap.add_argument("--store", default=None, help="the studio's shared store URL (or $SHOWRUNNER_STORE_URL)")
    ap.add_argument("--store-dir", default=None, help="a shared folder as the store (or $SHOWRUNNER_STORE_DIR)")
    ap.add_argument("--cache", default=None, help="this worker's own cache folder (default ~/.cache/showrunner-worker)")
    ap.add_argument("--broker", default=None, help="Redis URL (or $SHOWRUNNER_BROKER)")
    ap.add_argument("--ns", default=None, help="namespace of keys and queues (or $SHOWRUNNER_REMOTE_NS)")
    ap.add_argument("--name", default=None, help="this machine's name in the registry (default host-pid)")
    ap.add_argument("--pool", default="solo", choices=["solo", "threads", "prefork"])
    ap.add_argument("-c", "--concurrency", type=int, default=1)
    ap.add_argument("--loglevel", default="WARNING")
    ap.add_argument("--metrics-port", type=int, default=int(os.environ.get("SHOWRUNNER_WORKER_METRICS_PORT", "9464")),
                    help="serve Prometheus /metrics on this port (0: off; default 9464)")
    ap.add_argument("--metrics-host", default=os.environ.get("SHOWRUNNER_WORKER_METRICS_HOST", "0.0.0.0"))
    a = ap.parse_args(argv)
    observability.configure_logging()  # JSON lines (text on a terminal) with step, key, trace ids
    observability.configure_tracing(service="showrunner-worker")
    observability.configure_sentry()
    cfg = RemoteConfig.from_env(broker=a.broker, namespace=a.ns, store_url=a.store, store_dir=a.store_dir)
    if not (cfg.store_url or cfg.store_dir):
        print("a worker needs the shared store: --store http://<studio>:8000 (or SHOWRUNNER_STORE_URL), "
              "or --store-dir for a shared folder", file=sys.stderr)
        return 2
    cache = Path(a.cache or Path.home() / ".cache" / "showrunner-worker").expanduser().resolve()
    try:
        store = store_for(cache, cfg.store_url, cfg.store_dir)
    except RemoteStoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    name = a.name or f"{socket.gethostname()}-{os.getpid()}"
    app = make_app(cfg)
    import redis

    info = probe()
    queues = queues_for_caps(cfg.namespace, info["caps"])
    info.update(queues=queues, pool=a.pool, concurrency=a.concurrency if a.pool != "solo" else 1,
                store=cfg.store_url or cfg.store_dir)
    try:
        registry = Registry(redis.Redis.from_url(cfg.broker), cfg.namespace, cfg.ttl_s)
        beat = Heartbeat(registry, name, info, cfg.heartbeat_s).start()
    except redis.RedisError as exc:
        print(f"cannot reach the broker at {cfg.broker}: {exc}", file=sys.stderr)
        return 2

    @app.task(name=TASK)
    def run_step(payload: dict) -> dict:
        return execute_payload(store, payload, beat, name)

    metrics_at = ""
    if a.metrics_port:
        from prometheus_client import start_http_server

        try:
            start_http_server(a.metrics_port, addr=a.metrics_host, registry=observability.metrics().registry)
            metrics_at = f"; metrics http://{a.metrics_host}:{a.metrics_port}/metrics"
        except OSError as exc:
            print(f"warning: no /metrics on port {a.metrics_port} ({exc}); pass --metrics-port", file=sys.stderr)
    print(f"worker {name}: caps {', '.join(info['caps']) or 'none'}; queues {', '.join(queues)}; cache {cache}"
          f"{metrics_at}", flush=True)
    try:
        app.worker_main(["worker", "--pool", a.pool, "--concurrency", str(a.concurrency), "-Q", ",".join(queues),
                         "-n", name, "--loglevel", a.loglevel, "--without-gossip", "--without-mingle",
                         "--without-heartbeat"])
    finally:
        beat.stop()
    return 0
