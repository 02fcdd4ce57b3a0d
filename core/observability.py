"""Metrics, structured logs, traces and error reports, fed by the same typed events the terminal shows.

The engine never knows about any of this: `TelemetryReporter` is one more `core.events.Reporter` (the
Workspace adds it to every engine it makes), and turns the event stream into
- Prometheus metrics (prometheus-client) in one process-wide registry, exposed at `/metrics` by the studio
  server and by `doit worker` (steps executed / hit / failed by renderer kind, step durations, builds);
- OpenTelemetry spans: one per build (from its `plan` event to its `finished` event) and one per step (a hit is
  a zero-length span with `showrunner.cache_hit=true`), children of the build; an OTLP exporter is installed
  when OTEL_EXPORTER_OTLP_ENDPOINT is set (`configure_tracing`), otherwise the API's no-op tracer costs nothing;
- log records on the `showrunner` logger with video, step, key and trace ids as fields; `configure_logging`
  writes them as JSON lines (one object per line) or, on a terminal, as readable text. Until a process calls
  it the logger has a NullHandler, so `doit build` prints nothing extra;
- error reports through the Sentry SDK (Glitchtip speaks the same protocol) when SENTRY_DSN is set
  (`configure_sentry`): a step that fails with an internal error is sent as an event, without secrets.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from typing import Any, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram

from .events import Event

log = logging.getLogger("showrunner")
log.addHandler(logging.NullHandler())
log.propagate = False

STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, float("inf"))


class Metrics:
    """The process's metrics, in their own registry (tests make their own `Metrics()`)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.steps = Counter("showrunner_steps", "Build steps by renderer kind and result "
                             "(hit = served from the cache, executed, failed, skipped, corrupt)",
                             ["kind", "result"], registry=r)
        self.step_seconds = Histogram("showrunner_step_duration_seconds", "Wall time of executed steps",
                                      ["kind"], buckets=STEP_BUCKETS, registry=r)
        self.builds = Counter("showrunner_builds", "Builds (and script stages) that finished", registry=r)
        self.retries = Counter("showrunner_service_retries", "Calls to external services that were retried",
                               registry=r)
        self.published = Counter("showrunner_publish_transitions", "Publish state-machine transitions",
                                 ["state"], registry=r)
        self.upload_bytes = Counter("showrunner_upload_bytes", "Bytes uploaded (YouTube uploads, the shared store)",
                                    ["target"], registry=r)

    def hit_ratio(self) -> float | None:
        """Share of steps served from the cache since the process started."""
        hits = executed = 0.0
        for metric in self.steps.collect():
            for s in metric.samples:
                if s.name.endswith("_total"):
                    if s.labels.get("result") == "hit":
                        hits += s.value
                    elif s.labels.get("result") == "executed":
                        executed += s.value
        return hits / (hits + executed) if hits + executed else None


_metrics: Metrics | None = None
_metrics_lock = threading.Lock()


def metrics() -> Metrics:
    """The process-wide metrics."""
    global _metrics
    with _metrics_lock:
        if _metrics is None:
            _metrics = Metrics()
        return _metrics


# ------------------------------------------------------------------ traces --

def tracer(provider: Any = None):
    from opentelemetry import trace

    return (provider or trace.get_tracer_provider()).get_tracer("showrunner")


def configure_tracing(env: Mapping[str, str] | None = None, *, service: str = "showrunner") -> bool:
    """Install an OTLP/HTTP exporter when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set; True if
    it did. Without it the OpenTelemetry API stays a no-op."""
    env = os.environ if env is None else env
    if not (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", service)}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads the OTEL_* variables itself
    trace.set_tracer_provider(provider)
    return True


def trace_ids(span: Any) -> dict[str, str]:
    ctx = span.get_span_context() if span is not None else None
    if ctx is None or not ctx.is_valid:
        return {}
    return {"trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}"}


# -------------------------------------------------------------------- logs --

LOG_FIELDS = ("video", "step", "key", "kind", "trace_id", "span_id", "seconds", "event")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's Showrunner fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                               + f".{int(record.msecs):03d}Z", "level": record.levelname.lower(),
                               "logger": record.name, "message": record.getMessage()}
        for f in LOG_FIELDS:
            v = getattr(record, f, None)
            if v not in (None, ""):
                out[f] = v
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        where = " ".join(f"{f}={getattr(record, f)}" for f in ("video", "step") if getattr(record, f, None))
        return f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {record.levelname.lower():7s} " \
               f"{record.getMessage()}" + (f"  [{where}]" if where else "")


