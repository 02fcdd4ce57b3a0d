"""The machine registry: each worker's capabilities in Redis under a heartbeat TTL, and the routing rule.

A worker writes `<ns>:machine:<name>` (JSON: capabilities, cores, RAM, its queues, the step it is running) every
`heartbeat_s` with a TTL of three beats, so a machine that dies (kill -9, power cut) drops out on its own. A step
whose renderer `needs` capabilities goes to the queue of that need-set, which only workers having all of them
consume; before sending, the coordinator asks the registry whether any live machine can run it, and fails the step
at once with the reason when none can.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Iterable

import renderers


def queue_for(namespace: str, needs: Iterable[str]) -> str:
    needs = sorted(set(needs))
    return f"{namespace}.needs.{'+'.join(needs)}" if needs else f"{namespace}.any"


def needs_of(kind: str, params: dict | None = None) -> tuple[str, ...]:
    """What a step of `kind` with these params needs (a hardware encoder adds `encoder:<name>`)."""
    return tuple(sorted(set(renderers.get(kind).needs_for(params))))


def queues_for_caps(namespace: str, caps: Iterable[str], kinds: Iterable[str] | None = None) -> list[str]:
    """Every queue a machine with `caps` consumes: the open queue and the need-set of each renderer it can run."""
    have = set(caps)
    out = {queue_for(namespace, ())}
    for kind in (renderers.kinds() if kinds is None else kinds):
        for need in renderers.get(kind).need_sets():
            if set(need) <= have:
                out.add(queue_for(namespace, tuple(sorted(set(need)))))
    return sorted(out)


class Registry:
    def __init__(self, redis, namespace: str, ttl_s: float = 30.0):
        self.redis = redis
        self.ns = namespace
        self.ttl_s = ttl_s

    def _key(self, name: str) -> str:
        return f"{self.ns}:machine:{name}"

    def put(self, name: str, info: dict) -> None:
        self.redis.set(self._key(name), json.dumps({**info, "name": name, "beat": time.time()}),
                       px=int(self.ttl_s * 1000))

    def drop(self, name: str) -> None:
        self.redis.delete(self._key(name))

    def machines(self) -> list[dict]:
        keys = sorted(self.redis.scan_iter(match=f"{self.ns}:machine:*", count=500))
        out = []
        for raw in (self.redis.mget(keys) if keys else []):
            if raw:
                try:
                    out.append(json.loads(raw))
                except json.JSONDecodeError:
                    continue
        return sorted(out, key=lambda m: m.get("name", ""))

    def capable(self, needs: Iterable[str]) -> list[dict]:
        need = set(needs)
        return [m for m in self.machines() if need <= set(m.get("caps", []))]


class Heartbeat:
    """A daemon thread that keeps one machine's entry alive; `busy` lists the steps it runs now."""

    def __init__(self, registry: Registry, name: str, info: dict, every_s: float):
        self.registry, self.name, self.every_s = registry, name, every_s
        self.info = dict(info, started=time.time(), busy=None, done=0)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="registry-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self.registry.put(self.name, self.info)
        self._thread.start()
        return self

    def started(self, step: str) -> None:
        with self._lock:
            self.info["busy"] = sorted({*(self.info["busy"] or []), step})
            info = dict(self.info)
        self.registry.put(self.name, info)

    def finished(self, step: str) -> None:
        with self._lock:
            self.info["busy"] = [s for s in (self.info["busy"] or []) if s != step] or None
            self.info["done"] += 1
            info = dict(self.info)
        self.registry.put(self.name, info)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                with self._lock:
                    info = dict(self.info)
                self.registry.put(self.name, info)
            except Exception:  # Redis restarting: try again next beat
                continue

    def stop(self) -> None:
        self._stop.set()
        try:
            self.registry.drop(self.name)
        except Exception:
            pass
