"""Where the broker and the shared store are: one `RemoteConfig`, from the environment or the command line.

    SHOWRUNNER_BROKER        redis://127.0.0.1:6379/0    broker and result backend (Celery on Redis)
    SHOWRUNNER_REMOTE_NS     showrunner                  prefix of every Redis key and queue (several farms, tests)
    SHOWRUNNER_STORE_URL     http://studio:8000          the studio's shared store (workers; with the worker token)
    SHOWRUNNER_STORE_DIR     /mnt/render/cache           or: a shared folder (NFS) as the shared store
    SHOWRUNNER_EXECUTOR      local | celery              the default executor of builds
    SHOWRUNNER_VISIBILITY_S  3600                        an unacknowledged step is redelivered after this long
    SHOWRUNNER_HEARTBEAT_S   10                          a worker re-registers this often; it is gone after 3x
    SHOWRUNNER_ORPHAN_S      max(30, 6 beats)            a sent step fails when no capable machine was alive this long
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


class RemoteUnavailable(RuntimeError):
    """The broker cannot be reached: the build stops with this message unless a local fallback was asked for."""


@dataclass(frozen=True)
class RemoteConfig:
    broker: str = DEFAULT_BROKER
    namespace: str = "showrunner"
    store_url: str | None = None
    store_dir: str | None = None
    visibility_s: float = 3600.0
    heartbeat_s: float = 10.0
    orphan_wait_s: float | None = None  # None: 2 TTLs, at least 30 s

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **over) -> "RemoteConfig":
        env = os.environ if env is None else env
        values = dict(broker=env.get("SHOWRUNNER_BROKER") or DEFAULT_BROKER,
                      namespace=env.get("SHOWRUNNER_REMOTE_NS") or "showrunner",
                      store_url=env.get("SHOWRUNNER_STORE_URL") or None,
                      store_dir=env.get("SHOWRUNNER_STORE_DIR") or None,
                      visibility_s=float(env.get("SHOWRUNNER_VISIBILITY_S") or 3600),
                      heartbeat_s=float(env.get("SHOWRUNNER_HEARTBEAT_S") or 10),
                      orphan_wait_s=float(env["SHOWRUNNER_ORPHAN_S"]) if env.get("SHOWRUNNER_ORPHAN_S") else None)
        values.update({k: v for k, v in over.items() if v is not None})
        return cls(**values)

    @property
    def ttl_s(self) -> float:
        return 3 * self.heartbeat_s

    @property
    def orphan_s(self) -> float:
        """How long a sent step may wait with no live machine able to run it before it fails."""
        return self.orphan_wait_s if self.orphan_wait_s is not None else max(30.0, 2 * self.ttl_s)
