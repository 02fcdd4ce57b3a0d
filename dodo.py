"""doit is the shell, the store is the truth: one sub-task per Plan step, `uptodate` asks the store.

    doit build                      every video        doit -n 2 build     in parallel
    doit build:<brand>/<slug>       one video          doit check          validate all specs
    doit explain [video=...]        hit/miss and why   doit gc             drop what no spec needs
    doit script                     write missing script locks of topic-only videos (runs before build)
    doit regen:<brand>/<slug>       re-roll one generated script on purpose (then doit build)
    doit -n 8 build --executor celery   steps on render workers (docs/remote.md); `--fallback local` if Redis is down
    doit worker [--store URL]       start a render worker here      doit machines   the live workers
    doit qc [--json] [--video V]    the quality gate: verdict and findings per video (docs/quality.md)

Every task goes through one `compiler.workspace.Workspace`. Build and script steps report to one live
display (`compiler.doit_reporter.DoitReporter`), not a line per task; `doit -v 2 build` (or
SHOWRUNNER_VERBOSE=1) gives the per-step log instead.
"""
from __future__ import annotations

import functools

from doit import create_after, task_params
from doit.exceptions import TaskFailed

from compiler import doit_order
from compiler.doit_reporter import DoitReporter

doit_order.install()  # ready steps start in the engine's order, not first in, first out

DOIT_CONFIG = {
    "backend": "sqlite3",
    "dep_file": ".doit.db",
    "default_tasks": ["build"],
    "continue": True,
    "verbosity": 2,
    "reporter": DoitReporter,
    "par_type": "thread",  # `-n N` runs steps in threads of this process, so they all report to one display
}
STEP_VERBOSITY = 1  # build and script steps print nothing; a 2 seen by DoitReporter means `-v 2` was given


@functools.lru_cache(maxsize=None)
def workspace():
    from compiler.workspace import Workspace
    from core.settings import Settings

    ws = Workspace(Settings.load(), reporter=DoitReporter.terminal())
    ws.one_shot = True  # doit exits after its tasks: Chromium is freed once no step left needs it
    return ws


@functools.lru_cache(maxsize=None)
def script_plan():
    return workspace().script_plan()


def _run_step(sid: str):
    from compiler.execute import StepFailed

    try:
        workspace().engine.run_step(sid)
    except StepFailed as exc:
        return TaskFailed(str(exc))
    return True


def _materialize(vid: str):
    from compiler.execute import StepFailed

    try:
        workspace().engine.materialize(vid)
    except StepFailed as exc:
        return TaskFailed(str(exc))
    return True


def _fail(text: str):
    return TaskFailed(text)


@functools.lru_cache(maxsize=None)
def _announce() -> None:
    """Tell the display how many steps the build has, and print declared fallbacks (never silent): once, when
    doit starts checking the build tasks, so `doit list` or `doit help` print nothing of the kind."""
    ws = workspace()
    try:
        ws.announce(DoitReporter.targets())
    except ValueError:
        ws.announce(None)


def _step_done(sid: str) -> bool:
    _announce()
    return workspace().engine.is_done(sid)


def _video_done(vid: str) -> bool:
    return workspace().engine.is_materialized(vid)


def _video_unchanged(vid: str) -> bool:
    """The up-to-date check of a video that `task_build` found built and written out, moments before in this
    process (nothing of this video runs in between). Its steps got no task of their own: DoitReporter reports the
    ones listed in the task's `meta` as the cache hits they are."""
    _announce()
    return True


def _write_script(sid: str):
    from compiler.execute import StepFailed

    try:
        workspace().write_script(script_plan(), sid)
    except StepFailed as exc:
        return TaskFailed(str(exc))
    workspace().reload()  # stage 2 compiles from the new lock
    return True


def _regen(vid: str):
    res = workspace().script_stage([vid], reroll=True)
    return TaskFailed(res.failed[vid]) if vid in res.failed else True


def task_script():
    """Write script locks for topic-only videos that need one (videos/<brand>/<slug>.script.yaml, by LLM)."""
    plan = script_plan()
    for sid, step in sorted(plan.steps.items()):
        yield {"name": step.video, "actions": [(_write_script, [sid])], "uptodate": [False],
               "doc": f"script lock for {step.video}", "verbosity": STEP_VERBOSITY}
    errors = {**{w: e.render() for w, e in workspace().project.errors.items()}, **plan.errors}
    for where, text in sorted(errors.items()):  # `doit script` fails while a spec has errors
        name = where if where in plan.errors or "/" in where and not where.endswith(".yaml") else f"spec:{where}"
        yield {"name": name, "actions": [(_fail, [text])], "uptodate": [False], "verbosity": STEP_VERBOSITY}


def task_regen():
    """Re-roll a generated script on purpose: `doit regen:<brand>/<slug>` rewrites its lock; then `doit build`."""
    from compiler.scriptplan import is_topic_video

    for vid, lv in sorted(workspace().project.videos.items()):
        if is_topic_video(lv):
            yield {"name": vid, "actions": [(_regen, [vid])], "uptodate": [False], "doc": f"re-roll {vid}",
                   "verbosity": STEP_VERBOSITY}


