"""doit is the shell, the store is the truth: one sub-task per Plan step, `uptodate` asks the store.

    doit build                      every video        doit -n 2 build     in parallel
    doit build:<brand>/<slug>       one video          doit check          validate all specs
    doit explain [video=...]        hit/miss and why   doit gc             drop what no spec needs
    doit script                     write missing script locks of topic-only videos (runs before build)
    doit regen:<brand>/<slug>       re-roll one generated script on purpose (then doit build)
"""
from __future__ import annotations

import functools

from doit import create_after
from doit.exceptions import TaskFailed

DOIT_CONFIG = {
    "backend": "sqlite3",
    "dep_file": ".doit.db",
    "default_tasks": ["build"],
    "continue": True,
    "verbosity": 2,
}


@functools.lru_cache(maxsize=None)
def session():
    from compiler.cli import Session

    return Session()


def _run_step(sid: str):
    from compiler.execute import StepFailed

    try:
        session().engine.run_step(sid)
    except StepFailed as exc:
        return TaskFailed(str(exc))
    return True


def _materialize(vid: str):
    from compiler.execute import StepFailed

    try:
        session().engine.materialize(vid)
    except StepFailed as exc:
        return TaskFailed(str(exc))
    return True


def _fail(text: str):
    return TaskFailed(text)


def _step_done(sid: str) -> bool:
    return session().engine.is_done(sid)


def _video_done(vid: str) -> bool:
    return session().engine.is_materialized(vid)


@functools.lru_cache(maxsize=None)
def script_session():
    from compiler.cli import ROOT, print_event
    from compiler.locks import ScriptSession

    return ScriptSession(ROOT, quiet=False, on_event=print_event)


def _write_script(sid: str):
    from compiler.execute import StepFailed

    s = script_session()
    try:
        path = s.generate(sid)
    except StepFailed as exc:
        return TaskFailed(str(exc))
    print(f"  wrote {s.project.display(path)}", flush=True)
    session.cache_clear()  # stage 2 compiles from the new lock
    return True


def _regen(vid: str):
    from compiler.scriptcmd import generate_scripts

    failed = generate_scripts([vid], reroll=True)
    session.cache_clear()
    return TaskFailed(failed[vid]) if failed else True


def task_script():
    """Write script locks for topic-only videos that need one (videos/<brand>/<slug>.script.yaml, by LLM)."""
    s = script_session()
    for sid, step in sorted(s.plan.steps.items()):
        yield {"name": step.video, "actions": [(_write_script, [sid])], "uptodate": [False],
               "doc": f"script lock for {step.video}", "verbosity": 2}
    for vid, text in sorted(s.plan.errors.items()):
        yield {"name": vid, "actions": [(_fail, [text])], "uptodate": [False], "verbosity": 2}


def task_regen():
    """Re-roll a generated script on purpose: `doit regen:<brand>/<slug>` rewrites its lock; then `doit build`."""
    from compiler.scriptplan import is_topic_video

    s = script_session()
    for vid, lv in sorted(s.project.videos.items()):
        if is_topic_video(lv):
            yield {"name": vid, "actions": [(_regen, [vid])], "uptodate": [False], "doc": f"re-roll {vid}",
                   "verbosity": 2}


@create_after(executed="script", target_regex="build:.*")
def task_build():
    """Build videos into build/<brand>/<slug>/ (sub-task per step)."""
    from compiler.cli import print_warnings

    s = session()
    plan = s.plan
    print_warnings(plan, sorted(plan.warnings))  # declared fallbacks are announced, never silent
    for vid, vplan in sorted(plan.videos.items()):
        for sid in vplan.steps:
            step = plan.steps[sid]
            yield {"name": sid, "actions": [(_run_step, [sid])], "uptodate": [(_step_done, [sid])],
                   "task_dep": [f"build:{d}" for d in step.deps()], "doc": f"{step.kind}", "verbosity": 2}
        yield {"name": vid, "actions": [(_materialize, [vid])], "uptodate": [(_video_done, [vid])],
               "task_dep": [f"build:{sid}" for sid in vplan.steps], "doc": f"video {vid}", "verbosity": 2}
    for where, text in sorted(plan.errors.items()):
        if "/" in where and not where.endswith(".yaml"):
            yield {"name": where, "actions": [(_fail, [text])], "uptodate": [False], "verbosity": 2}
        else:
            yield {"name": f"spec:{where}", "actions": [(_fail, [text])], "uptodate": [False], "verbosity": 2}
    for vid, why in sorted(plan.pending.items()):
        yield {"name": vid, "actions": [(_fail, [f"{vid}: {why}"])],
               "uptodate": [False], "verbosity": 2}


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


def task_plan():
    """Print the compiled plan as JSON (a dry run: nothing is rendered)."""
    from compiler.cli import plan_json

    return {"actions": [lambda: print(plan_json()) or True], "uptodate": [False], "verbosity": 2}


def task_schema():
    """Write JSON Schemas for the specs to schemas/ (for editor completion)."""
    from compiler.schema import write_schemas
    from compiler.cli import ROOT

    return {"actions": [lambda: bool(write_schemas(ROOT))], "uptodate": [False], "verbosity": 2}


# Publishing (issue 5): `doit auth:<brand>`, `doit approve`, `doit publish[:<brand>/<slug>]`, `doit analytics`.
from publish.tasks import task_analytics, task_approve, task_auth, task_publish  # noqa: E402,F401
