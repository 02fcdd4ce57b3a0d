"""Benchmark: a changed script lock -> rebuilt video, against the cold build of the same video.

    .venv/bin/python bench/bench_script_lock.py [--video kitchenlab/pasta-water] [--scene 3] [--repeat N] [--keep]

In a fresh copy of the project (its own cache/ and build/), it builds the video cold, then edits one
scene's narration in the lock (`videos/<brand>/<slug>.script.yaml`) and rebuilds, then rebuilds once
more with nothing changed. Each build is what `python -m compiler build <video>` does: stage 1
(script locks; an LLM call only if a lock is missing or stale) and stage 2 (the video). Targets:
incremental <= 10 % of cold; 0 LLM calls on a no-op rebuild (every provider client is counted).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import clients.llm as llm_clients  # noqa: E402
from compiler.locks import write_lock  # noqa: E402
from compiler.workspace import Workspace  # noqa: E402
from core.events import ListReporter  # noqa: E402
from core.spec import Script  # noqa: E402

CLIENTS: list[str] = []
_make_client = llm_clients.make_client


def counting_client(llm):
    CLIENTS.append(f"{llm.provider}:{llm.model}")
    return _make_client(llm)


llm_clients.make_client = counting_client
import renderers.script_llm as script_llm  # noqa: E402

script_llm.make_client = counting_client


def copy_project(dst: Path, vid: str) -> None:
    brand, slug = vid.split("/")
    shutil.copytree(REPO / "brands", dst / "brands")
    shutil.copytree(REPO / "recipes", dst / "recipes", ignore=shutil.ignore_patterns("node_modules"))
    src = REPO / "videos" / brand
    (dst / "videos" / brand).mkdir(parents=True)
    for p in src.iterdir():
        if p.is_dir():
            shutil.copytree(p, dst / "videos" / brand / p.name)
        elif p.name.startswith(slug + "."):
            shutil.copy2(p, dst / "videos" / brand / p.name)


def lengthen(root: Path, vid: str, repeat: int) -> int:
    """A longer variant of the lock for the length curve: every scene `repeat` times, each copy made
    unique (its own sentence and slide title) so the cold build cannot share work between copies."""
    import yaml

    brand, slug = vid.split("/")
    lock = root / "videos" / brand / f"{slug}.script.yaml"
    script = Script.model_validate(yaml.safe_load(lock.read_text()))
    scenes = []
    for k in range(repeat):
        for sc in script.scenes:
            copy = sc.model_copy(deep=True)
            if k:
                copy.narration = f"{sc.narration} That was point {k + 1}."
                copy.chapter = None
                if copy.visual.kind == "slide":
                    copy.visual.title = f"{copy.visual.title} ({k + 1})"
            scenes.append(copy)
    write_lock(lock, script.model_copy(update={"scenes": scenes}), ["synthetic, lengthened for the benchmark", ""])
    return len(scenes)


def build(root: Path, vid: str) -> dict:
    """Stage 1 + stage 2 for one video, like `python -m compiler build <vid>`; returns timings and counts."""
    calls_before = len(CLIENTS)
    t0 = time.perf_counter()
    scripts = Workspace.open(root, reporter=ListReporter())
    failed = dict(scripts.script_stage([vid]).failed)
    s = Workspace.open(root, reporter=ListReporter())
    failed.update(s.engine.build(s.plan().videos[vid].steps))
    if failed:
        raise SystemExit(f"build failed: {failed}")
    s.engine.materialize(vid)
    seconds = time.perf_counter() - t0
    ran = s.reporter.of("executed")
    return {"seconds": round(seconds, 2), "steps_ran": len(ran), "steps_total": len(s.plan().videos[vid].steps),
            "script_steps_ran": len(scripts.reporter.of("executed")),
            "llm_clients": len(CLIENTS) - calls_before, "ran": [e.step for e in ran],
            "step_seconds": {e.step: round(e.seconds, 2) for e in ran}}


def edit_lock(root: Path, vid: str, scene: int) -> str:
    brand, slug = vid.split("/")
    lock = root / "videos" / brand / f"{slug}.script.yaml"
    import yaml

    text = lock.read_text()
    header = [line[2:] if line.startswith("# ") else "" for line in text.splitlines() if line.startswith("#")]
    script = Script.model_validate(yaml.safe_load(text))
    old = script.scenes[scene].narration
    script.scenes[scene].narration = old.rstrip(".!?") + ", and that is the trick."
    write_lock(lock, script, header)
    return script.scenes[scene].narration


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="kitchenlab/pasta-water")
    ap.add_argument("--scene", type=int, default=3, help="index of the scene whose narration changes")
    ap.add_argument("--repeat", type=int, default=1,
                    help="synthetic longer variant: every scene N times (each copy unique), for the length curve")
    ap.add_argument("--keep", action="store_true", help="keep the temporary project")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lock-"))
    root = tmp / "proj"
    copy_project(root, a.video)
    if a.repeat > 1:
        print(f"synthetic variant: {lengthen(root, a.video, a.repeat)} scenes", flush=True)
    try:
        cold = build(root, a.video)
        print(f"cold build:        {cold['seconds']:7.2f} s  ({cold['steps_ran']}/{cold['steps_total']} steps, "
              f"{cold['llm_clients']} LLM client(s))", flush=True)
        edit_lock(root, a.video, a.scene)
        warm = build(root, a.video)
        print(f"edited lock:       {warm['seconds']:7.2f} s  ({warm['steps_ran']}/{warm['steps_total']} steps: "
              + ", ".join(f"{k.split('/', 2)[2]} {v:.1f}s" for k, v in warm["step_seconds"].items()) + ")", flush=True)
        noop = build(root, a.video)
        print(f"no-op rebuild:     {noop['seconds']:7.2f} s  ({noop['steps_ran']} steps, "
              f"{noop['script_steps_ran']} script steps, {noop['llm_clients']} LLM call(s))", flush=True)
        ratio = warm["seconds"] / cold["seconds"]
        print(f"ratio edited/cold: {ratio * 100:6.1f} %   (target <= 10 %)")
        print(f"LLM calls on no-op rebuild: {noop['llm_clients']}   (target 0)")
        out = {"video": a.video, "scene": a.scene, "repeat": a.repeat, "cold": cold, "edited": warm, "noop": noop,
               "ratio": round(ratio, 4)}
        (REPO / "bench" / "out").mkdir(exist_ok=True)
        name = "script_lock.json" if a.repeat == 1 else f"script_lock_x{a.repeat}.json"
        (REPO / "bench" / "out" / name).write_text(json.dumps(out, indent=1))
        return 0 if ratio <= 0.10 and noop["llm_clients"] == 0 else 1
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {root}")


if __name__ == "__main__":
    sys.exit(main())