EXECUTOR_PARAMS = [
    {"name": "executor", "long": "executor", "default": "", "choices": (("", ""), ("local", ""), ("celery", "")),
     "help": "where steps run: local threads (default, or $SHOWRUNNER_EXECUTOR) or celery (render workers)"},
    {"name": "fallback", "long": "fallback", "default": "", "choices": (("", ""), ("local", "")),
     "help": "with --executor celery: build here when the broker is down (default: fail)"},
]


def _built(engine, vid: str) -> bool:
    """The video's outputs are built and written out; anything unexpected leaves it to the per-step tasks, which
    report it where it happens."""
    try:
        return engine.is_materialized(vid)
    except Exception:
        return False


def _hits_to_report(plan, unchanged: set[str], needed: set[str]) -> dict[str, list[str]]:
    """Per unchanged video, the steps of its closure that no task reports: each step once, the selected videos'
    first (so `doit build:<video>` counts all of that video's steps)."""
    selected = DoitReporter.targets()
    first = [v for v in sorted(unchanged) if selected is not None and v in selected]
    seen, out = set(needed), {}
    for vid in first + [v for v in sorted(unchanged) if v not in first]:
        acc: list[str] = []
        stack = list(reversed(plan.videos[vid].steps))
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            acc.append(sid)
            stack.extend(plan.steps[sid].deps())
        out[vid] = acc
    return out


def _start_order(plan, step_ids: list[str]) -> None:
    """The engine's start order of the steps `doit build` will run (execute.start_order), handed to doit's
    dispatcher (compiler/doit_order.py): among ready tasks, doit starts the best-ranked one."""
    from compiler.execute import start_order

    doit_order.ranks.update({f"build:{s}": r for s, r in start_order(plan, plan.closure(step_ids)).items()})


@create_after(executed="script", target_regex="build:.*")
@task_params(EXECUTOR_PARAMS)
def task_build(executor: str = "", fallback: str = ""):
    """Build videos into build/<brand>/<slug>/ (sub-task per step); `--executor celery` sends steps to workers."""
    from compiler.remote.config import RemoteUnavailable

    ws = workspace()
    ws.use_executor(executor or None, fallback or None)
    try:
        ws.executor  # the broker is asked now: a clear error before any step, not one per step
    except RemoteUnavailable as exc:
        yield {"name": "executor", "actions": [(_fail, [str(exc)])], "uptodate": [False], "verbosity": STEP_VERBOSITY}
        return
    plan = workspace().plan()
    # A video whose outputs are built and written out gets one task instead of one per step: doit's own work per
    # task (about 0.2 ms: its task objects, graph and dependency file) was half of a no-op of 1,000 videos. Its
    # steps still get tasks where a video that has work depends on them (a brand's shared QC steps).
    engine = workspace().engine
    unchanged = {vid for vid in plan.videos if _built(engine, vid)}
    needed = set(plan.closure([sid for vid, vp in plan.videos.items() if vid not in unchanged for sid in vp.steps]))
    hits = _hits_to_report(plan, unchanged, needed)
    _start_order(plan, [sid for vid, vp in plan.videos.items() if vid not in unchanged for sid in vp.steps]
                 + sorted(needed))
    for vid, vplan in sorted(plan.videos.items()):
        for sid in vplan.steps:
            if vid in unchanged and sid not in needed:
                continue
            step = plan.steps[sid]
            yield {"name": sid, "actions": [(_run_step, [sid])], "uptodate": [(_step_done, [sid])],
                   "task_dep": [f"build:{d}" for d in step.deps()], "doc": f"{step.kind}",
                   "verbosity": STEP_VERBOSITY}
        if vid in unchanged:
            yield {"name": vid, "actions": [(_materialize, [vid])], "uptodate": [(_video_unchanged, [vid])],
                   "doc": f"video {vid}", "verbosity": STEP_VERBOSITY, "meta": {"hits": hits[vid]}}
            continue
        yield {"name": vid, "actions": [(_materialize, [vid])], "uptodate": [(_video_done, [vid])],
               "task_dep": [f"build:{sid}" for sid in vplan.steps], "doc": f"video {vid}", "verbosity": STEP_VERBOSITY}
    for where, text in sorted(plan.errors.items()):
        name = where if "/" in where and not where.endswith(".yaml") else f"spec:{where}"
        yield {"name": name, "actions": [(_fail, [text])], "uptodate": [False], "verbosity": STEP_VERBOSITY}
    for vid, why in sorted(plan.pending.items()):
        yield {"name": vid, "actions": [(_fail, [f"pending: {why}"])], "uptodate": [False],
               "verbosity": STEP_VERBOSITY}


