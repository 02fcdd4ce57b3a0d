"""The coordinator's side: `Engine(executor=CeleryExecutor(...))` sends each missed step to a render worker.

The Engine still computes every key here (from this machine's tool fingerprints and input digests) and asks the
store for hits; only a miss crosses to Celery. Before sending, the step's source files are put into the shared
store by digest and the registry is asked whether any live machine has what the renderer needs: if none has,
the step fails at once, naming the need and the machines that are up. While waiting, a step whose last capable
machine disappeared fails after a grace period (`RemoteConfig.orphan_s`: a restarting worker may come back)
instead of hanging.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core import observability
from core.errors import StepError
from ..execute import Engine, NotReady, StepFailed
from ..plan import Step
from .celeryapp import TASK, make_app
from .config import RemoteConfig, RemoteUnavailable
from .registry import Registry, needs_of, queue_for


def _describe(machines: list[dict]) -> str:
    if not machines:
        return "no worker is running (start one with `doit worker`)"
    return "; ".join(f"{m['name']} [{', '.join(m.get('caps', [])) or 'no capabilities'}]" for m in machines)


class CeleryExecutor:
    POLL_S = 1.0

    def __init__(self, cfg: RemoteConfig):
        import redis

        self.cfg = cfg
        self.redis = redis.Redis.from_url(cfg.broker, socket_connect_timeout=3, socket_timeout=10)
        try:
            self.redis.ping()
        except redis.RedisError as exc:
            raise RemoteUnavailable(f"the Celery broker at {cfg.broker} is unreachable ({exc}); start Redis, set "
                                    "SHOWRUNNER_BROKER, or build here with --executor local (or --fallback local)") from None
        self.registry = Registry(self.redis, cfg.namespace, cfg.ttl_s)
        self.app = make_app(cfg)

    def parallelism(self) -> int:
        """Steps in flight at once: every live worker slot, and some headroom for machines that join."""
        return max(8, 2 * sum(int(m.get("concurrency", 1)) for m in self.registry.machines()))

    def _payload(self, engine: Engine, step: Step, key: str, material: dict) -> dict:
        names, facts = {}, {}
        for name, v in step.inputs.items():
            refs = v if isinstance(v, list) else [v]
            ns, fs = [], []
            for i, r in enumerate(refs):
                if r.file is not None:  # a source file travels as a CAS input, by digest
                    path = engine.root / r.file
                    want = material["inputs"][name][i] if isinstance(v, list) else material["inputs"][name]
                    if not engine.store.has_blob(want):
                        rec = engine.store.put_file(path)
                        if rec.digest != want:
                            raise StepError(f"{r.file} changed while the build ran; build again")
                    ns.append(Path(r.file).name)
                else:
                    k, _ = engine.key(r.step)
                    m = engine.store.get_manifest(k)
                    if m is None:
                        raise NotReady(r.step)
                    ns.append(None)
                    fs.append(m.get("facts", {}))
            names[name] = ns if isinstance(v, list) else ns[0]
            if fs:
                facts[name] = fs if isinstance(v, list) else fs[0]
        return {"step": step.id, "key": key, "kind": step.kind, "version": step.version, "params": step.params,
                "salt": step.salt, "fingerprint": material["fingerprint"], "inputs": material["inputs"],
                "names": names, "facts": facts,
                "trace": observability.reporter().carrier(step.id)}  # the worker's span joins this step's trace

    def run(self, engine: Engine, step: Step, key: str, material: dict) -> dict:
        from celery.exceptions import TimeoutError as CeleryTimeout

        sid = step.id
        needs = needs_of(step.kind, step.params)
        if not self.registry.capable(needs):
            msg = (f"no live worker can run {step.kind} (it needs {', '.join(needs) or 'nothing special'}); "
                   f"live machines: {_describe(self.registry.machines())}")
            engine.emit("failed", sid, key, detail=msg)
            raise StepFailed(sid, msg)
        try:
            payload = self._payload(engine, step, key, material)
        except NotReady as exc:
            raise StepFailed(sid, f"upstream step {exc} has not been built") from None
        except Exception as exc:
            engine.emit("failed", sid, key, detail=str(exc))
            raise StepFailed(sid, f"cannot send the step to a worker: {exc}") from None
        try:
            res = self.app.send_task(TASK, args=[payload], queue=queue_for(self.cfg.namespace, needs))
        except Exception as exc:  # kombu OperationalError: the broker went away
            raise StepFailed(sid, f"the Celery broker at {self.cfg.broker} is unreachable ({exc})") from None
        alone_since = None
        while True:
            try:
                out = res.get(timeout=self.POLL_S, propagate=False, disable_sync_subtasks=False)
                break
            except CeleryTimeout:
                if self.registry.capable(needs):
                    alone_since = None
                elif alone_since is None:
                    alone_since = time.monotonic()
                elif time.monotonic() - alone_since > self.cfg.orphan_s:
                    res.revoke()
                    msg = (f"every worker able to run {step.kind} (needs {', '.join(needs) or 'nothing special'}) "
                           f"left while the step waited; live machines: {_describe(self.registry.machines())}")
                    engine.emit("failed", sid, key, detail=msg)
                    raise StepFailed(sid, msg) from None
            except Exception as exc:
                raise StepFailed(sid, f"lost the Celery result backend at {self.cfg.broker} ({exc})") from None
        res.forget()
        if not isinstance(out, dict):  # the task itself raised (a worker bug)
            engine.emit("failed", sid, key, detail=repr(out))
            raise StepFailed(sid, f"worker error: {out!r}")
        if not out.get("ok"):
            engine.emit("failed", sid, key, detail=out["error"])
            raise StepFailed(sid, out["error"])
        manifest = engine.store.get_manifest(key)
        if manifest is None:
            msg = f"worker {out.get('worker')} finished but the shared store has no complete manifest for {key[:12]}"
            engine.emit("failed", sid, key, detail=msg)
            raise StepFailed(sid, msg)
        engine.store.put_ref(sid, key, material)
        engine.emit("executed", sid, key, float(out.get("seconds") or 0.0),
                    detail=f"on {out.get('worker')}" + (" (already in the shared store)" if out.get("cached") else ""))
        return manifest


def make_executor(name: str, fallback: str | None = None, env=None, warn=None):
    """None for local threads; a CeleryExecutor for "celery" (RemoteUnavailable when the broker is down, unless
    `fallback == "local"`, which builds here after `warn(message)`)."""
    if name in (None, "", "local"):
        return None
    if name != "celery":
        raise ValueError(f"unknown executor {name!r} (local or celery)")
    try:
        return CeleryExecutor(RemoteConfig.from_env(env))
    except RemoteUnavailable as exc:
        if fallback == "local":
            if warn is not None:
                warn(f"{exc}; building on this machine instead (--fallback local)")
            return None
        raise


def print_machines(argv: list[str]) -> int:
    import redis

    cfg = RemoteConfig.from_env()
    try:
        machines = Registry(redis.Redis.from_url(cfg.broker, socket_connect_timeout=3), cfg.namespace, cfg.ttl_s).machines()
    except redis.RedisError as exc:
        print(f"the broker at {cfg.broker} is unreachable: {exc}", file=sys.stderr)
        return 2
    if "--json" in argv:
        print(json.dumps(machines, indent=2, sort_keys=True))
        return 0
    if not machines:
        print(f"no live workers in {cfg.namespace} at {cfg.broker} (start one with `doit worker`)")
        return 0
    now = time.time()
    for m in machines:
        busy = ", ".join(m.get("busy") or []) or "idle"
        print(f"{m['name']:<24} {m.get('cores', '?')} cores, {m.get('ram_bytes', 0) / 2**30:.1f} GiB, "
              f"beat {now - m.get('beat', now):.0f}s ago, {m.get('done', 0)} step(s) done, {busy}")
        print(f"{'':<24} caps: {', '.join(m.get('caps', [])) or 'none'}")
    return 0
