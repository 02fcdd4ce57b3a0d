"""Animation benchmarks (issue 4, part A). One command, results as a markdown table:

    .venv/bin/python bench/bench_manim.py [--seconds 10] [--templates ...] [--cold VIDEO] [--manifest PATH]

  render   manim render time per second of output at 1080p30, per template (the whole step: process
           start, manim import, LaTeX for equations, encode), with a synthetic narration of
           --seconds seconds and three sentences
  share    the share of a cold build each renderer kind takes, from the per-step timings in a
           build manifest: either --manifest build/<brand>/<slug>/manifest.json of a build you
           ran on a fresh cache, or --cold <brand>/<slug> to build that video here on a fresh
           cache in a temporary copy of the project (jobs=1, so step timings do not overlap)

Results go to bench/out/manim.md and bench/out/manim.json.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from compiler.catalogue import manim_templates  # noqa: E402
from core.timeline import LEAD_S, scene_frames  # noqa: E402
from renderers.base import Context  # noqa: E402
from renderers.manim_scene import ManimScene, manim_versions  # noqa: E402

PALETTE = {"background": "#0b1020", "surface": "#1b2442", "text": "#e8eefc", "accent": "#ffd166", "muted": "#8b97b8"}
FONTS = {"heading": "DejaVu Sans", "body": "DejaVu Sans"}
PARAMS = {
    "title_card": {"title": "Why you can't see the Milky Way", "subtitle": "and how to get it back", "kicker": "Cosmos Daily"},
    "bullet_reveal": {"title": "A sky we have lost", "bullets": ["Over one third of people cannot see the Milky Way",
                                                                 "About 80% in Europe and North America",
                                                                 "The stars are still there"]},
    "equation": {"title": "The inverse-square law", "steps": [r"E = \frac{L}{4 \pi d^2}", r"\frac{E_2}{E_1} = \left(\frac{d_1}{d_2}\right)^2",
                                                               r"\frac{E_2}{E_1} = \frac{1}{4}"],
                 "notes": ["light spreads over a sphere", "twice as far away", "a quarter of the light"]},
    "chart": {"title": "The Bortle scale", "labels": [str(i) for i in range(1, 10)],
              "values": [7.8, 7.3, 6.8, 6.3, 5.8, 5.3, 4.8, 4.3, 4.0], "highlight": [0, 8], "format": "{:.1f}"},
    "timeline": {"title": "Losing the night", "events": [{"when": "1879", "label": "Electric street lights"},
                                                          {"when": "1950s", "label": "Sodium lamps"},
                                                          {"when": "2001", "label": "First skyglow atlas"},
                                                          {"when": "2016", "label": "LEDs everywhere"}]},
    "diagram": {"title": "How skyglow happens", "nodes": [{"id": "a", "label": "Street lamps"}, {"id": "b", "label": "Air and dust"},
                                                          {"id": "c", "label": "Glowing sky"}],
                "edges": [{"from": "a", "to": "b", "label": "light escapes"}, {"from": "b", "to": "c", "label": "scattered"}]},
}


def bench_render(templates: list[str], seconds: float, width: int, height: int, fps: int) -> list[dict]:
    rows = []
    for name in templates:
        work = Path(tempfile.mkdtemp(prefix=f"bench-manim-{name}-"))
        (work / "out").mkdir()
        (work / "scratch").mkdir()
        timings = work / "timings.json"
        step = seconds / 3
        timings.write_text(json.dumps({"duration_s": seconds, "sentences": [
            {"text": f"Sentence {i}.", "start": i * step, "end": (i + 0.85) * step} for i in range(3)]}))
        p = ManimScene.Params(template=name, params=PARAMS[name], width=width, height=height, fps=fps, pad=0.6,
                              lead=LEAD_S, palette=PALETTE, fonts=FONTS)
        ctx = Context(params=p, inputs={"source": REPO / "recipes/manim" / f"{name}.py", "timings": timings},
                      input_facts={}, out_dir=work / "out", scratch=work / "scratch", step_id=name)
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        facts = ManimScene().run(ctx)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)  # the manim process (and LaTeX)
        out_s = scene_frames(seconds, 0.6, fps, LEAD_S) / fps
        rows.append({"template": name, "output_s": round(out_s, 2), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                     "s_per_output_s": round(wall / out_s, 3), "cpu_s_per_output_s": round(cpu / out_s, 3),
                     "frames": facts["frames"]})
        print(f"  {name:14} {out_s:6.2f} s of video in {wall:6.2f} s ({cpu:6.2f} s CPU) -> {wall / out_s:.3f} s per "
              f"second ({cpu / out_s:.3f} CPU)", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def cold_build(vid: str) -> Path:
    from compiler.workspace import Workspace

    root = Path(tempfile.mkdtemp(prefix="bench-cold-")) / "proj"
    ignore = shutil.ignore_patterns("node_modules")
    for d in ("brands", "recipes"):
        shutil.copytree(REPO / d, root / d, ignore=ignore)
    if (REPO / "recipes/remotion/node_modules").is_dir():
        (root / "recipes/remotion/node_modules").symlink_to(REPO / "recipes/remotion/node_modules")
    brand, slug = vid.split("/")
    (root / "videos" / brand).mkdir(parents=True)
    for f in (REPO / "videos" / brand).glob(f"{slug}*"):
        shutil.copy(f, root / "videos" / brand / f.name)
    for sub in (REPO / "videos" / brand).iterdir():
        if sub.is_dir():
            shutil.copytree(sub, root / "videos" / brand / sub.name)
    s = Workspace.open(root)
    if vid not in s.plan().videos:
        raise SystemExit(f"{vid} does not compile: {s.plan().errors.get(vid) or s.plan().pending.get(vid)}")
    t0 = time.perf_counter()
    failed = s.engine.build(s.plan().videos[vid].steps, jobs=1)
    if failed:
        raise SystemExit(f"cold build failed: {next(iter(failed.values()))}")
    s.engine.materialize(vid)
    print(f"  cold build of {vid}: {time.perf_counter() - t0:.1f} s", flush=True)
    return root / s.plan().videos[vid].formats[0].dir / "manifest.json"


def shares(manifest: Path) -> list[dict]:
    m = json.loads(manifest.read_text())
    by_kind: dict[str, list[float]] = defaultdict(list)
    for step in m["steps"].values():
        if step.get("timing"):
            by_kind[step["kind"]].append(step["timing"]["seconds"])
    total = sum(sum(v) for v in by_kind.values())
    rows = [{"kind": k, "steps": len(v), "seconds": round(sum(v), 2), "share": round(sum(v) / total, 4)}
            for k, v in by_kind.items()]
    rows.sort(key=lambda r: -r["seconds"])
    print(f"  {m['video']} ({m['duration_s']:.1f} s of video): {total:.1f} s of step time", flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0, help="narration length per rendered template")
    ap.add_argument("--templates", nargs="*", default=None)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--cold", help="build this video (<brand>/<slug>) on a fresh cache for the share table")
    ap.add_argument("--manifest", type=Path, help="read step timings from this build manifest instead")
    ap.add_argument("--skip-render", action="store_true")
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    results = REPO / "bench/out/manim.json"
    try:  # a run that skips a part keeps the previous results of that part
        out = json.loads(results.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        out = {}
    out.update({"manim": manim_versions(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()[0]})
    if not a.skip_render:
        print(f"manim render time per second of output ({a.size}@{a.fps}):")
        rows = bench_render(a.templates or manim_templates(REPO), a.seconds, w, h, a.fps)
        out["render"] = {"size": a.size, "fps": a.fps, "seconds": a.seconds, "rows": rows,
                         "mean_s_per_output_s": round(sum(r["s_per_output_s"] for r in rows) / len(rows), 3),
                         "mean_cpu_s_per_output_s": round(sum(r["cpu_s_per_output_s"] for r in rows) / len(rows), 3)}
    manifest = a.manifest or (cold_build(a.cold) if a.cold else None)
    if manifest:
        print("share of the cold build per renderer:")
        m = json.loads(manifest.read_text())
        rows = shares(manifest)
        out["share"] = {"video": m["video"], "format": m["format"], "video_s": m["duration_s"], "rows": rows}
        for r in rows:
            print(f"  {r['kind']:20} {r['steps']:3} steps {r['seconds']:8.1f} s {r['share'] * 100:5.1f}%")
    md = [f"# Animation benchmarks\n\nmanim {out['manim']['manim']}; {out['cpus']} CPUs, load average "
          f"{out['load_avg']:.1f} at the last run\n"]
    if "render" in out:
        r = out["render"]
        md += [f"## manim render time per second of output, {r['size']} @ {r['fps']} fps\n",
               "| template | output s | wall s | CPU s | wall s per output s | CPU s per output s |",
               "|---|---:|---:|---:|---:|---:|"]
        md += [f"| {x['template']} | {x['output_s']} | {x['wall_s']} | {x['cpu_s']} | {x['s_per_output_s']} | "
               f"{x['cpu_s_per_output_s']} |" for x in r["rows"]]
        md += [f"| **mean** | | | | **{r['mean_s_per_output_s']}** | **{r['mean_cpu_s_per_output_s']}** |", ""]
    if "share" in out:
        sh = out["share"]
        total = sum(x["seconds"] for x in sh["rows"])
        md += [f"## Share of a cold build per renderer: {sh['video']} ({sh['format']}, {sh['video_s']:.0f} s of video, "
               f"{total:.0f} s of step time)\n", "| renderer | steps | seconds | share |", "|---|---:|---:|---:|"]
        md += [f"| {x['kind']} | {x['steps']} | {x['seconds']} | {x['share'] * 100:.1f}% |" for x in sh["rows"]]
    results.parent.mkdir(parents=True, exist_ok=True)
    (REPO / "bench/out/manim.md").write_text("\n".join(md) + "\n")
    results.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
