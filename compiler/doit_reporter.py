"""doit's reporter class for dodo.py (`DOIT_CONFIG["reporter"]`): one live display instead of a line per task.

doit calls it for every task; `build:` and `script:` tasks become `core.events.Event`s for the shared
`TerminalReporter` (an up-to-date step is a cache hit, a failed video task a video summary), and other
tasks report as doit's console reporter does. Imported by dodo.py only, so that importing the compiler
does not import doit.
"""
from __future__ import annotations

from doit.exceptions import UnmetDependency
from doit.reporter import ConsoleReporter

from core.events import Event
from .reporting import TerminalReporter, env_verbose


def _kind(task_name: str) -> tuple[str, str]:
    """doit task name -> (kind, id): step, video, spec, script, or other."""
    base, _, rest = task_name.partition(":")
    if base == "build" and rest:
        if rest.startswith("spec:"):
            return "spec", rest[5:]
        return ("step" if rest.count("/") >= 2 else "video"), rest
    if base in ("script", "regen") and rest:
        return ("spec", rest[5:]) if rest.startswith("spec:") else ("script", rest)
    if base in ("build", "script", "regen"):
        return "group", base
    return "other", task_name


DATA_TASKS = {"plan", "qc"}  # tasks that print JSON on stdout


def _video_of(step: str) -> str:
    return "/".join(step.split("/")[:2])


class DoitReporter(ConsoleReporter):
    """doit reporter for dodo.py: `build:` and `script:` tasks feed the shared TerminalReporter.

    Verbose (the per-step log) with `doit -v 2 build` (our tasks ask for verbosity 1, so a 2 can only come
    from the command line) or `SHOWRUNNER_VERBOSE=1`.
    """

    desc = "showrunner: one live display for build and script steps"
    _terminal: TerminalReporter | None = None
    selected: list[str] = []  # the task names doit was asked to run (dodo.py turns them into targets)

    @classmethod
    def terminal(cls) -> TerminalReporter:
        """The display shared with dodo.py's Workspace (one per process)."""
        if cls._terminal is None:
            cls._terminal = TerminalReporter(verbose=env_verbose())
        return cls._terminal

    @classmethod
    def targets(cls) -> list[str] | None:
        """The videos and brands the selected `build` tasks name; None for every video."""
        out = []
        for name in cls.selected:
            kind, ident = _kind(name)
            if kind == "group" and ident == "build":
                return None
            if kind in ("video", "step"):
                out.append(_video_of(ident))
        return out or None

    def __init__(self, outstream, options):
        super().__init__(outstream, options)
        self.term = self.terminal()
        self.seen = False

    def _ours(self, task) -> str | None:
        kind, _ = _kind(task.name)
        if kind == "other":
            return None
        self.seen = True
        if kind != "group" and task.verbosity is not None and task.verbosity >= 2:  # only `-v 2` overrides our 1
            self.term.set_verbose(True)
        return kind

    def initialize(self, tasks, selected_tasks):
        DoitReporter.selected = list(selected_tasks or [])

    def execute_task(self, task):
        kind = self._ours(task)
        if kind is None:
            if task.name in DATA_TASKS:  # stdout is data (`doit qc --json | jq`): no ".  qc" line before it
                return None
            return super().execute_task(task)
        if self.term.verbose and task.actions and kind != "step":
            self.term.line(f".  {task.title()}")

    def skip_uptodate(self, task):
        kind = self._ours(task)
        if kind is None:
            return super().skip_uptodate(task)
        _, ident = _kind(task.name)
        if kind == "step":
            self.term.emit(Event(type="hit", step=ident, video=_video_of(ident)))
        elif kind == "video":
            for sid in (task.meta or {}).get("hits", ()):  # a built video's steps, which got no task (dodo.py)
                self.term.emit(Event(type="hit", step=sid, video=_video_of(sid)))
            self.term.emit(Event(type="video", video=ident, detail="up to date"))

    def skip_ignore(self, task):
        if self._ours(task) is None:
            super().skip_ignore(task)

    def add_success(self, task):
        kind = self._ours(task)
        if kind == "video":
            self.term.emit(Event(type="video", video=_kind(task.name)[1], detail="built"))

    def add_failure(self, task, fail):
        kind = self._ours(task)
        if kind is None:
            if task.name in DATA_TASKS and fail.get_name() == "TaskFailed":  # (a crash is still shown)
                return None  # it said why on stderr; doit's "returned False" would follow the JSON on stdout
            return super().add_failure(task, fail)
        _, ident = _kind(task.name)
        message = str(getattr(fail, "message", "") or fail.get_msg()).strip()
        unmet = isinstance(fail, UnmetDependency)
        if kind == "step":
            self.term.emit(Event(type="skipped" if unmet else "failed", step=ident, video=_video_of(ident),
                                 detail=message))
        elif kind == "video":
            detail = "failed" if unmet else (message if message.startswith("pending:") else f"failed: {message}")
            self.term.emit(Event(type="video", video=ident, detail=detail))
        elif kind == "spec":
            self.term.emit(Event(type="video", video=ident, detail=f"failed: {message}"))
        elif kind == "script":
            self.term.emit(Event(type="video", video=ident, detail=f"failed: script: {message}"))

    def complete_run(self):
        if self.seen:
            self.term.emit(Event(type="finished"))
        self.term.close()
        super().complete_run()  # other tasks' failures, and doit's own errors
