"""`doit build` starts ready steps in the engine's order (execute.start_order), not first in, first out.

doit's dispatcher keeps the tasks that can run next in a deque, `TaskDispatcher.ready`, served first in, first out:
a build's lone soundtrack became ready when its last narration finished, behind the segments whose narrations
finished before, and ran after them with the other core idle (`doit -n 2 build` of 12 clips: 15.7 s against 15.1 s
for `python -m compiler build -j 2`, which ranks its ready steps). `install()` gives every dispatcher a queue with
the deque's two operations, append and popleft, that serves the best-ranked task first: build steps by their
start order (`ranks`, filled by dodo.py's task_build), every other task (the group tasks doit walks to find the
steps, a video's write-out) ahead of them, in the order they came. Which tasks run, and after what, is still
doit's: only the choice among tasks that are ready changes.
"""
from __future__ import annotations

import heapq
import itertools
from collections import deque

# doit task name -> rank (lower starts first); tasks not named here start before any ranked one, first in first out
ranks: dict[str, tuple] = {}
_FIRST: tuple = ()  # sorts before every rank tuple


class RankedReady:
    """A stand-in for doit's deque of ready ExecNodes: append, popleft, len and truth, best rank first."""

    def __init__(self, items=()) -> None:
        self._heap: list = []
        self._seq = itertools.count()
        for node in items:
            self.append(node)

    def append(self, node) -> None:
        heapq.heappush(self._heap, (ranks.get(node.task.name, _FIRST), next(self._seq), node))

    def popleft(self):
        if not self._heap:
            raise IndexError("pop from an empty queue")
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return len(self._heap)

    def __bool__(self) -> bool:
        return bool(self._heap)


def install() -> bool:
    """Make doit's dispatchers serve ready tasks by rank (idempotent). False, and doit left as it is, if this doit
    no longer keeps its ready tasks in a deque named `ready` (its internals moved): the build still works, in
    doit's own order."""
    from doit import control

    init = control.TaskDispatcher.__init__
    if getattr(init, "_ranked", False):
        return True

    def ranked_init(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        if isinstance(getattr(self, "ready", None), deque):
            self.ready = RankedReady(self.ready)

    probe = object.__new__(control.TaskDispatcher)
    try:
        init(probe, {}, {}, [])
    except Exception:
        return False
    if not isinstance(getattr(probe, "ready", None), deque):
        return False
    ranked_init._ranked = True  # type: ignore[attr-defined]
    control.TaskDispatcher.__init__ = ranked_init
    return True
