"""Benchmark: a FINAL rebuild after one narration edit, as a share of the cold build (issue 12, goal 2: <= 10 %).

    .venv/bin/python bench/bench_rebuild.py [--video cosmos/dark-sky] [--scene 2] [--jobs 2] [--minutes N] [--keep]

In a temporary copy of the project with a fresh cache it builds one video in the final profile (cold), then writes
a narration edit into one scene of its spec on disk (two words inserted into the first sentence, as
bench_preview.py does) and builds it again (rebuild), both through `Workspace.build(..., jobs)` in this process, the
way `doit build` and the studio run the engine. Same run, same machine, so the ratio is the measure; both wall
seconds and CPU seconds (this process and its finished child processes: ffmpeg, Piper runs in-process) are given,
the CPU ratio being the one a loaded machine does not distort. A long-lived helper that is still running at the
end (the slide renderer's Chromium) is not in the CPU figure of either build.

`--minutes N` builds a generated video of about N minutes instead: the sample's cheap scenes (slides, the still,
the clip; no manim, no generated images) repeated with a numbered sentence added to each narration, so every
scene has its own narration, segment and keys (no step is shared by two scenes), under the sample's brand and
music. Per-step seconds of the rebuild and the ratio go to stdout and bench/out/rebuild-<video>.json. Not part of the
tests.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_preview import copy_project, edit_narration  # noqa: E402
from compiler.workspace import Workspace  # noqa: E402
from core.events import ListReporter  # noqa: E402

CHEAP = {"slide", "image", "clip"}
WORDS_PER_MINUTE = 175  # Piper's bundled voice at rate 1.0 with the scenes' pauses, about (measured: 505 s for 1,500 words)


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def long_video(root: Path, vid: str, minutes: float) -> str:
    """Write videos/<brand>/long-<N>.yaml: the sample's cheap scenes repeated until about `minutes` of narration."""
    brand, slug = vid.split("/")
    spec = yaml.safe_load((root / "videos" / brand / f"{slug}.yaml").read_text())
    cheap = [s for s in spec["scenes"] if (s.get("visual") or {}).get("kind") in CHEAP]
    if not cheap:
        raise SystemExit(f"{vid} has no slide, image or clip scene to repeat")
    scenes, words, n = [], 0, 0
    while words < minutes * WORDS_PER_MINUTE:
        s = json.loads(json.dumps(cheap[n % len(cheap)]))
        n += 1
        s["narration"] = f"{s['narration'].strip()} This is part {n} of the long version."
        if n % 6 == 1:
            s["chapter"] = f"Part {n}"
        else:
            s.pop("chapter", None)
        scenes.append(s)
        words += len(s["narration"].split())
    name = f"long-{int(minutes)}"
    out = {k: v for k, v in spec.items() if k not in ("scenes", "script")}
    out["title"] = f"{spec.get('title', slug)} (long version)"[:100]
    out["scenes"] = scenes
    (root / "videos" / brand / f"{name}.yaml").write_text(yaml.safe_dump(out, sort_keys=False, allow_unicode=True))
    return f"{brand}/{name}"


def build(ws: Workspace, vid: str, jobs: int) -> dict:
    mark = len(ws.reporter.events)
    c0, t0 = cpu_seconds(), time.perf_counter()
    ws.reload()
    res = ws.build([vid], jobs=jobs, profile="final")
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if not res.ok:
        raise SystemExit(f"build failed: {res.failed_steps or res.errors}")
    steps = {}
    for e in ws.reporter.events[mark:]:
        if e.type == "executed":
            m = ws.store.get_manifest(e.key) or {}
            steps[e.step] = {"kind": m.get("kind"), "seconds": (m.get("timing") or {}).get("seconds", e.seconds)}
    plan = ws.plan("final").videos[vid]
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "ran": len(steps), "total": len(plan.steps),
            "steps": steps}


def by_kind(steps: dict) -> dict:
    out: dict[str, float] = {}
    for s in steps.values():
        out[s["kind"]] = round(out.get(s["kind"], 0.0) + s["seconds"], 2)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="cosmos/dark-sky")
    ap.add_argument("--scene", type=int, default=2, help="index of the scene whose narration is edited")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--minutes", type=float, help="build a generated video of about this length instead")
    ap.add_argument("--keep", action="store_true", help="keep the temporary project")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
    root = tmp / "proj"
    copy_project(root, a.video, None)
    try:
        vid = long_video(root, a.video, a.minutes) if a.minutes else a.video
        ws = Workspace.open(root, reporter=ListReporter())
        cold = build(ws, vid, a.jobs)
        print(f"cold build of {vid}: {cold['wall_s']:.1f} s wall, {cold['cpu_s']:.1f} s CPU, {cold['ran']} steps",
              flush=True)
        edited = edit_narration(root, ws, vid, a.scene, 0)
        rebuild = build(ws, vid, a.jobs)
        print(f"rebuild after editing scene {a.scene}'s narration: {rebuild['wall_s']:.1f} s wall, "
              f"{rebuild['cpu_s']:.1f} s CPU, {rebuild['ran']}/{rebuild['total']} steps", flush=True)
        for sid, s in rebuild["steps"].items():
            print(f"  {sid.split('/', 2)[2]:<28} {s['kind']:<20} {s['seconds']:6.2f} s")
        ratio_wall, ratio_cpu = rebuild["wall_s"] / cold["wall_s"], rebuild["cpu_s"] / cold["cpu_s"]
        print(f"rebuild / cold: {ratio_wall * 100:.1f} % wall, {ratio_cpu * 100:.1f} % CPU (goal <= 10 %)")
        video = root / "build" / vid / "video.mp4"
        duration = None
        if video.exists():
            from renderers.base import ffprobe
            duration = float(ffprobe(video)["format"]["duration"])
        out = {"video": vid, "duration_s": duration, "scene": a.scene, "edited": edited, "jobs": a.jobs,
               "cold": {**cold, "by_kind": by_kind(cold["steps"])}, "rebuild": rebuild,
               "ratio_wall": round(ratio_wall, 4), "ratio_cpu": round(ratio_cpu, 4)}
        dest = REPO / "bench" / "out"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / f"rebuild-{vid.replace('/', '_')}.json").write_text(json.dumps(out, indent=1))
        print(f"video {duration or 0:.0f} s; cold build by kind (step seconds): {out['cold']['by_kind']}")
    finally:
        if a.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
