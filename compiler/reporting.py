"""The terminal side of `core.events`: one live display instead of a line per step.

On a terminal, `TerminalReporter` keeps one live area (rich's progress display): steps done of total, cache
hits, failures, the running steps with their %, time elapsed and an estimate of the time left. When the run
ends the area goes and a short summary per video stays (built / failed with its first error / pending).
Warnings, retries and waits are always printed, above the live area. Not on a terminal (CI, tests, pipes) it
prints the same summary with at most one progress line every `interval` seconds. `verbose` gives the
per-step log instead (`run`, `done`, `hit`, `FAIL`, progress lines).
`compiler/doit_reporter.py` feeds the same display from doit (dodo.py).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

from core.events import Event

STEP_EVENTS = ("hit", "miss", "executed", "failed", "corrupt", "skipped", "progress")
ALERTS = ("warning", "retry", "wait")
VERBOSE_ENV = "SHOWRUNNER_VERBOSE"


def env_verbose(env=None) -> bool:
    value = (os.environ if env is None else env).get(VERBOSE_ENV, "")
    return value not in ("", "0", "false", "no")


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class TerminalReporter:
    """A `core.events.Reporter` for people. Thread-safe: the engine reports from its worker threads."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, *, verbose: bool = False,
                 live: bool | None = None, interval: float = 10.0):
        self.out = out or sys.stdout
        self._err = err  # None: sys.stderr when written (rich shows it above the live area)
        self.verbose = verbose
        self._want_live = live
        self.interval = interval
        self._lock = threading.RLock()
        self._progress = None  # rich.progress.Progress while the live area is up
        self._rows: dict[str, object] = {}
        self._reset()

    # ------------------------------------------------------------- state --
    def _reset(self) -> None:
        self.phase = ""
        self.total: int | None = None
        self.t0 = time.monotonic()
        self.done: set[str] = set()
        self.hits = self.ran = self.failed = 0
        self.seconds: list[float] = []
        self.running: dict[str, list] = {}  # step -> [fraction | None, what]
        self.parallel = 1
        self.outcomes: dict[str, str] = {}  # video -> "built ..." | "failed: ..." | "pending: ..."
        self.first_error: dict[str, str] = {}
        self._last_line = time.monotonic()
        self._last_step_line: dict[str, float] = {}

    @property
    def live(self) -> bool:
        if self.verbose:
            return False
        if self._want_live is not None:
            return self._want_live
        try:
            return self.out.isatty()
        except (AttributeError, ValueError):
            return False

    def set_verbose(self, verbose: bool = True) -> None:
        with self._lock:
            if verbose and not self.verbose:
                self._stop_live()
            self.verbose = verbose

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    def eta(self) -> float | None:
        """Seconds left: mean run time of the steps that ran, times the steps left, over the parallelism seen."""
        if not self.total or not self.seconds:
            return None
        left = max(0, self.total - len(self.done))
        return left * (sum(self.seconds) / len(self.seconds)) / max(1, self.parallel)

    def status(self) -> str:
        parts = [f"{len(self.done)}/{self.total} steps" if self.total else f"{len(self.done)} steps",
                 f"{self.hits} cached"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        parts.append(_duration(time.monotonic() - self.t0))
        eta = self.eta()
        if eta is not None and self.total and len(self.done) < self.total:
            parts.append(f"~{_duration(eta)} left")
        return " · ".join(parts)

    # -------------------------------------------------------------- emit --
    def emit(self, event: Event) -> None:
        with self._lock:
            handler = getattr(self, f"_on_{event.type}", None)
            if handler is not None:
                handler(event)
            if event.type in STEP_EVENTS:
                self._tick()

    def line(self, text: str) -> None:
        """A plain line for the user, above the live area when it is up."""
        with self._lock:
            self._line(text)

    def close(self) -> None:
        """Take the live area down (idempotent); a run that ends without `finished` leaves no display behind."""
        with self._lock:
            self._stop_live()

    def _on_plan(self, ev: Event) -> None:
        self._stop_live()
        outcomes = self.outcomes  # a build's videos keep what its script stage said
        self._reset()
        self.outcomes = outcomes
        self.phase = ev.detail.split(":", 1)[0] if ":" in ev.detail else "build"
        self.total = ev.total
        if self.verbose or not self.live:
            self._line(ev.detail)
        if self.live:
            self._start_live()

    def _on_hit(self, ev: Event) -> None:
        if self._finish(ev.step):
            self.hits += 1
            if self.verbose:
                self._line(f"  hit   {ev.step}")

    def _on_miss(self, ev: Event) -> None:
        self.running[ev.step] = [None, ""]
        self.parallel = max(self.parallel, len(self.running))
        if self.verbose:
            self._line(f"  run   {ev.step}")
        self._row(ev.step)

    def _on_progress(self, ev: Event) -> None:
        if ev.step not in self.running:
            self.running[ev.step] = [None, ""]
        self.running[ev.step] = [ev.fraction, ev.detail]
        if self.verbose:
            now = time.monotonic()
            if now - self._last_step_line.get(ev.step, 0.0) >= 2.0:
                self._last_step_line[ev.step] = now
                self._line(f"    {ev.step}: {ev.detail} {(ev.fraction or 0) * 100:3.0f}%")
        self._row(ev.step)

    def _on_executed(self, ev: Event) -> None:
        if self._finish(ev.step):
            self.ran += 1
            self.seconds.append(ev.seconds)
            if self.verbose:
                where = f", {ev.detail}" if ev.detail else ""  # a render worker's step: "on <worker>"
                self._line(f"  done  {ev.step} ({ev.seconds:.1f}s{where})")

    def _on_failed(self, ev: Event) -> None:
        if ev.video and ev.detail:
            self.first_error.setdefault(ev.video, ev.detail)
        if self._finish(ev.step):
            self.failed += 1
            if self.verbose:
                self._alert(f"  FAIL  {ev.step}: {ev.detail}")

    _on_corrupt = _on_failed

    def _on_skipped(self, ev: Event) -> None:
        if self._finish(ev.step) and self.verbose:
            self._line(f"  skip  {ev.step} (an upstream step failed)")

    def _on_warning(self, ev: Event) -> None:
        self._alert(f"warning: {ev.detail}" if not ev.step else f"warning: {ev.step}: {ev.detail}")

    def _on_retry(self, ev: Event) -> None:
        self._alert(f"retry: {ev.step}: {ev.detail}" if ev.step else f"retry: {ev.detail}")

    def _on_wait(self, ev: Event) -> None:
        self._alert(f"wait: {ev.step}: {ev.detail}" if ev.step else f"wait: {ev.detail}")

    def _on_materialized(self, ev: Event) -> None:
        if self.verbose or ev.detail.endswith(".yaml"):  # script locks are source files: always say so
            self._line(f"  wrote {ev.detail}" + ("" if ev.detail.endswith(".yaml") else "/"))

    def _on_video(self, ev: Event) -> None:
        detail = ev.detail
        if detail == "failed":  # doit: a video task whose steps failed; say which error came first
            detail = f"failed: {self.first_error.get(ev.video, 'an upstream step failed')}"
        self.outcomes[ev.video] = detail

    def _on_publish(self, ev: Event) -> None:
        self._line(f"{ev.step}: {ev.detail}" if ev.step else ev.detail)

    def _on_finished(self, ev: Event) -> None:
        self._stop_live()
        for vid, detail in sorted(self.outcomes.items()):
            status, _, rest = detail.partition(":")
            if detail.startswith(("built", "up to date")):
                self._line(f"built    {vid}" + ("  (unchanged)" if detail == "up to date" else "")
                           + (f"  {detail[6:]}" if detail.startswith("built ") else ""))
            elif status == "pending":
                self._alert(f"PENDING  {vid}: {rest.strip()}")
            else:
                self._alert(f"FAILED   {vid}: {rest.strip() or status}")
        self._line(ev.detail or self._default_summary())
        self._reset()

    def _default_summary(self) -> str:
        bad = sum(1 for d in self.outcomes.values() if not d.startswith(("built", "up to date")))
        videos = ([f"{len(self.outcomes) - bad} video(s) built"] if len(self.outcomes) > bad else []) + (
            [f"{bad} failed or pending"] if bad else [])
        steps = f"{self.ran} step(s) ran, {self.hits} cached" + (f", {self.failed} failed" if self.failed else "")
        return "; ".join(([", ".join(videos)] if videos else []) + [steps]) + f", in {time.monotonic() - self.t0:.1f}s"

    def _finish(self, step: str) -> bool:
        """Count each step once (doit and the engine may both report a failure)."""
        self.running.pop(step, None)
        self._drop_row(step)
        if step in self.done:
            return False
        self.done.add(step)
        return True

    # ------------------------------------------------------------ output --
    def _tick(self) -> None:
        if self._progress is not None:
            self._progress.update(self._overall, info=self.status(), total=self.total,
                                  completed=len(self.done))
        elif not self.verbose and self.total is None and self.live and self.running:
            self._start_live()
        elif not self.verbose and not self.live:
            now = time.monotonic()
            if now - self._last_line >= self.interval and self.done:
                self._last_line = now
                running = ", ".join(f"{s}" + (f" {f * 100:.0f}%" if f is not None else "")
                                    for s, (f, _) in list(self.running.items())[:3])
                self._line(f"  {self.status()}" + (f"; running: {running}" if running else ""))

    def _line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def _alert(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True, style="yellow")
        else:
            self.err.write(text + "\n")
            self.err.flush()

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        if self._progress is not None:
            return
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                                  BarColumn(bar_width=24), TextColumn("{task.fields[info]}", markup=False),
                                  console=Console(file=self.out), transient=True, refresh_per_second=4,
                                  redirect_stdout=False, redirect_stderr=False)  # doit swaps sys.stdout itself
        self._overall = self._progress.add_task(self.phase or "build", total=self.total, info=self.status())
        self._rows = {}
        self._progress.start()

    def _stop_live(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._rows = {}

    def _row(self, step: str) -> None:
        if self._progress is None:
            return
        frac, what = self.running.get(step, [None, ""])
        info = (f"{what} " if what else "") + (f"{frac * 100:.0f}%" if frac is not None else "")
        row = self._rows.get(step)
        if row is None:
            if len(self._rows) >= 8:  # the live area stays small; the rest still count in the totals
                return
            self._rows[step] = self._progress.add_task(f"  {step}", total=None, info=info)
        else:
            self._progress.update(row, total=1.0 if frac is not None else None, completed=frac or 0, info=info)

    def _drop_row(self, step: str) -> None:
        row = self._rows.pop(step, None)
        if row is not None and self._progress is not None:
            self._progress.remove_task(row)
