"""`doit build` starts ready steps in the engine's order (compiler/doit_order.py), through doit's own dispatcher."""
from __future__ import annotations

from collections import deque

from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from compiler import doit_order


def run_doit(tmp_path, tasks: dict, ranks: dict) -> list[str]:
    """Run `tasks` (name -> task_dep) with doit itself, one at a time; the order their actions ran in."""
    ran: list[str] = []

    def record(name: str) -> None:
        ran.append(name)

    def task_all():
        for name, deps in tasks.items():
            yield {"name": name, "actions": [(record, [name])], "task_dep": [f"all:{d}" for d in deps],
                   "uptodate": [False], "verbosity": 0}

    doit_order.ranks.clear()
    doit_order.ranks.update({f"all:{k}": v for k, v in ranks.items()})
    try:
        config = {"dep_file": str(tmp_path / "doit.json"), "backend": "json"}
        code = DoitMain(ModuleTaskLoader({"task_all": task_all, "DOIT_CONFIG": config})).run(["all"])
    finally:
        doit_order.ranks.clear()
    assert code == 0
    return ran


# three narrations, a segment on each, and a soundtrack on all three (listed last, as a video's plan lists it)
TASKS = {"seg0": ["tts0"], "seg1": ["tts1"], "seg2": ["tts2"], "sound": ["tts0", "tts1", "tts2"],
         "tts0": [], "tts1": [], "tts2": []}
# execute.start_order: the narrations (longest chain behind them), then the lone soundtrack (rarest kind), then the
# segments
RANKS = {"tts0": (-3, 3, 0), "tts1": (-3, 3, 1), "tts2": (-3, 3, 2), "sound": (-2, 1, 3),
         "seg0": (-2, 3, 4), "seg1": (-2, 3, 5), "seg2": (-2, 3, 6)}


def test_doit_starts_ready_steps_by_rank(tmp_path):
    assert doit_order.install() and doit_order.install()  # idempotent
    ran = run_doit(tmp_path, TASKS, RANKS)
    assert ran[:3] == ["tts0", "tts1", "tts2"] and ran[3] == "sound" and sorted(ran[4:]) == ["seg0", "seg1", "seg2"]


def test_without_ranks_doit_keeps_its_own_order(tmp_path):
    doit_order.install()
    ran = run_doit(tmp_path, TASKS, {})
    pos = {t: i for i, t in enumerate(ran)}
    assert all(pos[d] < pos[t] for t, deps in TASKS.items() for d in deps)
    assert pos["sound"] > pos["seg0"]  # first in, first out: the soundtrack waits behind a segment


def test_the_ranked_queue_serves_best_first_then_first_in():
    class Node:
        def __init__(self, name):
            self.task = type("T", (), {"name": name})()

    doit_order.ranks.update({"b": (1,), "c": (0,)})
    try:
        q = doit_order.RankedReady(deque([Node("b"), Node("x"), Node("c"), Node("y")]))
        assert len(q) == 4 and [q.popleft().task.name for _ in range(4)] == ["x", "y", "c", "b"] and not q
    finally:
        doit_order.ranks.clear()
