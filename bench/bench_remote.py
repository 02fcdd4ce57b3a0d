"""Remote execution benchmarks (issue 13). One command, results as a markdown table:

    .venv/bin/python bench/bench_remote.py [--steps 1000] [--sleep-steps 16] [--sleep 0.5]

  overhead   N trivial steps (a renderer that writes a few bytes) through Celery and the studio's HTTP store,
             one worker, versus the same steps by local threads: the cost per step of crossing to a worker
             (send, queue, fetch nothing, run, upload blob + manifest, return, read back)
  cached     the same N steps again: all hits, answered by the coordinator's store without any worker
  sleep      M steps that each wait --sleep seconds (no CPU): 1 vs 2 workers, the scaling a farm gives
             when the machines have the cores
  video      the tiny sample video (test/beta: espeak + Chromium slides, 320x180) on cold caches: local threads
             -j1 and -j2, and Celery with 1 and 2 workers, each worker on its own empty cache

Everything runs on 127.0.0.1 (Redis at 6379, a namespaced key prefix removed afterwards). Results go to
bench/out/remote.md and bench/out/remote.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "remote"))

import farm_renderers  # noqa: E402
from farm import Farm  # noqa: E402
from support import BETA, BRAND, FORMATS, write  # noqa: E402

farm_renderers.register()


def mini_project(root: Path) -> Path:
    shutil.copytree(REPO / "recipes" / "templates", root / "recipes" / "templates")
    write(root / "recipes" / "formats.yaml", FORMATS)
    write(root / "recipes" / "explainer.yaml", "formats: [tiny]\n")
    write(root / "brands" / "test.yaml", BRAND)
    (root / "brands" / "media").mkdir(parents=True)
    shutil.copy(REPO / "brands" / "media" / "cosmos-logo.svg", root / "brands" / "media" / "logo.svg")
    write(root / "videos" / "test" / "beta.yaml", BETA)
    return root


def plan_of(kind: str, n: int, tag: str):
    from compiler.plan import Plan, Step

    plan = Plan()
    for i in range(n):
        plan.add(Step(id=f"b/{kind}/{i}", video="b", kind=kind, version=1, params={"text": f"{tag}-{i}"},
                      outputs=["out.txt"]))
    return plan


def run_plan(root: Path, plan, executor, jobs: int) -> tuple[float, int]:
    from compiler.execute import Engine
    from core.events import ListReporter
    from core.store import Store

    rep = ListReporter()
    engine = Engine(root, plan, Store(root / "cache"), reporter=rep, executor=executor)
    t0 = time.perf_counter()
    failed = engine.build(list(plan.steps), jobs=jobs)
    seconds = time.perf_counter() - t0
    assert not failed, list(failed.items())[:3]
    return seconds, len(rep.of("executed"))


def with_farm(tmp: Path, workers: int, fn):
    root = mini_project(tmp / f"proj-{workers}-{time.monotonic_ns()}")
    farm = Farm(root, tmp, heartbeat_s=2.0, visibility_s=600)
    os.environ.update(farm.env)
    try:
        farm.serve()
        names = [f"w{i}-{time.monotonic_ns()}" for i in range(workers)]
        for n in names:
            farm.start_worker(n, extra_env={"FARM_SLEEP_S": os.environ.get("FARM_SLEEP_S", "0.5")})
        farm.wait_for(names)
        from compiler.remote.config import RemoteConfig
        from compiler.remote.executor import CeleryExecutor

        return fn(root, CeleryExecutor(RemoteConfig.from_env()))
    finally:
        farm.close()


def work_of(root: Path) -> dict:
    """From a cold -j1 build's manifests: the steps' summed seconds and the critical path (longest chain)."""
    from compiler.workspace import Workspace
    from core.settings import Settings

    ws = Workspace(Settings.load(root))
    plan, engine = ws.plan(), ws.engine
    ids = plan.closure(plan.videos["test/beta"].steps)
    secs = {sid: (engine.store.get_manifest(engine.key(sid)[0]).get("timing") or {}).get("seconds", 0.0) for sid in ids}
    finish: dict[str, float] = {}
    for sid in ids:  # closure order: dependencies first
        finish[sid] = secs[sid] + max((finish[d] for d in plan.steps[sid].deps()), default=0.0)
    return {"n": len(ids), "total_s": sum(secs.values()), "critical_s": max(finish.values())}


def video_build(root: Path, executor_name: str | None, jobs: int) -> float:
    from compiler.workspace import Workspace
    from core.settings import Settings

    ws = Workspace(Settings.load(root), executor=executor_name)
    t0 = time.perf_counter()
    res = ws.build(["test/beta"], jobs=jobs)
    assert res.ok, res.failed_steps
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--sleep-steps", type=int, default=16)
    ap.add_argument("--sleep", type=float, default=0.5)
    a = ap.parse_args()
    os.environ["FARM_SLEEP_S"] = str(a.sleep)
    os.environ["SHOWRUNNER_PROBE_TORCH"] = "0"
    out: dict = {"cores": os.cpu_count(), "steps": a.steps}
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as d:
        tmp = Path(d)
        # local threads, the reference
        root = mini_project(tmp / "local")
        out["local_trivial_s"], _ = run_plan(root, plan_of("test.trivial", a.steps, "t"), None, jobs=4)

        def overhead(root, ex):
            plan = plan_of("test.trivial", a.steps, "t")
            cold, ran = run_plan(root, plan, ex, jobs=8)
            warm, ran2 = run_plan(root, plan, ex, jobs=8)
            assert ran == a.steps and ran2 == 0
            return cold, warm

        out["celery_trivial_s"], out["celery_cached_s"] = with_farm(tmp, 1, overhead)
        for w in (1, 2):
            out[f"sleep_{w}w_s"], _ = with_farm(tmp, w, lambda root, ex: run_plan(
                root, plan_of("test.sleep", a.sleep_steps, "s"), ex, jobs=8))
        out["video_local_j1_s"] = video_build(mini_project(tmp / "v-j1"), None, 1)
        out["work"] = work_of(tmp / "v-j1")
        out["video_local_j2_s"] = video_build(mini_project(tmp / "v-j2"), None, 2)
        for w in (1, 2):
            out[f"video_celery_{w}w_s"] = with_farm(tmp, w, lambda root, ex: video_build(root, "celery", 8))
    per = lambda k: out[k] / a.steps * 1000  # noqa: E731
    lines = [
        f"| measure | result |", "| --- | --- |",
        f"| {a.steps} trivial steps, local threads (-j4) | {out['local_trivial_s']:.1f} s ({per('local_trivial_s'):.1f} ms/step) |",
        f"| {a.steps} trivial steps through Celery + HTTP store, 1 worker | {out['celery_trivial_s']:.1f} s ({per('celery_trivial_s'):.1f} ms/step) |",
        f"| the same {a.steps} steps again (all cached, no worker asked) | {out['celery_cached_s']:.2f} s ({per('celery_cached_s'):.2f} ms/step) |",
        f"| {a.sleep_steps} steps of {a.sleep} s wait, 1 worker | {out['sleep_1w_s']:.1f} s |",
        f"| {a.sleep_steps} steps of {a.sleep} s wait, 2 workers | {out['sleep_2w_s']:.1f} s |",
        f"| test/beta cold, local -j1 | {out['video_local_j1_s']:.1f} s |",
        f"| test/beta cold, local -j2 | {out['video_local_j2_s']:.1f} s |",
        f"| test/beta cold, Celery, 1 worker | {out['video_celery_1w_s']:.1f} s |",
        f"| test/beta cold, Celery, 2 workers | {out['video_celery_2w_s']:.1f} s |",
    ]
    w, ov = out["work"], out["celery_trivial_s"] / a.steps
    lines.append(f"| test/beta work: {w['n']} steps, {w['total_s']:.1f} s summed, critical path {w['critical_s']:.1f} s | "
                 f"overhead {ov * 1000:.0f} ms/step |")
    for slots in (2, 8, 16, 32):  # on paper: machines with that many free step slots in all
        est = max(w["critical_s"], w["total_s"] / slots) + ov * w["n"] / min(slots, w["n"])
        lines.append(f"| on paper, {slots} slots (e.g. {slots // 2 if slots > 2 else 1} machine(s) x "
                     f"{2 if slots > 2 else slots} steps) | {est:.1f} s |")
    dest = REPO / "bench" / "out"
    dest.mkdir(exist_ok=True)
    (dest / "remote.md").write_text("\n".join(lines) + "\n")
    (dest / "remote.json").write_text(json.dumps(out, indent=2) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
