"""Metrics, logs, traces and error reports from a real build (core/observability.py, server/metrics.py).

Metrics are read back with prometheus-client's own parser, spans with the SDK's in-memory exporter, logs as JSON
lines, Sentry events and OTLP exports by fake collectors on 127.0.0.1 that speak their real protocols."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core import observability
from core.events import Event, Fanout, ListReporter
from support import REPO, HttpCollector


@pytest.fixture
def traced():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return observability.TelemetryReporter(observability.Metrics(), tracer_provider=provider), exporter


def _samples(registry) -> dict[tuple, float]:
    from prometheus_client import generate_latest

    out = {}
    for fam in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_a_build_yields_metrics_spans_and_json_logs(mini, traced):
    from compiler.workspace import Workspace

    telemetry, exporter = traced
    logs = io.StringIO()
    handler = observability.configure_logging(logs, json_lines=True)
    try:
        collected = ListReporter()
        ws = Workspace.open(mini, reporter=Fanout(collected, telemetry))
        result = ws.build(["test/beta"], jobs=2)
        assert not result.failed_steps
        ws2 = Workspace.open(mini, reporter=Fanout(ListReporter(), telemetry))
        ws2.build(["test/beta"], jobs=2)  # all hits
    finally:
        observability.log.removeHandler(handler)
    executed = collected.of("executed")
    kinds = {e.kind for e in executed}
    assert "slide.html" in kinds and "" not in kinds

    got = _samples(telemetry.m.registry)
    for kind in kinds:
        n = sum(1 for e in executed if e.kind == kind)
        assert got[("showrunner_steps_total", (("kind", kind), ("result", "executed")))] == n
        assert got[("showrunner_steps_total", (("kind", kind), ("result", "hit")))] >= n
        assert got[("showrunner_step_duration_seconds_count", (("kind", kind),))] == n
    assert got[("showrunner_builds_total", ())] == 2
    assert 0.4 < telemetry.m.hit_ratio() < 0.6  # the second build hit every step the first executed

    spans = exporter.get_finished_spans()
    builds = [s for s in spans if s.name == "build"]
    steps = [s for s in spans if s.name.startswith("step ")]
    assert len(builds) == 2 and len(steps) == 2 * len(executed)
    for s in steps:  # every step span is a child of a build span of the same trace
        parent = next(b for b in builds if b.context.span_id == s.parent.span_id)
        assert s.context.trace_id == parent.context.trace_id
        # (the brand's narration embeddings, read by beta's similarity check, belong to the brand: test/_qc)
        assert s.attributes["showrunner.video"] in ("test/beta", "test/_qc") and s.attributes["showrunner.key"]
    assert sum(1 for s in steps if s.attributes["showrunner.cache_hit"]) == len(executed)

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]  # every line is one JSON object
    # the Workspace also feeds the process-wide reporter, whose (no-op) tracer gives no trace ids: keep ours
    ran = [r for r in lines if r.get("event") == "executed" and "trace_id" in r]
    assert len(ran) == len(executed)
    assert all(r["video"] in ("test/beta", "test/_qc") and r["step"] and r["key"] and len(r["trace_id"]) == 32
               for r in ran)
    assert all(r["level"] == "info" and r["time"].endswith("Z") for r in ran)


def test_logs_are_text_on_a_terminal_and_silent_unless_configured(capsys):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    observability.log.info("nobody listens")  # the library default: a NullHandler, nothing on stderr
    assert capsys.readouterr().err == ""
    tty = Tty()
    handler = observability.configure_logging(tty)
    try:
        observability.log.warning("retry: quota", extra={"video": "b/v", "step": "b/v/x"})
    finally:
        observability.log.removeHandler(handler)
    assert "warning" in tty.getvalue() and "[video=b/v step=b/v/x]" in tty.getvalue()


def _studio_client(root, tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "server"))
    from studio_support import TOKEN, FakeBuild, settings_for
    from litestar.testing import TestClient

    from server.app import create_app

    return TestClient(create_app(settings_for(root, tmp_path), token=TOKEN, watch=False, build_fn=FakeBuild()))


def test_studio_metrics_endpoint_is_prometheus_text(mini, tmp_path):
    observability.metrics().steps.labels(kind="slide.html", result="hit").inc()
    with _studio_client(mini, tmp_path) as client:
        r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    for name in ("showrunner_steps", "showrunner_step_duration_seconds", "showrunner_build_queue_depth",
                 "showrunner_cache_bytes", "showrunner_cache_hit_ratio", "showrunner_review_queue_length",
                 "showrunner_youtube_quota_used_units", "showrunner_upload_bytes"):
        assert name in families, name
    assert families["showrunner_review_queue_length"].samples[0].value == 0
    assert "token" not in r.text.lower()


@pytest.fixture
def collector():
    with HttpCollector() as c:
        yield c.server, c.bodies


def test_internal_step_failures_reach_sentry_without_secrets(collector):
    import sentry_sdk

    server, bodies = collector
    dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
    assert observability.configure_sentry({"SENTRY_DSN": dsn}) is True
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_context("env", {"GEMINI_API_KEY": "sk-very-secret", "path": "x"})
            observability.TelemetryReporter(observability.Metrics()).emit(Event(
                type="failed", step="b/v/tiny/slide/00", video="b/v", kind="slide.html", key="k" * 64,
                detail="internal error in renderer slide.html:\nTraceback ... ZeroDivisionError"))
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # back to a disabled client for the other tests
    assert bodies, "no envelope reached the fake Sentry"
    assert {path for path, _, _ in bodies} == {"/api/42/envelope/"}
    text = "\n".join(body.decode("utf-8", "replace") for _, _, body in bodies)
    assert "slide.html failed" in text and "b/v/tiny/slide/00" in text
    assert "sk-very-secret" not in text and "[removed]" in text  # scrubbed by before_send, not merely absent


def test_otlp_exporter_sends_spans_when_the_endpoint_is_set(collector, tmp_path):
    server, bodies = collector
    code = (
        "from core import observability\n"
        "assert observability.configure_tracing()\n"
        "from opentelemetry import trace\n"
        "t = observability.TelemetryReporter(observability.Metrics())\n"
        "from core.events import Event\n"
        "t.emit(Event(type='plan', total=1, detail='build: 1 step'))\n"
        "t.emit(Event(type='miss', step='b/v/x', kind='timeline.compose', key='k'))\n"
        "t.emit(Event(type='executed', step='b/v/x', kind='timeline.compose', key='k', seconds=0.1))\n"
        "t.emit(Event(type='finished', detail='ok'))\n"
        "trace.get_tracer_provider().force_flush()\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    names = []
    for path, ctype, body in bodies:
        assert path == "/v1/traces" and ctype == "application/x-protobuf"
        req = ExportTraceServiceRequest.FromString(body)
        names += [s.name for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(names) == ["build", "step timeline.compose"]


def test_deploy_files_parse_and_the_dashboard_only_uses_metrics_we_export(mini, tmp_path):
    import re

    import yaml

    deploy = REPO / "deploy"
    compose = yaml.safe_load((deploy / "compose.yaml").read_text())
    assert {"prometheus", "grafana", "loki", "jaeger", "glitchtip"} <= set(compose["services"])
    scrape = yaml.safe_load((deploy / "prometheus.yml").read_text())
    assert all(job["metrics_path"] == "/metrics" for job in scrape["scrape_configs"])
    observability.metrics().upload_bytes.labels(target="youtube").inc(0)
    with _studio_client(mini, tmp_path) as client:
        exported = {f.name for f in text_string_to_metric_families(client.get("/metrics").text)}
    dashboard = json.loads((deploy / "grafana" / "dashboards" / "showrunner.json").read_text())
    used = {re.sub(r"_(total|bucket|count|sum)$", "", name) for p in dashboard["panels"] for t in p["targets"]
            for name in re.findall(r"showrunner_[a-z_]+", t["expr"])}
    assert used and used <= exported, used - exported


def test_metrics_on_a_lan_host_need_a_login_or_the_worker_token(mini, tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "server"))
    from litestar.testing import TestClient
    from studio_support import TOKEN, FakeBuild, settings_for

    from server.app import create_app

    app = create_app(settings_for(mini, tmp_path), token=TOKEN, watch=False, build_fn=FakeBuild(), host="0.0.0.0",
                     worker_token="w" * 43)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 43}).status_code == 401
        r = client.get("/metrics", headers={"Authorization": "Bearer " + "w" * 43})
        assert r.status_code == 200 and "showrunner_steps" in r.text
        assert client.get("/", headers={"Authorization": "Bearer " + "w" * 43}).status_code == 401  # only /metrics
