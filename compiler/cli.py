"""Command line: `python -m compiler check|plan|build|explain|gc|qc|script|regen|schema|...`.

A thin layer over `Workspace`: it turns typed results into text and exit codes; progress comes through the
terminal reporter. dodo.py uses the same functions for `doit check|explain|gc|plan`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from core.settings import Settings
from .remote.config import RemoteUnavailable
from .reporting import TerminalReporter, env_verbose
from .qcread import clock
from .workspace import CheckResult, QCResult, UnknownTarget, Workspace


def workspace(root: Path | str | None = None, verbose: bool = False, executor: str | None = None,
              fallback: str | None = None) -> tuple[Workspace, TerminalReporter]:
    term = TerminalReporter(verbose=verbose or env_verbose())
    ws = Workspace(Settings.load(root), reporter=term, executor=executor, fallback=fallback)
    ws.one_shot = True  # this process exits after its one command: nothing to keep Chromium warm for
    return ws, term


def print_check(res: CheckResult) -> None:
    for text in res.errors.values():
        print(text, file=sys.stderr)
        print(file=sys.stderr)
    for vid in sorted(res.warnings):  # declared fallbacks (e.g. a genimage scene without an image model) are never silent
        for text in res.warnings[vid]:
            print(f"warning: {text}", file=sys.stderr)
    for vid, why in res.pending.items():
        print(f"note: {vid}: {why}", file=sys.stderr)


def check(root: Path | str | None = None) -> int:
    res = Workspace(Settings.load(root)).check()
    print_check(res)
    print(res.summary())
    return 0 if res.ok else 1


def build(targets: list[str], jobs: int = 1, root: Path | str | None = None, verbose: bool = False,
          executor: str | None = None, fallback: str | None = None) -> int:
    """`executor`: local threads (default) or "celery" (render workers, compiler/remote)."""
    ws, term = workspace(root, verbose, executor, fallback)
    try:
        return 0 if ws.build(targets, jobs=jobs).ok else 1
    except RemoteUnavailable as exc:
        term.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        term.close()


def script(targets: list[str], jobs: int = 1, root: Path | str | None = None, reroll: bool = False,
           verbose: bool = False) -> int:
    """Stage 1 on its own: write missing or stale script locks (`reroll`: a new roll of the named videos)."""
    ws, term = workspace(root, verbose)
    try:
        return 0 if ws.script_stage(targets, jobs=jobs, reroll=reroll).ok else 1
    finally:
        term.close()


def explain(targets: list[str], root: Path | str | None = None) -> int:
    rows = Workspace(Settings.load(root)).explain(targets)
    for r in rows:
        print(f"{r.status:<8} {r.step}" + (f"  [{r.key}]" if r.key else "") + (f"\n         {r.why}" if r.why else ""))
    counts = {k: sum(1 for r in rows if r.status == k) for k in ("hit", "miss", "pending")}
    print(f"{counts['hit']} hit, {counts['miss']} miss, {counts['pending']} pending (run after a changed upstream)")
    return 0


def gc(dry_run: bool = False, root: Path | str | None = None) -> int:
    res = Workspace(Settings.load(root)).gc(dry_run=dry_run)
    if res.refused:
        print("refusing to collect garbage while specs have errors (their cache entries would be lost):", file=sys.stderr)
        for where in res.refused:
            print(f"  {where}", file=sys.stderr)
        return 1
    print(res.summary())
    return 0


def print_qc(res: QCResult) -> None:
    for v in res.videos:
        if v.verdict is None:
            print(f"{v.video}: no verdict: {v.error}", file=sys.stderr)
            continue
        counts = {s: sum(f.severity == s for f in v.findings) for s in ("error", "warning", "info")}
        formats = f" ({', '.join(f'{k}: {x}' for k, x in v.formats.items())})" if len(v.formats) > 1 else ""
        print(f"{v.video}: {v.verdict}{formats}; {counts['error']} error(s), {counts['warning']} warning(s), "
              f"{counts['info']} note(s)")
        for f in v.findings:
            at = f"scene {f.scene + 1}" if f.scene is not None else "video"
            at += f" @{clock(f.at_s)}" if f.at_s is not None else ""
            print(f"  {f.severity:<7} {f.check:<24} {at:<16} {f.where}: {f.message} [{f.reason}]")
    print(res.summary())


def qc(targets: list[str], as_json: bool = False, root: Path | str | None = None,
       store: Callable[[Workspace, QCResult], None] | None = None) -> int:
    """Per video: verdict and findings of its current build (`--json`: the machine-readable list). `store`
    (doit qc passes publish's) keeps the results in the ledger. Non-zero when a video is rejected or has no build."""
    ws = Workspace(Settings.load(root))
    try:
        res = ws.qc(targets)
    except UnknownTarget as exc:
        print(exc, file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(res.to_json(), indent=2, ensure_ascii=False))
        for v in res.videos:
            if v.verdict is None:
                print(f"{v.video}: no verdict: {v.error}", file=sys.stderr)
    else:
        print_qc(res)
    if store is not None:
        store(ws, res)
    return 0 if res.ok else 1


def plan(root: Path | str | None = None) -> int:
    """The compiled plan as JSON on stdout; non-zero (errors on stderr) while a spec has errors."""
    ws = Workspace(Settings.load(root))
    print(ws.plan().model_dump_json(indent=2))
    res = ws.check()
    if not res.ok:
        print_check(res)
        print(res.summary(), file=sys.stderr)
    return 0 if res.ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compiler")
    ap.add_argument("--root", type=Path, default=None,
                    help="project folder (default: $SHOWRUNNER_ROOT, else the nearest folder with brands/ and recipes/)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="a log line per step instead of the live display (or set SHOWRUNNER_VERBOSE=1)")
    verbose = argparse.ArgumentParser(add_help=False)  # `build -v` as well as `-v build`
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    sub.add_parser("plan")
    b = sub.add_parser("build", parents=[verbose])
    b.add_argument("targets", nargs="*")
    b.add_argument("-j", "--jobs", type=int, default=1)
    b.add_argument("--executor", choices=["local", "celery"], default=None,
                   help="where steps run: threads here (default) or render workers through Celery "
                        "(default: $SHOWRUNNER_EXECUTOR)")
    b.add_argument("--fallback", choices=["local"], default=None,
                   help="with --executor celery: build here if the broker is down (default: fail)")
    e = sub.add_parser("explain")
    e.add_argument("targets", nargs="*")
    g = sub.add_parser("gc")
    g.add_argument("--dry-run", action="store_true")
    sub.add_parser("schema")
    q = sub.add_parser("qc", help="verdict and findings of each video's current build (the quality gate)")
    q.add_argument("targets", nargs="*")
    q.add_argument("--json", action="store_true", help="one JSON object per video on stdout")
    w = sub.add_parser("worker", add_help=False, help="start a render worker here (see `worker --help`)")
    w.add_argument("rest", nargs=argparse.REMAINDER)
    m = sub.add_parser("machines", help="the live render workers and their capabilities")
    m.add_argument("--json", action="store_true")
    sc = sub.add_parser("script", parents=[verbose], help="write missing or stale script locks of topic-only videos (LLM)")
    sc.add_argument("targets", nargs="*")
    sc.add_argument("-j", "--jobs", type=int, default=1)
    rg = sub.add_parser("regen", parents=[verbose], help="re-roll the generated script of topic-only videos on purpose")
    rg.add_argument("targets", nargs="+")
    im = sub.add_parser("import-script", help="import a tag-format script as videos/<brand>/<slug>.script.yaml")
    im.add_argument("file", help="tag-format text file, or - for standard input")
    im.add_argument("video", help="<brand>/<slug>")
    im.add_argument("--force", action="store_true", help="replace an existing lock")
    ex = sub.add_parser("export-script", help="print a video's script in the tag format")
    ex.add_argument("video", help="<brand>/<slug>")
    ex.add_argument("-o", "--output", default=None)
    a = ap.parse_args(argv)
    if a.cmd == "worker":  # needs no project: a worker renders from the shared store
        from .remote.worker import main as worker_main

        return worker_main(a.rest)
    if a.cmd == "machines":
        from .remote.executor import print_machines

        return print_machines(["--json"] if a.json else [])
    root = Settings.load(a.root).root
    try:
        if a.cmd == "check":
            return check(root)
        if a.cmd == "plan":
            return plan(root)
        if a.cmd == "build":
            return build(a.targets, a.jobs, root, verbose=a.verbose, executor=a.executor, fallback=a.fallback)
        if a.cmd == "explain":
            return explain(a.targets, root)
        if a.cmd == "gc":
            return gc(a.dry_run, root)
        if a.cmd == "qc":
            return qc(a.targets, a.json, root)
        if a.cmd in ("script", "regen"):
            regen = a.cmd == "regen"
            return script(a.targets, 1 if regen else a.jobs, root, reroll=regen, verbose=a.verbose)
    except UnknownTarget as exc:
        print(exc, file=sys.stderr)
        return 2
    if a.cmd in ("import-script", "export-script"):
        from . import scriptcmd

        if a.cmd == "import-script":
            return scriptcmd.import_script(a.file, a.video, a.force, root)
        return scriptcmd.export_script(a.video, a.output, root)
    if a.cmd == "schema":
        from .schema import write_schemas

        for p in write_schemas(root):
            print(p)
        return 0
    return 2
