"""`GET /api/machines`: the render workers in the registry (compiler/remote), for the studio's home page.

Readable like the pages (the studio's own guard applies): names, capabilities, cores, RAM, what each one runs;
never a key or a token (workers only register whether a HeyGen key is set).
"""
from __future__ import annotations

import functools

from litestar import Controller, get

from compiler.remote.config import RemoteConfig
from compiler.remote.registry import Registry


@functools.lru_cache(maxsize=None)
def _registry(broker: str, namespace: str, ttl_s: float) -> Registry:
    import redis

    return Registry(redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=2), namespace, ttl_s)


def list_machines(cfg: RemoteConfig | None = None) -> dict:
    import redis

    cfg = cfg or RemoteConfig.from_env()
    try:
        machines = _registry(cfg.broker, cfg.namespace, cfg.ttl_s).machines()
    except redis.RedisError as exc:
        return {"namespace": cfg.namespace, "machines": [], "error": f"broker unreachable: {exc.__class__.__name__}"}
    return {"namespace": cfg.namespace, "machines": machines, "error": None}


class MachinesController(Controller):
    @get("/api/machines", sync_to_thread=True)
    def machines(self) -> dict:
        return list_machines()