def configure_logging(stream=None, *, json_lines: bool | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send the `showrunner` logger to `stream` (stderr): JSON lines unless it is a terminal, or as
    SHOWRUNNER_LOG_FORMAT=json|text says. Returns the handler (idempotent per stream)."""
    stream = stream or sys.stderr
    if json_lines is None:
        fmt = os.environ.get("SHOWRUNNER_LOG_FORMAT", "")
        json_lines = fmt == "json" or (fmt != "text" and not getattr(stream, "isatty", lambda: False)())
    for h in list(log.handlers):
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is stream:
            log.removeHandler(h)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    log.addHandler(handler)
    log.setLevel(level)
    return handler


# ------------------------------------------------------------------ sentry --

SECRET_HINTS = ("key", "token", "secret", "password", "authorization", "dsn", "cookie")


def _scrub(event: dict, hint: dict | None = None) -> dict:
    """before_send: drop environment-like values whose name looks secret (never send an API key)."""
    def clean(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: ("[removed]" if isinstance(k, str) and any(h in k.lower() for h in SECRET_HINTS) else clean(v))
                    for k, v in obj.items()}
        if isinstance(obj, list):
            return [clean(v) for v in obj]
        return obj

    return clean(event)


def configure_sentry(env: Mapping[str, str] | None = None, *, release: str | None = None) -> bool:
    """Start the Sentry SDK when SENTRY_DSN (or SHOWRUNNER_SENTRY_DSN) is set; True if it did."""
    env = os.environ if env is None else env
    dsn = env.get("SHOWRUNNER_SENTRY_DSN") or env.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(dsn=dsn, release=release, send_default_pii=False, traces_sample_rate=0.0,
                    before_send=_scrub, environment=env.get("SENTRY_ENVIRONMENT", "production"),
                    default_integrations=True)
    return True


def _report_to_sentry(ev: Event) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover
        return
    if not sentry_sdk.is_initialized():
        return
    with sentry_sdk.new_scope() as scope:
        for k in ("video", "step", "kind"):
            if getattr(ev, k, ""):
                scope.set_tag(k, getattr(ev, k))
        scope.set_context("step", {"key": ev.key, "detail": ev.detail[-4000:]})
        first = ev.detail.strip().splitlines()[0] if ev.detail.strip() else "step failed"
        sentry_sdk.capture_message(f"{ev.kind or 'step'} failed: {first[:200]}", level="error")


# ---------------------------------------------------------------- reporter --

class TelemetryReporter:
    """Events -> metrics, spans, log records and (internal errors) Sentry. Thread-safe: engines emit from their
    worker threads."""

    def __init__(self, m: Metrics | None = None, *, tracer_provider: Any = None):
        self.m = m or metrics()
        self._provider = tracer_provider
        self._tracer = None
        self._lock = threading.Lock()
        self._build: Any = None          # the open build span
        self._steps: dict[str, Any] = {}  # step id -> open step span

    def _t(self):
        if self._tracer is None:
            self._tracer = tracer(self._provider)
        return self._tracer

    def emit(self, ev: Event) -> None:
        if ev.type == "progress":
            return
        try:
            self._emit(ev)
        except Exception:  # telemetry never breaks a build
            log.debug("telemetry failed on %s", ev.type, exc_info=True)

    def _emit(self, ev: Event) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        kind = ev.kind or "unknown"
        m = self.m
        span = None
        with self._lock:
            if ev.type == "plan":
                if self._build is not None:
                    self._build.end()
                self._build = self._t().start_span("build", attributes={"showrunner.plan": ev.detail,
                                                                        "showrunner.steps": ev.total or 0})
            parent = trace.set_span_in_context(self._build) if self._build is not None else None
            if ev.type == "miss":
                self._steps[ev.step] = self._t().start_span(
                    f"step {kind}", context=parent,
                    attributes={"showrunner.step": ev.step, "showrunner.kind": kind, "showrunner.video": ev.video,
                                "showrunner.key": ev.key, "showrunner.cache_hit": False})
            elif ev.type == "hit":
                span = self._t().start_span(f"step {kind}", context=parent, attributes={
                    "showrunner.step": ev.step, "showrunner.kind": kind, "showrunner.video": ev.video,
                    "showrunner.key": ev.key, "showrunner.cache_hit": True})
                span.end()
            elif ev.type in ("executed", "failed", "corrupt"):
                span = self._steps.pop(ev.step, None)
                if span is not None:
                    if ev.type != "executed":
                        span.set_status(Status(StatusCode.ERROR, ev.detail[:500]))
                    span.end()
            elif ev.type == "finished" and self._build is not None:
                self._build.set_attribute("showrunner.summary", ev.detail)
                span, self._build = self._build, None
                span.end()
        if ev.type in ("hit", "executed", "failed", "skipped", "corrupt"):
            m.steps.labels(kind=kind, result=ev.type).inc()
        if ev.type == "executed":
            m.step_seconds.labels(kind=kind).observe(ev.seconds)
        elif ev.type == "finished":
            m.builds.inc()
        elif ev.type == "retry":
            m.retries.inc()
        elif ev.type == "publish":
            m.published.labels(state=(ev.detail.split(":")[0] or "unknown")[:40]).inc()
        if ev.type in ("executed", "failed", "corrupt", "warning", "retry", "wait", "finished", "materialized"):
            level = logging.ERROR if ev.type in ("failed", "corrupt") else \
                logging.WARNING if ev.type in ("warning", "retry") else logging.INFO
            fields = {"event": ev.type, "video": ev.video, "step": ev.step, "key": ev.key, "kind": ev.kind,
                      "seconds": round(ev.seconds, 3) if ev.seconds else None, **trace_ids(span or self._build)}
            text = ev.detail.strip().splitlines()[0] if ev.detail.strip() else ev.type
            log.log(level, f"{ev.type}: {text}" if ev.detail else ev.type, extra=fields)
        if ev.type == "failed" and "internal error" in ev.detail:
            _report_to_sentry(ev)


    def carrier(self, step_id: str) -> dict[str, str]:
        """W3C trace context of a step's open span (or the build's), to send with the step to a worker."""
        from opentelemetry import propagate, trace

        with self._lock:
            span = self._steps.get(step_id) or self._build
        out: dict[str, str] = {}
        if span is not None:
            propagate.inject(out, context=trace.set_span_in_context(span))
        return out


def worker_span(kind: str, step_id: str, carrier: Mapping[str, str] | None, provider: Any = None):
    """A worker's span for one step, a child of the coordinator's step span (context from `carrier`)."""
    from opentelemetry import propagate

    ctx = propagate.extract(dict(carrier or {}))
    return tracer(provider).start_as_current_span(f"worker {kind}", context=ctx,
                                                  attributes={"showrunner.step": step_id, "showrunner.kind": kind})


def record_worker_step(kind: str, result: str, seconds: float = 0.0, **fields: Any) -> None:
    """A worker's metrics and log line for one step (it runs steps outside an Engine, so no events)."""
    m = metrics()
    m.steps.labels(kind=kind, result=result).inc()
    if result == "executed":
        m.step_seconds.labels(kind=kind).observe(seconds)
    from opentelemetry import trace

    ids = trace_ids(trace.get_current_span())
    level = logging.ERROR if result == "failed" else logging.INFO
    detail = str(fields.pop("detail", "") or "")
    log.log(level, f"{result}: {detail.splitlines()[0] if detail.strip() else kind}",
            extra={"event": result, "kind": kind, "seconds": round(seconds, 3) if seconds else None, **fields, **ids})


_reporter: TelemetryReporter | None = None
_reporter_lock = threading.Lock()


def reporter() -> TelemetryReporter:
    """The process-wide telemetry reporter (what the Workspace adds to its engines), on `metrics()`."""
    global _reporter
    m = metrics()
    with _reporter_lock:
        if _reporter is None:
            _reporter = TelemetryReporter(m)
        return _reporter
