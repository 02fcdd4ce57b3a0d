"""Typed events: the engine, the script stage and the publisher report through one `Reporter`.

The terminal shows them as a live display, tests collect them in a list, and the studio server streams
the same objects over Server-Sent Events (`Event.model_dump_json()`), so every layer speaks one vocabulary.
"""
from __future__ import annotations

import time
from typing import Literal, Protocol

from pydantic import BaseModel, Field

EventType = Literal[
    # a build or stage as a whole
    "plan",          # detail: "<n> steps for <m> video(s)"; total = number of steps in the closure
    "finished",      # the build ended; detail: summary line
    # one step
    "hit",           # served from the cache
    "miss",          # not in the cache: it will run
    "executed",      # ran and was stored; seconds = wall time
    "failed",        # ran and failed, or could not run; detail = the message
    "skipped",       # not run because an upstream step failed
    "corrupt",       # a blob did not match its digest (quarantined)
    "progress",      # a running step's fraction (0..1) and what it is doing
    # always shown, never rate-limited
    "retry",         # a service call is retried; detail says why and after how long
    "wait",          # waiting for a slot, a lock, a quota window
    "warning",       # a declared fallback or anything the user should see
    # a video
    "materialized",  # build/<brand>/<slug>[/<format>] written; detail = the folder
    "video",         # a video's summary: detail = "built" | "failed: ..." | "pending: ..."
    # publishing
    "publish",       # a publish state-machine transition; detail = the new state or action
]


class Event(BaseModel):
    type: EventType
    step: str = ""            # step id (or publish unit) the event is about
    video: str = ""           # "<brand>/<slug>" when known
    key: str = ""             # action key
    kind: str = ""            # the step's renderer kind, when the event is about a step
    seconds: float = 0.0
    fraction: float | None = None  # progress events: 0..1
    total: int | None = None       # plan events: number of steps
    detail: str = ""
    at: float = Field(default_factory=time.time)


class Reporter(Protocol):
    def emit(self, event: Event) -> None: ...


class NullReporter:
    def emit(self, event: Event) -> None:
        pass


class ListReporter:
    """Collects events (tests, and the summary at the end of a build)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of(self, *types: str) -> list[Event]:
        return [e for e in self.events if e.type in types]


class Fanout:
    """One reporter feeding several (the terminal display and the studio's SSE stream, say)."""

    def __init__(self, *reporters: Reporter) -> None:
        self.reporters = list(reporters)

    def emit(self, event: Event) -> None:
        for r in self.reporters:
            r.emit(event)
