"""Benchmark: save-to-playable latency of the studio's preview profile against the final render.

    .venv/bin/python bench/bench_preview.py [--video cosmos/dark-sky] [--scene 2] [--jobs 2] [--cache DIR] [--keep]

In a temporary copy of the project (its own cache/ and build/, or `--cache DIR` to reuse a warm cache between
runs), it builds the video in both profiles (the warm-up; cold the first time), then, as the studio would in
one long-running process (`Workspace.reload()` + `Workspace.build([video], jobs, profile=...)`):

1. edits one scene's narration and times until build/.preview/<video>/video.mp4 is materialized (preview);
2. then the final render of that same edit (its narration now comes from the cache: the studio's order);
3. edits the narration again and times the final render alone (narration included, like the preview in 1).

It prints the times, the ratio preview / final, and where the time goes: per step, the wall seconds each
action manifest records (cache/actions/<key>.json `timing.seconds`). Goal (issue 10): preview <= 5 s on 2
cores. Not part of the test suite; raw results in bench/out/preview.json.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from compiler.workspace import Workspace  # noqa: E402
from core.events import ListReporter  # noqa: E402

WORDS = ["truly", "really", "clearly", "simply", "surely", "plainly", "quite", "just", "still", "often"]


def copy_project(dst: Path, vid: str, cache: Path | None) -> None:
    brand, _ = vid.split("/")
    shutil.copytree(REPO / "brands", dst / "brands")
    shutil.copytree(REPO / "recipes", dst / "recipes", ignore=shutil.ignore_patterns("node_modules"))
    nm = REPO / "recipes" / "remotion" / "node_modules"
    if nm.exists():
        (dst / "recipes" / "remotion" / "node_modules").symlink_to(nm.resolve())
    shutil.copytree(REPO / "videos" / brand, dst / "videos" / brand)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (dst / "cache").symlink_to(cache.resolve())


def edit_narration(root: Path, ws: Workspace, vid: str, scene: int, n: int) -> str:
    """Insert a word into the first sentence of one scene's narration, in the spec file on disk (a save)."""
    lv = ws.project.videos[vid]
    spec = root / lv.spec.display
    words = lv.script.scenes[scene].narration.split()[:5]
    pattern = r"\s+".join(re.escape(w) for w in words)
    text = spec.read_text()
    m = re.search(pattern, text)
    if m is None:
        raise SystemExit(f"cannot find the narration of scene {scene} in {spec} (is it in a script lock?)")
    # a new text on every run (a reused --cache must not already hold it): two random words
    spec.write_text(text[:m.end()] + " " + " ".join(random.sample(WORDS, 2)) + text[m.end():])
    return " ".join(words)


def build(ws: Workspace, vid: str, jobs: int, profile: str) -> dict:
    """What the studio does after a save: forget the specs, recompile, build one video in one profile."""
    mark = len(ws.reporter.events)
    t0 = time.perf_counter()
    ws.reload()
    res = ws.build([vid], jobs=jobs, profile=profile)
    seconds = time.perf_counter() - t0
    if not res.ok:
        raise SystemExit(f"{profile} build failed: {res.failed_steps or res.errors}")
    events = ws.reporter.events[mark:]
    steps = {}
    for e in events:
        if e.type == "executed":
            m = ws.store.get_manifest(e.key) or {}
            steps[e.step] = {"kind": m.get("kind"), "seconds": (m.get("timing") or {}).get("seconds", e.seconds)}
    total = len(ws.plan(profile).videos[vid].steps)
    return {"seconds": round(seconds, 2), "ran": len(steps), "total": total, "steps": steps,
            "folders": res.outcome(vid).folders}


def describe(label: str, r: dict) -> str:
    parts = ", ".join(f"{sid.split('/', 2)[2]} {s['seconds']:.1f}s" for sid, s in r["steps"].items())
    rest = r["seconds"] - sum(s["seconds"] for s in r["steps"].values())
    return (f"{label:<34}{r['seconds']:7.2f} s  ({r['ran']}/{r['total']} steps: {parts}; "
            f"outside steps {rest:.1f}s with -j)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="cosmos/dark-sky")
    ap.add_argument("--scene", type=int, default=2, help="index of the scene whose narration is edited (a slide)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", type=Path, help="a cache folder to keep warm between runs (default: a fresh one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary project")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    root = tmp / "proj"
    copy_project(root, a.video, a.cache)
    try:
        ws = Workspace.open(root, reporter=ListReporter())
        t0 = time.perf_counter()
        warm_p = build(ws, a.video, a.jobs, "preview")
        warm_f = build(ws, a.video, a.jobs, "final")
        print(f"warm-up (both profiles):          {time.perf_counter() - t0:7.2f} s  "
              f"(preview {warm_p['seconds']:.1f} s, {warm_p['ran']} steps; final {warm_f['seconds']:.1f} s, "
              f"{warm_f['ran']} steps)", flush=True)
        phrase = edit_narration(root, ws, a.video, a.scene, 0)
        preview = build(ws, a.video, a.jobs, "preview")
        print(describe("edit -> preview materialized", preview), flush=True)
        after = build(ws, a.video, a.jobs, "final")
        print(describe("  then the final (studio order)", after), flush=True)
        edit_narration(root, ws, a.video, a.scene, 1)
        final = build(ws, a.video, a.jobs, "final")
        print(describe("edit -> final materialized", final), flush=True)
        ratio = preview["seconds"] / final["seconds"]
        print(f"ratio preview / final:            {ratio * 100:6.1f} %   "
              f"(preview {preview['seconds']:.2f} s; goal <= 5 s on 2 cores)")
        print(f"ratio (preview + final) / final:  {(preview['seconds'] + after['seconds']) / final['seconds'] * 100:6.1f} %"
              "   (the studio renders both; the final reuses the narration)")
        out = {"video": a.video, "scene": a.scene, "edited": phrase, "jobs": a.jobs, "warm_preview": warm_p,
               "warm_final": warm_f, "preview": preview, "final_after_preview": after, "final": final,
               "ratio": round(ratio, 4)}
        dest = REPO / "bench" / "out"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "preview.json").write_text(json.dumps(out, indent=1))
    finally:
        if a.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
