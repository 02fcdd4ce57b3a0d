"""Publish events as the terminal lines `doit publish` prints.

The publisher and the channel checks report through a `core.events.Reporter`; the CLI, analytics
and the tests hand them a `LinePrinter` around their `out` callback. Layout:

- `publish` events with no `step` frame a unit (its first line, its outcome, a dry run's head) and
  print as they are; those with `step` (the unit or brand they happen in) are indented two spaces.
- `progress`, `retry` and `wait` lines are indented too; `warning` prints as `  warning: <detail>`.

Code that still prints lines (the YouTube client's retry messages) is connected with `lines_to`,
so its lines become events too and reach every reporter.
"""
from __future__ import annotations

from typing import Callable

from core.events import Event, EventType, Reporter

INDENT = "  "


def line_of(event: Event) -> str:
    if event.type == "warning":
        return f"{INDENT}warning: {event.detail}"
    if event.type == "publish" and not event.step:
        return event.detail
    return INDENT + event.detail


class LinePrinter:
    """A Reporter that writes each event as one line (or block) of text."""

    def __init__(self, out: Callable[[str], None] = print):
        self.out = out

    def emit(self, event: Event) -> None:
        self.out(line_of(event))


def lines_to(reporter: Reporter, step: str, type_: EventType = "retry") -> Callable[[str], None]:
    """An `out` callback whose (indented) lines are emitted as events of one type."""

    def out(line: str) -> None:
        reporter.emit(Event(type=type_, step=step, detail=line.removeprefix(INDENT)))

    return out
