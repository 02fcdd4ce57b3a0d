"""Remote execution end to end: real Redis, the studio's HTTP store on 127.0.0.1, worker processes with their own
empty caches and no access to the project folder. The tiny espeak + slide video built through Celery is
byte-identical to a local build, survives a worker killed with -9 mid-build, capability-routed steps land on
the machine that has what they need, and a step no machine can run fails at once with the reason."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

import farm_renderers
from farm import Farm
from support import session

pytestmark = pytest.mark.timeout(600)
VIDEO = "test/beta"  # two espeak narrations, two Chromium slides, segments, captions, assembly, thumbnail


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


if not _redis_up():
    pytest.skip("Redis at 127.0.0.1:6379 is not running", allow_module_level=True)


def outputs(root: Path) -> dict[str, bytes]:
    out = root / "build" / VIDEO
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "manifest.json"}


@pytest.fixture(scope="module")
def local_build(tmp_path_factory, _mini_base) -> dict[str, bytes]:
    """The reference: the same video built by local threads."""
    root = tmp_path_factory.mktemp("local") / "proj"
    shutil.copytree(_mini_base, root)
    res = session(root).build([VIDEO])
    assert res.ok, res.failed_steps
    return outputs(root)


@pytest.fixture
def farm(tmp_path, _mini_base, monkeypatch):
    root = tmp_path / "proj"
    shutil.copytree(_mini_base, root)
    f = Farm(root, tmp_path)
    for k, v in f.env.items():
        monkeypatch.setenv(k, v)
    f.serve()
    yield f
    f.close()


def coordinator(farm: Farm):
    from compiler.workspace import Workspace
    from core.events import ListReporter
    from core.settings import Settings

    return Workspace(Settings.load(farm.root), reporter=ListReporter(), executor="celery")


def ran_on(ws) -> dict[str, str]:
    return {e.step: e.detail for e in ws.reporter.of("executed")}


def test_two_workers_build_byte_identical_to_local(farm, local_build):
    farm.start_worker("w1")
    farm.start_worker("w2")
    farm.wait_for(["w1", "w2"])
    ws = coordinator(farm)
    res = ws.build([VIDEO])
    assert res.ok, res.failed_steps
    assert outputs(farm.root) == local_build
    where = ran_on(ws)
    assert where and all(d.startswith("on w") for d in where.values())
    for name in ("w1", "w2"):  # each worker wrote only its own cache; none touched the project
        assert (farm.tmp / f"worker-{name}" / "cache" / "blobs").is_dir()
        assert not list((farm.tmp / f"worker-{name}" / "cwd").iterdir())
    # a second build is all hits, from the coordinator's store, without asking any worker
    again = coordinator(farm)
    res2 = again.build([VIDEO])
    assert res2.ok and res2.ran == 0 and res2.cached > 0


def test_worker_killed_mid_step_build_completes_identically(farm, local_build):
    farm.start_worker("w1")
    farm.wait_for(["w1"])
    ws = coordinator(farm)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("res", ws.build([VIDEO])), daemon=True)
    t.start()
    deadline = time.monotonic() + 120
    victim = None
    while victim is None:
        assert time.monotonic() < deadline, "w1 never started a step"
        busy = next((m.get("busy") for m in farm.machines() if m["name"] == "w1"), None)
        if busy:
            victim = busy[0]
        time.sleep(0.05)
    farm.kill("w1")  # kill -9 while it renders `victim`
    farm.start_worker("w2")
    t.join(timeout=400)
    assert not t.is_alive(), "the build hung after the worker was killed"
    res = result["res"]
    assert res.ok, res.failed_steps
    assert outputs(farm.root) == local_build
    assert ran_on(ws)[victim] == "on w2"  # redelivered after the visibility timeout


def test_capability_routing_and_unrunnable_step_fails_fast(farm, tmp_path):
    from compiler.execute import Engine
    from compiler.plan import Plan, Ref, Step
    from core.events import ListReporter
    from core.store import Store

    farm_renderers.register()
    farm.start_worker("plain")
    farm.start_worker("gpu-box", models=True)
    farm.wait_for(["plain", "gpu-box"])
    caps = {m["name"]: m["caps"] for m in farm.machines()}
    assert "model:tiny" in caps["gpu-box"] and "model:tiny" not in caps["plain"]
    (farm.root / "videos" / "test" / "media" / "notes.txt").write_text("source bytes\n")
    plan = Plan()
    for i in range(4):
        plan.add(Step(id=f"t/m{i}", video="t", kind="test.model", version=1, params={"text": f"n{i}"},
                      inputs={"data": Ref(file="videos/test/media/notes.txt")}, outputs=["out.txt"]))
    plan.add(Step(id="t/cuda", video="t", kind="test.cuda", version=1, params={"text": "x"}, outputs=["out.txt"]))
    ws = coordinator(farm)
    rep = ListReporter()
    engine = Engine(farm.root, plan, Store(farm.root / "cache"), reporter=rep, executor=ws.executor)
    failed = engine.build(["t/cuda"], jobs=4)
    # reported at once: nothing was queued for a machine that does not exist
    assert not list(farm.redis.scan_iter(match=f"{farm.ns}*needs.cuda*"))
    assert "no live worker can run test.cuda (it needs cuda)" in failed["t/cuda"]
    assert "gpu-box [" in failed["t/cuda"] and "plain [" in failed["t/cuda"]
    failed = engine.build([f"t/m{i}" for i in range(4)], jobs=4)
    assert not failed, failed
    assert {e.detail for e in rep.of("executed")} == {"on gpu-box"}
    m = engine.store.get_manifest(engine.key("t/m0")[0])
    assert m["facts"] == {"machine": "gpu-box"}
    text = engine.store.blob_path(m["outputs"]["out.txt"]["digest"]).read_text()
    assert text.startswith("n0\nnotes.txt\nsource bytes\n")  # the source file travelled by digest, under its name


def test_broker_down_is_a_clear_error_and_local_fallback_only_if_asked(mini, monkeypatch):
    from compiler.remote.config import RemoteUnavailable
    from compiler.workspace import Workspace
    from core.events import ListReporter
    from core.settings import Settings

    monkeypatch.setenv("SHOWRUNNER_BROKER", "redis://127.0.0.1:1/0")
    ws = Workspace(Settings.load(mini), executor="celery")
    with pytest.raises(RemoteUnavailable, match="unreachable.*--executor local"):
        ws.build(["test/beta"])
    ws = Workspace(Settings.load(mini), reporter=ListReporter(), executor="celery", fallback="local")
    assert ws.executor is None
    assert any("building on this machine instead" in e.detail for e in ws.reporter.of("warning"))


def test_registry_listed_by_cli_api_and_studio_page(farm, capsys):
    import httpx

    from compiler.remote.executor import print_machines

    farm.start_worker("lister", models=True, extra_env={"HEYGEN_API_KEY": "hg-secret-4711"})
    farm.wait_for(["lister"])
    assert print_machines([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lister") and "model:tiny" in out and "ffmpeg" in out
    data = httpx.get(f"{farm.url}/api/machines").json()
    assert data["namespace"] == farm.ns and [m["name"] for m in data["machines"]] == ["lister"]
    m = data["machines"][0]
    assert m["cores"] >= 1 and m["ram_bytes"] > 0 and "heygen" in m["caps"]  # a key is set there...
    page = httpx.get(f"{farm.url}/").text
    assert 'id="machines"' in page and "lister" in page
    raw = b"".join(farm.redis.get(k) for k in farm.redis.scan_iter(match=f"{farm.ns}:machine:*"))
    assert b"hg-secret-4711" not in raw and "hg-secret-4711" not in page + out  # ...but the key never leaves it
    farm.kill("lister")  # gone from the registry after the heartbeat TTL (3 beats)
    deadline = time.monotonic() + 20
    while farm.machines():
        assert time.monotonic() < deadline, "a killed worker stayed in the registry"
        time.sleep(0.3)


def test_doit_build_through_a_worker_and_broker_down(farm, local_build):
    import os
    import subprocess
    import sys

    from support import REPO

    farm.start_worker("w1")
    farm.wait_for(["w1"])
    env = {**os.environ, **farm.env, "SHOWRUNNER_ROOT": str(farm.root), "PYTHONPATH": str(REPO),
           "SHOWRUNNER_EXECUTOR": "celery", "SHOWRUNNER_VERBOSE": "1"}
    cmd = [sys.executable, "-m", "doit", "-f", str(REPO / "dodo.py"), "--dir", str(farm.root)]
    res = subprocess.run(cmd + ["-n", "4", f"build:{VIDEO}"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "on w1" in res.stdout  # the per-step log names the worker
    assert outputs(farm.root) == local_build
    down = {**env, "SHOWRUNNER_BROKER": "redis://127.0.0.1:1/0"}
    res = subprocess.run(cmd + ["build", "--executor", "celery"], env=down, capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "broker at redis://127.0.0.1:1/0 is unreachable" in res.stdout + res.stderr
    assert "0 step(s) ran" in res.stdout


def test_a_step_whose_last_capable_machine_died_fails_instead_of_hanging(farm, monkeypatch):
    from compiler.execute import Engine
    from compiler.plan import Plan, Ref, Step
    from core.events import ListReporter
    from core.store import Store

    farm_renderers.register()
    monkeypatch.setenv("SHOWRUNNER_ORPHAN_S", "2")
    farm.start_worker("gpu-box", models=True)
    farm.wait_for(["gpu-box"])
    farm.kill("gpu-box")  # its registry entry lives on for up to 3 beats: the step is still sent
    (farm.root / "notes.txt").write_text("x\n")
    plan = Plan()
    plan.add(Step(id="t/m", video="t", kind="test.model", version=1, params={"text": "late"},
                  inputs={"data": Ref(file="notes.txt")}, outputs=["out.txt"]))
    engine = Engine(farm.root, plan, Store(farm.root / "cache"), reporter=ListReporter(),
                    executor=coordinator(farm).executor)
    failed = engine.build(["t/m"])  # returns (the module's pytest timeout catches a hang)
    assert "every worker able to run test.model (needs model:tiny) left while the step waited" in failed["t/m"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_worker_metrics_logs_and_the_trace_crossing_the_celery_hop(farm):
    """The coordinator's step span is the parent of the worker's span (W3C context in the task); the worker
    serves /metrics (parsed with prometheus-client's parser) and logs JSON lines with the same trace id."""
    import json
    import urllib.request

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from prometheus_client.parser import text_string_to_metric_families

    from core import observability
    from support import HttpCollector

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = observability.reporter()
    old = telemetry._provider, telemetry._tracer
    telemetry._provider, telemetry._tracer = provider, None  # this process's step spans, captured here
    port = _free_port()
    try:
        with HttpCollector() as otlp:
            farm.start_worker("w1", metrics_port=port,
                              extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
                                         "SHOWRUNNER_LOG_FORMAT": "json"})
            farm.wait_for(["w1"])
            ws = coordinator(farm)
            res = ws.build([VIDEO])
            assert res.ok, res.failed_steps
            ran = ran_on(ws)
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            executed = sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                           if s.name == "showrunner_steps_total" and s.labels.get("result") == "executed")
            assert executed == len(ran)
            deadline = time.monotonic() + 20
            while len(otlp.spans()) < len(ran) and time.monotonic() < deadline:
                time.sleep(0.2)
            worker_spans = [s for s in otlp.spans() if s.name.startswith("worker ")]
    finally:
        telemetry._provider, telemetry._tracer = old
    assert len(worker_spans) == len(ran)
    ours = {s.context.span_id: s for s in exporter.get_finished_spans() if s.name.startswith("step ")}
    for ws_span in worker_spans:  # every worker span hangs under this process's span of the same step
        parent = ours[int.from_bytes(ws_span.parent_span_id, "big")]
        assert int.from_bytes(ws_span.trace_id, "big") == parent.context.trace_id
        step = next(a.value.string_value for a in ws_span.attributes if a.key == "showrunner.step")
        assert parent.attributes["showrunner.step"] == step
    lines = [json.loads(line) for line in farm.log("w1").splitlines() if line.startswith("{")]
    logged = [r for r in lines if r.get("event") == "executed"]
    assert len(logged) == len(ran) and all(len(r["trace_id"]) == 32 and r["step"] in ran for r in logged)
