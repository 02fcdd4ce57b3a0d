"""The file watcher: saves under brands/, videos/ and recipes/ (media included) become `notify_changes`.

`affected_videos` maps changed paths to video ids: a spec or its script lock -> that video; a brand file ->
its videos; any other file -> the videos whose plan reads it (`Ref.file`), or, when no plan step names it
(new media, a template), the brand's videos for files under videos/<brand>/ and every video otherwise.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterable

from compiler.plan import Plan
from compiler.project import SCRIPT_SUFFIX
from compiler.workspace import select_targets

WATCHED = ("brands", "videos", "recipes")
DEBOUNCE_MS = 300


def affected_videos(paths: Iterable[Path], root: Path, plan: Plan) -> set[str] | None:
    """Video ids the changed paths affect; None means all of them."""
    ids = set(select_targets(plan, None))
    by_file: dict[str, set[str]] = {}
    for step in plan.steps.values():
        for ref in step.inputs.values():
            for r in (ref if isinstance(ref, list) else [ref]):
                if r.file:
                    by_file.setdefault(r.file, set()).add(step.video)
    out: set[str] = set()
    root = root.resolve()
    for p in paths:
        try:
            rel = Path(p).resolve().relative_to(root)
        except ValueError:
            continue
        parts = rel.parts
        if not parts or parts[0] not in WATCHED:
            continue
        name = parts[-1]
        if parts[0] == "videos" and len(parts) == 3 and name.endswith(".yaml"):
            slug = name[: -len(SCRIPT_SUFFIX)] if name.endswith(SCRIPT_SUFFIX) else name[: -len(".yaml")]
            out.add(f"{parts[1]}/{slug}")
        elif parts[0] == "brands" and len(parts) == 2 and name.endswith(".yaml"):
            out |= {v for v in ids if v.partition("/")[0] == name[: -len(".yaml")]}
        elif rel.as_posix() in by_file:
            out |= by_file[rel.as_posix()]
        elif parts[0] == "videos" and len(parts) > 2:
            out |= {v for v in ids if v.partition("/")[0] == parts[1]}
        else:
            return None
    return out


class Watcher:
    """watchfiles in a thread (debounced); stops with the app."""

    def __init__(self, root: Path, on_change: Callable[[set[Path]], None], *, debounce_ms: int = DEBOUNCE_MS):
        self.root, self.on_change, self.debounce_ms = root, on_change, debounce_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="studio-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        from watchfiles import DefaultFilter, watch

        folders = [str(self.root / d) for d in WATCHED if (self.root / d).is_dir()]
        if not folders:
            return
        for changes in watch(*folders, watch_filter=DefaultFilter(), debounce=self.debounce_ms,
                             stop_event=self._stop, yield_on_timeout=False, raise_interrupt=False):
            paths = {Path(p) for _, p in changes}
            if paths:
                self.on_change(paths)
