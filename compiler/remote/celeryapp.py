"""The Celery app both sides build from one `RemoteConfig`.

Redis is broker and result backend; every key and queue carries the namespace (`global_keyprefix`), so several
farms, or parallel tests, share one Redis without meeting. `acks_late`: a step is acknowledged only after it
finished, so a worker killed mid-step (kill -9) leaves it unacknowledged, and Redis hands it to another worker
after the visibility timeout; running a step twice is harmless (same key, same bytes, first manifest wins).
`prefetch 1`: a worker holds only the step it runs, so the others are free for idle machines.
"""
from __future__ import annotations

from celery import Celery

from .config import RemoteConfig

TASK = "showrunner.run_step"


def make_app(cfg: RemoteConfig) -> Celery:
    app = Celery(f"{cfg.namespace}-render", broker=cfg.broker, backend=cfg.broker, set_as_current=False)
    prefix = f"{cfg.namespace}:"
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=f"{cfg.namespace}.any", task_create_missing_queues=True,
        # every live worker sweeps for steps left unacknowledged longer than the visibility timeout (a worker
        # killed mid-step) every few seconds, instead of kombu's default of every 100 s
        broker_transport_options={"visibility_timeout": cfg.visibility_s, "global_keyprefix": prefix,
                                  "unacked_restore_interval": max(1.0, min(10.0, cfg.visibility_s / 4)),
                                  "unacked_restore_throttle": 1},
        result_backend_transport_options={"global_keyprefix": prefix},
        result_expires=24 * 3600, task_track_started=True,
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app
