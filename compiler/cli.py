"""Command line: `python -m compiler check|plan|build|explain|gc|schema`. dodo.py uses the same functions."""
from __future__ import annotations

import argparse
import os
import json
import sys
import time
from pathlib import Path

from .execute import Engine, Event
from .load import load_project
from .plan import Plan, compile_plan
from .store import Store

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
    n = len(plan.videos) + len(plan.pending)
    print(f"{n} video(s) OK, {len(plan.errors)} with errors" + (f", {len(plan.pending)} awaiting a script" if plan.pending else ""))
    return 1 if plan.errors else 0


def select(plan: Plan, targets: list[str]) -> list[str]:
    if not targets:
        return sorted(plan.videos)
    out = []
    for t in targets:
        matches = [v for v in plan.videos if v == t or v.startswith(t.rstrip("/") + "/")]
        if not matches and t not in plan.errors:
            raise SystemExit(f"no video matches '{t}' (videos: {', '.join(sorted(plan.videos))})")
        out += matches
    return out


def build(targets: list[str], jobs: int = 1, root: Path = ROOT) -> int:
    s = Session(root)
    t0 = time.perf_counter()
    failures = 0
    for where, text in sorted(s.plan.errors.items()):
        if not targets or any(where == t or where.startswith(t) for t in targets):
            print(text, file=sys.stderr)
            failures += 1
    vids = select(s.plan, targets)
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
    keep = []
    for extra in _keep_digests(s):
        keep.append(extra)
    res = s.store.gc(live, keep, dry_run=dry_run)
    print(("would remove" if dry_run else "removed") +
          f" {res['actions_removed']} action(s), {res['blobs_removed']} blob(s), {res['bytes_freed'] / 1e6:.1f} MB; "
          f"kept {len(live)} live action(s)")
    return 0


def _keep_digests(s: Session) -> list[str]:
    """Blobs that later issues' consumers keep alive (none yet beyond live actions)."""
    return []


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
    if a.cmd == "schema":
        from .schema import write_schemas

        for p in write_schemas(root):
            print(p)
        return 0
    return 2
