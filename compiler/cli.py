"""Command line: `python -m compiler check|plan|build|explain|gc|schema`. dodo.py uses the same functions."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .execute import Engine, Event
from .load import load_project
from .plan import Plan, compile_plan
from core.store import Store

ROOT = Path(os.environ.get("SHOWRUNNER_ROOT") or Path(__file__).resolve().parents[1])


class Session:
    """Load + compile once per process; shared by all doit tasks."""

    def __init__(self, root: Path = ROOT, quiet: bool = False):
        self.root = Path(root)
        self.project = load_project(self.root)
        self.plan: Plan = compile_plan(self.project)
        self.store = Store(self.root / "cache")
        self.engine = Engine(self.root, self.plan, self.store, on_event=None if quiet else print_event, quiet=quiet)


def print_event(ev: Event) -> None:
    if ev.type == "executed":
        print(f"  done  {ev.step} ({ev.seconds:.1f}s)", flush=True)
    elif ev.type == "miss":
        print(f"  run   {ev.step}", flush=True)
    elif ev.type in ("failed", "corrupt"):
        print(f"  FAIL  {ev.step}: {ev.detail}", file=sys.stderr, flush=True)
    elif ev.type == "materialized":
        print(f"  wrote {ev.detail}/", flush=True)


def check(root: Path = ROOT) -> int:
    project = load_project(root)
    plan = compile_plan(project)
    for where, text in sorted(plan.errors.items()):
        print(text, file=sys.stderr)
        print(file=sys.stderr)
    print_warnings(plan, sorted(plan.warnings))
    for vid, why in sorted(plan.pending.items()):
        print(f"note: {vid}: {why}", file=sys.stderr)
    n = len(plan.videos) + len(plan.pending)
    print(f"{n} video(s) OK, {len(plan.errors)} with errors" + (f", {len(plan.pending)} awaiting a script" if plan.pending else ""))
    return 1 if plan.errors else 0


def print_warnings(plan: Plan, vids) -> None:
    """Declared fallbacks (e.g. a genimage scene without an image model) are never silent."""
    for v in vids:
        for text in plan.warnings.get(v, []):
            print(f"warning: {text}", file=sys.stderr)


def select(plan: Plan, targets: list[str]) -> list[str]:
    if not targets:
        return sorted(plan.videos)
    out = []
    for t in targets:
        matches = [v for v in plan.videos if v == t or v.startswith(t.rstrip("/") + "/")]
        if not matches and t not in plan.errors and not select_pending(plan, [t]):
            raise SystemExit(f"no video matches '{t}' (videos: {', '.join(sorted(plan.videos))})")
        out += matches
    return out


def select_pending(plan: Plan, targets: list[str]) -> list[str]:
    """Videos awaiting a script (stage 1) that `targets` name."""
    return [v for v in plan.pending for t in targets if v == t or v.startswith(t.rstrip("/") + "/")]


def build(targets: list[str], jobs: int = 1, root: Path = ROOT) -> int:
    from .scriptcmd import generate_scripts

    script_failed = generate_scripts(targets, jobs, root)  # stage 1: script locks of topic-only videos
    s = Session(root)
    t0 = time.perf_counter()
    failures = len(script_failed)
    for v, why in sorted(s.plan.pending.items()):
        if v not in script_failed and (not targets or v in select_pending(s.plan, targets)):
            print(f"PENDING {v}: {why}", file=sys.stderr)
            failures += 1
    for where, text in sorted(s.plan.errors.items()):
        if not targets or any(where == t or where.startswith(t) for t in targets):
            print(text, file=sys.stderr)
            failures += 1
    vids = select(s.plan, targets)
    print_warnings(s.plan, vids)
    step_ids = [sid for v in vids for sid in s.plan.videos[v].steps]
    failed = s.engine.build(step_ids, jobs=jobs)
    for v in vids:
        bad = {k: e for k, e in failed.items() if s.plan.steps[k].video == v}
        if bad:
            failures += 1
            first = next(e for e in bad.values() if not e.startswith("skipped"))
            print(f"FAILED {v}: {first}", file=sys.stderr)
        else:
            s.engine.materialize(v)
    ran = sum(1 for e in s.engine.events if e.type == "executed")
    hits = sum(1 for e in s.engine.events if e.type == "hit")
    built = sum(1 for e in s.engine.events if e.type == "materialized")
    print(f"{built} output folder(s) written, {failures} video(s) failed; {ran} step(s) ran, {hits} cached, "
          f"in {time.perf_counter() - t0:.1f}s")
    return 1 if failures else 0


def explain(targets: list[str], root: Path = ROOT) -> int:
    s = Session(root, quiet=True)
    vids = select(s.plan, targets)
    rows = s.engine.explain([sid for v in vids for sid in s.plan.videos[v].steps])
    for r in rows:
        print(f"{r['status']:<8} {r['step']}" + (f"  [{r['key']}]" if r.get("key") else "") + (f"\n         {r['why']}" if r.get("why") else ""))
    counts = {k: sum(1 for r in rows if r["status"] == k) for k in ("hit", "miss", "pending")}
    print(f"{counts['hit']} hit, {counts['miss']} miss, {counts['pending']} pending (run after a changed upstream)")
    return 0


def gc(dry_run: bool = False, root: Path = ROOT) -> int:
    """Keep what the current specs need: every step key computable from the current plan."""
    s = Session(root, quiet=True)
    if s.plan.errors:
        print("refusing to collect garbage while specs have errors (their cache entries would be lost):", file=sys.stderr)
        for where in sorted(s.plan.errors):
            print(f"  {where}", file=sys.stderr)
        return 1
    live = set()
    for sid in s.plan.closure(list(s.plan.steps)):
        if s.engine.is_done(sid):
            live.add(s.engine.key(sid)[0])
    # generated script locks point at their script step's manifest (usage, cost, similarity): keep it
    live |= {lv.script.generated.key for lv in s.project.videos.values()
             if lv.script is not None and lv.script.generated is not None}
    res = s.store.gc(live, dry_run=dry_run)
    print(("would remove" if dry_run else "removed") +
          f" {res['actions_removed']} action(s), {res['blobs_removed']} blob(s), {res['bytes_freed'] / 1e6:.1f} MB; "
          f"kept {len(live)} live action(s)")
    return 0


def plan_json(root: Path = ROOT) -> str:
    return Session(root, quiet=True).plan.model_dump_json(indent=2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compiler")
    ap.add_argument("--root", type=Path, default=None, help="project folder (default: $SHOWRUNNER_ROOT or this repo)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    sub.add_parser("plan")
    b = sub.add_parser("build")
    b.add_argument("targets", nargs="*")
    b.add_argument("-j", "--jobs", type=int, default=1)
    e = sub.add_parser("explain")
    e.add_argument("targets", nargs="*")
    g = sub.add_parser("gc")
    g.add_argument("--dry-run", action="store_true")
    sub.add_parser("schema")
    sc = sub.add_parser("script", help="write missing or stale script locks of topic-only videos (LLM)")
    sc.add_argument("targets", nargs="*")
    sc.add_argument("-j", "--jobs", type=int, default=1)
    rg = sub.add_parser("regen", help="re-roll the generated script of topic-only videos on purpose")
    rg.add_argument("targets", nargs="+")
    im = sub.add_parser("import-script", help="import a tag-format script as videos/<brand>/<slug>.script.yaml")
    im.add_argument("file", help="tag-format text file, or - for standard input")
    im.add_argument("video", help="<brand>/<slug>")
    im.add_argument("--force", action="store_true", help="replace an existing lock")
    ex = sub.add_parser("export-script", help="print a video's script in the tag format")
    ex.add_argument("video", help="<brand>/<slug>")
    ex.add_argument("-o", "--output", default=None)
    a = ap.parse_args(argv)
    root = (a.root or ROOT).resolve()
    if a.cmd == "check":
        return check(root)
    if a.cmd == "plan":
        print(plan_json(root))
        return 0
    if a.cmd == "build":
        return build(a.targets, a.jobs, root)
    if a.cmd == "explain":
        return explain(a.targets, root)
    if a.cmd == "gc":
        return gc(a.dry_run, root)
    if a.cmd in ("script", "regen", "import-script", "export-script"):
        from . import scriptcmd

        if a.cmd == "import-script":
            return scriptcmd.import_script(a.file, a.video, a.force, root)
        if a.cmd == "export-script":
            return scriptcmd.export_script(a.video, a.output, root)
        regen = a.cmd == "regen"
        return 1 if scriptcmd.generate_scripts(a.targets, 1 if regen else a.jobs, root, reroll=regen) else 0
    if a.cmd == "schema":
        from .schema import write_schemas

        for p in write_schemas(root):
            print(p)
        return 0
    return 2
