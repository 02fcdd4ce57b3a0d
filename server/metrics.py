"""`GET /metrics`: Prometheus text exposition of the studio process.

The process-wide metrics (core/observability.py: steps by kind and result, step durations, builds, retries,
publish transitions, bytes uploaded) plus what only the studio knows, read at scrape time: its build queue,
the human review queue, YouTube quota used today per quota bucket, and the cache's size and hit ratio. Readable
like the pages (no secrets in it: counts and sizes only).
"""
from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

from litestar import Controller, Request, Response, get
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import select

from core import observability
from publish.ledger import Ledger
from publish.models import QuotaUsage
from publish.qcstore import review_queue
from publish.quota import pacific_day


class _CacheSize:
    """Bytes and files in cache/blobs, walked at most once a minute (a scrape must stay cheap)."""

    def __init__(self, blobs: Path, every_s: float = 60.0):
        self.blobs, self.every_s = blobs, every_s
        self._at, self._value = 0.0, (0, 0)
        self._lock = threading.Lock()

    def get(self) -> tuple[int, int]:
        with self._lock:
            if time.monotonic() - self._at > self.every_s or not self._at:
                size = files = 0
                for dirpath, _, names in os.walk(self.blobs):
                    for n in names:
                        try:
                            size += os.stat(os.path.join(dirpath, n)).st_size
                            files += 1
                        except FileNotFoundError:
                            pass
                self._at, self._value = time.monotonic(), (size, files)
            return self._value


class StudioCollector:
    def __init__(self, app_state, ledger: Ledger, cache: Path):
        self.state, self.ledger = app_state, ledger
        self.cache = _CacheSize(cache / "blobs")

    def collect(self):
        queue = getattr(self.state, "queue", None)
        g = GaugeMetricFamily("showrunner_build_queue_depth", "Builds waiting in the studio's queue")
        g.add_metric([], len(queue.queued()) if queue is not None else 0)
        yield g
        size, files = self.cache.get()
        yield GaugeMetricFamily("showrunner_cache_bytes", "Bytes in the content-addressed cache's blobs", value=size)
        yield GaugeMetricFamily("showrunner_cache_blobs", "Blobs in the content-addressed cache", value=files)
        ratio = observability.metrics().hit_ratio()
        yield GaugeMetricFamily("showrunner_cache_hit_ratio", "Share of steps served from the cache since start",
                                value=ratio if ratio is not None else float("nan"))
        try:
            pending = len(review_queue(self.ledger))
        except Exception:  # an unmigrated or unreachable ledger must not break the scrape
            pending = float("nan")
        yield GaugeMetricFamily("showrunner_review_queue_length", "Builds waiting for a human review", value=pending)
        quota = GaugeMetricFamily("showrunner_youtube_quota_used_units", "YouTube Data API units used today "
                                  "(Pacific day), per Google Cloud project and quota bucket", labels=["project", "bucket"])
        try:
            today: dt.date = pacific_day()
            with self.ledger.session() as s:
                for row in s.scalars(select(QuotaUsage).where(QuotaUsage.day == today)):
                    quota.add_metric([row.project, row.bucket], row.units)
        except Exception:
            pass
        yield quota


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def metrics(self, request: Request) -> Response[bytes]:
        studio: CollectorRegistry = request.app.state.metrics_registry
        body = generate_latest(observability.metrics().registry) + generate_latest(studio)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def studio_registry(app_state, ledger: Ledger, cache: Path) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(StudioCollector(app_state, ledger, cache))
    return registry