def task_check():
    """Validate every brand, recipe and video spec; errors point at file:line:col."""
    from compiler.cli import check

    def run():
        return check() == 0

    return {"actions": [run], "uptodate": [False], "verbosity": 2}


def task_explain():
    """For every step of the selected videos: cache hit or miss, and which input changed."""
    from compiler.cli import explain

    def run(video):
        return explain([video] if video else []) == 0

    return {"actions": [run], "params": [{"name": "video", "long": "video", "default": "", "help": "brand/slug"}],
            "uptodate": [False], "verbosity": 2}


def task_gc():
    """Remove cache entries that no current spec needs (dry run with --dry-run)."""
    from compiler.cli import gc

    def run(dry_run):
        return gc(dry_run) == 0

    return {"actions": [run], "params": [{"name": "dry_run", "long": "dry-run", "type": bool, "default": False}],
            "uptodate": [False], "verbosity": 2}


def task_qc():
    """The quality gate: per video, the verdict (auto-approve, flag, reject) and findings at file:line:col;
    --json for machines. Stores the results in the ledger (the studio's review queue reads them)."""
    from compiler.cli import qc

    def store(ws, res):
        import sys

        from publish.ledger import Ledger
        from publish.qcgate import store_results

        try:
            ledger = Ledger.open(ws.settings.db_url, root=ws.root)
        except Exception as exc:  # noqa: BLE001 - the report is printed; the ledger is a convenience here
            print(f"warning: QC results not stored in the ledger: {exc}", file=sys.stderr)
            return
        try:
            store_results(ledger, res.videos)
        finally:
            ledger.close()

    def run(json, video):
        return qc([video] if video else [], as_json=json, store=store) == 0

    return {"actions": [run], "uptodate": [False], "verbosity": 2, "params": [
        {"name": "json", "long": "json", "type": bool, "default": False, "help": "one JSON object per video"},
        {"name": "video", "long": "video", "default": "", "help": "brand/slug or brand (default: every video)"}]}


def task_plan():
    """Print the compiled plan as JSON (a dry run: nothing is rendered); fails while a spec has errors."""
    from compiler.cli import plan

    return {"actions": [lambda: plan() == 0], "uptodate": [False], "verbosity": 2}


def task_schema():
    """Write JSON Schemas for the specs to schemas/ (for editor completion)."""
    from compiler.schema import write_schemas

    return {"actions": [lambda: bool(write_schemas(workspace().root))], "uptodate": [False], "verbosity": 2}


# Publishing (issue 5): `doit auth:<brand>`, `doit approve`, `doit publish[:<brand>/<slug>]`, `doit analytics`.
from publish.tasks import (task_analytics, task_approve, task_auth, task_calibrate, task_learn,  # noqa: E402,F401
                           task_publish)


def task_worker():
    """Start a render worker here: `doit worker --store http://<studio>:8000 [--cache DIR] [--name N] [-c N]`."""
    def run(store, store_dir, cache, name, concurrency):
        from compiler.remote.worker import main

        args = (["--store", store] if store else []) + (["--store-dir", store_dir] if store_dir else []) + \
               (["--cache", cache] if cache else []) + (["--name", name] if name else [])
        if concurrency > 1:
            args += ["--pool", "threads", "-c", str(concurrency)]
        return main(args) == 0

    return {"actions": [(run,)], "uptodate": [False], "verbosity": 2, "params": [
        {"name": "store", "long": "store", "default": "", "help": "the studio's URL (or $SHOWRUNNER_STORE_URL)"},
        {"name": "store_dir", "long": "store-dir", "default": "", "help": "a shared folder as the store instead"},
        {"name": "cache", "long": "cache", "default": "", "help": "this worker's cache (~/.cache/showrunner-worker)"},
        {"name": "name", "long": "name", "default": "", "help": "name in the registry (host-pid)"},
        {"name": "concurrency", "short": "c", "long": "concurrency", "type": int, "default": 1,
         "help": "steps at once (threads)"}]}


def task_machines():
    """The live render workers: capabilities, cores, RAM, what each one runs (`--json` for scripts)."""
    def run(as_json):
        from compiler.remote.executor import print_machines

        return print_machines(["--json"] if as_json else []) == 0

    return {"actions": [(run,)], "uptodate": [False], "verbosity": 2,
            "params": [{"name": "as_json", "long": "json", "type": bool, "default": False}]}


def task_serve():
    """The studio: `doit serve [--host H] [--port P] [--root DIR]` (default 127.0.0.1:8000); prints the URL."""
    def run(host, port, root):
        from server.__main__ import main

        args = ["--host", host, "--port", str(port)] + (["--root", root] if root else [])
        return main(args) == 0

    return {"actions": [(run,)], "uptodate": [False], "verbosity": 2, "params": [
        {"name": "host", "long": "host", "default": "127.0.0.1", "help": "interface (a LAN address needs the token)"},
        {"name": "port", "long": "port", "type": int, "default": 8000},
        {"name": "root", "long": "root", "default": "", "help": "the project folder"}]}
