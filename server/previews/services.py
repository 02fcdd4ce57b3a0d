"""The build queue: one worker thread owns the builder's Workspace, so there is never a second writer on a
cache entry; HTTP handlers and the file watcher only enqueue.

A save becomes `notify_changes(paths)`; the worker reloads the specs, records spec errors per video (the last
good build in build/ stays viewable), maps the paths to the affected videos and queues one build each. A video
has at most one queued build: a newer save supersedes a queued (not yet started) one, and a video being built
is queued again behind itself. State is derived from the store and build/ on start, so a restart mid-build
recovers (the store's writes are atomic: a killed build leaves only tmp/ garbage).
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from compiler.workspace import BuildResult, Workspace, select_targets
from core.events import Event, Fanout, Reporter
from core.settings import Settings
from core.store import atomic_write_json
from ..broker import Broker, BrokerReporter
from .schemas import BuildLogView, ChangeView, VideoState
from .watch import affected_videos

# Every save builds the fast preview first (half size, x264 ultrafast: build/.preview/) and the final render
# behind it, one after the other (they share the narration steps); a newer save supersedes the queued final.
SAVE_PROFILES: tuple[str, ...] = ("preview", "final")

BuildFn = Callable[[Workspace, str, str], BuildResult]
MAX_LOG_LINES = 400
LOGGED = ("plan", "executed", "failed", "skipped", "corrupt", "retry", "wait", "warning", "materialized", "video",
          "finished")


STUDIO_JOBS = 2


def studio_jobs(env=None) -> int:
    """Steps a studio build runs at once: `SHOWRUNNER_JOBS` (1-64), else 2, as `doit -n 2 build`. Two, not one:
    a save's final render runs the scene's segment (x264 on one thread) beside the soundtrack, which needs only
    the narration; one at a time, the render waited for the sum of the two. Not the core count: some steps
    (diffusers, manim) hold GBs each."""
    raw = (os.environ if env is None else env).get("SHOWRUNNER_JOBS", "").strip()
    if raw.isdigit() and 1 <= int(raw) <= 64:
        return int(raw)
    return STUDIO_JOBS


def default_build(ws: Workspace, video: str, profile: str) -> BuildResult:
    """The real build: the same engine and cache as `doit build`, in the preview or the final profile."""
    return ws.build([video], jobs=studio_jobs(), profile=profile)


def read_build_digest(build_root: Path, video: str) -> str:
    try:
        return json.loads((build_root / video / "manifest.json").read_text()).get("build_digest", "")
    except (OSError, ValueError, AttributeError):
        return ""


def mark_final_landed(build_root: Path, video: str) -> None:
    """A final build landed: its manifest becomes newer than any preview (views.shown_build compares the two), even
    when the final on disk did not change (a save reverted before the final of the edit ran)."""
    try:
        os.utime(build_root / video / "manifest.json")
    except OSError:
        pass


def change_of(step: str, video: str, why: str) -> ChangeView:
    """An explain miss as a change: `<vid>[/preview]/<format>/slide/01` -> scene 1, input "slide"."""
    rest = step[len(video) + 1:] if step.startswith(video + "/") else step
    parts = [p for p in rest.split("/") if p != "preview"]
    scene = int(parts[-1]) if len(parts) >= 2 and parts[-1].isdigit() else None
    name = parts[-2] if scene is not None else (parts[-1] if parts else "")
    return ChangeView(step=step, scene=scene, input=name, why=_short_why(why))


_DIGEST = r"[0-9a-f]{8,}(?:\.\.\.[0-9a-f]+)?"
_DIGEST_CHANGE = re.compile(rf"^([\w.\[\]]+): {_DIGEST} -> {_DIGEST}$")


def _short_why(why: str) -> str:
    """`inputs.audio: c778...4fb -> 18df...5d9` (an upstream output or a media file changed) reads as
    `inputs.audio changed`; parameter changes stay as explain wrote them (`params.text: old -> new`)."""
    parts = []
    for part in why.split("; "):
        m = _DIGEST_CHANGE.match(part)
        parts.append(f"{m.group(1)} changed" if m else part)
    return "; ".join(parts)


def log_line(event: Event) -> str:
    what = event.step or event.video
    text = f"{event.type:<12} {what}"
    if event.type == "executed" and event.seconds:
        text += f" ({event.seconds:.1f}s)"
    if event.detail and event.type != "materialized":
        text += f": {event.detail}"
    return text


class StateBook:
    """Every video's VideoState, thread-safe; each change goes to the broker as a `state` message.

    With `state_dir` (cache/studio/builds/), each video's last build (what changed, its log) is also kept as
    atomic JSON, `<brand>/<slug>.json`, written when a build starts and ends, so a restarted server still shows
    it; a build that was running when the server stopped reads as "interrupted"."""

    def __init__(self, broker: Broker | None = None, state_dir: Path | None = None) -> None:
        self._states: dict[str, VideoState] = {}
        self._builds: dict[str, BuildLogView] = {}
        self.project_errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self.broker = broker
        self.state_dir = state_dir

    def _build_file(self, video: str) -> Path | None:
        brand, _, slug = video.partition("/")
        if self.state_dir is None or not brand or not slug or "/" in slug or brand.startswith("."):
            return None
        return self.state_dir / brand / f"{slug}.json"

    def _save(self, b: BuildLogView) -> None:
        """Called under the lock; a failed write only costs the persistence, never the build."""
        path = self._build_file(b.video)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_json(path, b.model_dump(mode="json"))
            except OSError:
                pass

    def _load(self, video: str) -> BuildLogView | None:
        path = self._build_file(video)
        if path is None:
            return None
        try:
            b = BuildLogView.model_validate_json(path.read_text())
        except (OSError, ValueError):
            return None
        if b.video != video:
            return None
        if b.state == "building":  # the server stopped during this build
            b.state = "interrupted"
        return b

    def get(self, video: str) -> VideoState:
        with self._lock:
            return self._states.get(video, VideoState(video=video)).model_copy()

    def all(self) -> dict[str, VideoState]:
        with self._lock:
            return {k: v.model_copy() for k, v in self._states.items()}

    def update(self, video: str, **fields) -> VideoState:
        with self._lock:
            cur = self._states.get(video, VideoState(video=video))
            new = cur.model_copy(update={**fields, "updated_at": time.time()})
            self._states[video] = new
        if self.broker is not None:
            self.broker.publish("state", new.model_dump_json())
        return new

    def last_build(self, video: str) -> BuildLogView | None:
        with self._lock:
            b = self._builds.get(video)
            if b is None:
                b = self._load(video)
                if b is not None:
                    self._builds[video] = b
            return b.model_copy(deep=True) if b else None

    def begin_build(self, video: str, profile: str, changes: list[ChangeView], *, fresh: bool) -> None:
        """A build of `video` starts; `fresh`: a new save's sequence (else the next profile of the same one)."""
        with self._lock:
            b = self._builds.get(video)
            if fresh or b is None:
                b = self._builds[video] = BuildLogView(video=video, started_at=time.time())
            b.profiles.append(profile)
            b.state, b.finished_at = "building", None
            seen = {(c.scene, c.input, c.why) for c in b.changes}
            b.changes += [c for c in changes if (c.scene, c.input, c.why) not in seen]
            b.log.append(f"--- {profile} build")
            self._save(b)

    def log_event(self, video: str, event: Event) -> None:
        if event.type not in LOGGED:
            return
        with self._lock:
            b = self._builds.get(video)
            if b is not None and b.state == "building":
                b.log.append(log_line(event))
                del b.log[:-MAX_LOG_LINES]

    def end_build(self, video: str, state: str) -> None:
        with self._lock:
            b = self._builds.get(video)
            if b is not None:
                b.state, b.finished_at = state, time.time()
                self._save(b)

    def forget(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        with self._lock:
            for v in [v for v in self._states if v not in keep]:
                del self._states[v]


class _ProgressTracker:
    """Turns the engine's step events into the running video's `building` fraction."""

    def __init__(self, book: StateBook) -> None:
        self.book = book
        self.video = ""
        self.total = 0
        self.done = 0

    def start(self, video: str) -> None:
        self.video, self.total, self.done = video, 0, 0

    def emit(self, event: Event) -> None:
        if not self.video:
            return
        self.book.log_event(self.video, event)
        if event.type == "plan" and event.total:
            self.total, self.done = event.total, 0
        elif event.type in ("hit", "executed", "failed", "skipped") and self.total:
            self.done += 1
            self.book.update(self.video, fraction=round(min(self.done / self.total, 1.0), 3))


@dataclass
class BuildRequest:
    profiles: tuple[str, ...]
    generation: int
    reason: str = "save"
    first: bool = True  # False: the rest of a save's sequence (the final behind its preview)


@dataclass
class QueueStats:
    builds: int = 0
    superseded: int = 0
    history: list[tuple[str, str, int]] = field(default_factory=list)  # (video, profile, generation) started


class BuildQueue:
    def __init__(self, settings: Settings, book: StateBook, *, broker: Broker | None = None,
                 build_fn: BuildFn | None = None, reporter: Reporter | None = None,
                 on_built: Callable[[str, str], None] | None = None, warm: bool | None = None,
                 on_landed: Callable[[str | None], None] | None = None) -> None:
        self.settings = settings
        self.on_built = on_built  # (video, profile) after a good build, e.g. queue its scene thumbnails
        # a final build landed in build/ (the video), or the scan saw what build/ holds (None): read its QC report,
        # before the video's "built" state goes out, so a page that reloads on it sees the verdict
        self.on_landed = on_landed
        self.warm = build_fn is None if warm is None else warm  # warm the real renderers (not a test's fake build)
        self.book = book
        self.broker = broker
        self.build_fn = build_fn or default_build
        self._tracker = _ProgressTracker(book)
        sinks: list[Reporter] = [self._tracker]
        if broker is not None:
            sinks.append(BrokerReporter(broker))
        if reporter is not None:
            sinks.append(reporter)
        self.ws = Workspace(settings, reporter=Fanout(*sinks))
        self._cond = threading.Condition()
        self._queue: OrderedDict[str, BuildRequest] = OrderedDict()
        self._changes: set[Path] = set()
        self._scan = False
        self._stopping = False
        self._busy = False
        self._warmed = False
        self._generation = 0
        self.running: str | None = None
        self.stats = QueueStats()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control --
    def start(self, scan: bool = True) -> None:
        if scan:
            self.rescan()
        self._thread = threading.Thread(target=self._loop, name="studio-builder", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops after the build in progress (a killed build would be safe too: the store writes atomically)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def rescan(self) -> None:
        with self._cond:
            self._scan = True
            self._cond.notify_all()

    def notify_changes(self, paths: Iterable[Path | str]) -> None:
        with self._cond:
            self._changes |= {Path(p) for p in paths}
            self._cond.notify_all()

    def request(self, videos: Iterable[str], *, profiles: tuple[str, ...] | None = None, reason: str = "save") -> dict[str, bool]:
        """Queue a build of each video; returns video -> True when it superseded a queued build."""
        out = {}
        with self._cond:
            for vid in videos:
                self._generation += 1
                superseded = self._queue.pop(vid, None) is not None
                if superseded:
                    self.stats.superseded += 1
                self._queue[vid] = BuildRequest(profiles or SAVE_PROFILES, self._generation, reason)
                out[vid] = superseded
            self._cond.notify_all()
        for vid in out:
            if self.running != vid:
                self.book.update(vid, state="queued", fraction=None)
        return out

    def queued(self) -> list[str]:
        with self._cond:
            return list(self._queue)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once nothing is queued, running or waiting to be mapped (tests; shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._changes or self._scan or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    # ------------------------------------------------------------- worker --
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not (self._stopping or self._queue or self._changes or self._scan):
                    self._cond.wait()
                if self._stopping:
                    return
                changes, self._changes = self._changes, set()
                scan, self._scan = self._scan, False
                self._busy = True
            try:
                if scan or changes:
                    self._refresh(changes, scan)
                    continue
                with self._cond:
                    if not self._queue:
                        continue
                    vid, req = self._queue.popitem(last=False)
                    self.running = vid
                self._run(vid, req)
            except Exception as exc:  # the server keeps going whatever a build does
                self.book.project_errors["studio"] = f"internal error in the build worker: {exc!r}"
            finally:
                with self._cond:
                    self.running = None
                    self._busy = False
                    self._cond.notify_all()

    def _refresh(self, changes: set[Path], scan: bool) -> None:
        """Reload the specs, record spec errors per video, queue the videos the changes affect."""
        self.ws.reload()
        plan = self.ws.plan()
        if scan and self.warm:
            self._warm_voices(plan)
        ids = select_targets(plan, None)
        self.book.forget(ids)
        self.book.project_errors = {w: t for w, t in plan.errors.items() if w not in ids}
        build_root = self.settings.build
        for vid in ids:
            digest = read_build_digest(build_root, vid)
            if vid in plan.errors:
                self.book.update(vid, state="error", error=plan.errors[vid], build_digest=digest, fraction=None)
            elif vid in plan.pending and not digest:
                self.book.update(vid, state="pending", error=plan.pending[vid], fraction=None)
            elif scan:
                stale = not digest or (vid in plan.videos and not self.ws.engine.is_materialized(vid))
                self.book.update(vid, state="built" if digest else "not-built", stale=bool(digest) and stale,
                                 build_digest=digest, error="", fraction=None)
            elif self.book.get(vid).state == "error":  # fixed: no longer an error, rebuilt below if affected
                self.book.update(vid, state="built" if digest else "not-built", error="", stale=True)
        if changes:
            hit = affected_videos(changes, self.settings.root, plan)
            targets = ids if hit is None else sorted(v for v in hit if v in ids)
            buildable = [v for v in targets if v not in plan.errors]
            if buildable:
                self.request(buildable, reason="save")
        if scan:
            self._landed(None)

    def _landed(self, video: str | None) -> None:
        if self.on_landed is not None:
            try:
                self.on_landed(video)
            except Exception as exc:  # the build stands; the QC shows once it can be read
                self.book.project_errors["qc"] = f"could not store the QC report: {exc!r}"

    def _warm_voices(self, plan) -> None:
        """Load the bundled Piper voices the project's narration uses, in the background, once: the first save's
        narration then does not pay for loading a voice (issue 10's save-to-playable goal)."""
        if self._warmed:
            return
        self._warmed = True
        seeds = sorted({int(s.params.get("seed", 0)) for s in plan.steps.values()
                        if s.kind == "tts.piper" and "model" not in s.inputs})
        if not seeds:
            return

        def load() -> None:
            try:
                from renderers.tts_piper import warm

                for seed in seeds:
                    warm(seed=seed)
            except Exception:  # a warm-up is a nicety: the build loads the voice (and reports any problem) itself
                pass

        threading.Thread(target=load, name="studio-warm-voices", daemon=True).start()

    def _what_changed(self, vid: str, profile: str) -> list[ChangeView]:
        """What changed since the previous build: the explain misses of this build (hits and the steps pending
        behind a miss are not changes; a step whose upstream output changed is listed with its inputs)."""
        try:
            # a preview never built before is no change (the final's explain names new scenes)
            return [change_of(r.step, vid, r.why) for r in self.ws.explain([vid], profile=profile)
                    if r.status == "miss" and not (profile == "preview" and r.why == "never built")]
        except Exception:  # explain is a nicety; the build reports any real problem
            return []

    def _run(self, vid: str, req: BuildRequest) -> None:
        profile, rest = req.profiles[0], req.profiles[1:]
        self.stats.builds += 1
        self.stats.history.append((vid, profile, req.generation))
        self.book.update(vid, state="building", fraction=0.0, profile=profile)
        self.book.begin_build(vid, profile, self._what_changed(vid, profile), fresh=req.first)
        self._tracker.start(vid)
        try:
            result = self.build_fn(self.ws, vid, profile)
        except Exception as exc:
            result = None
            error = f"{exc.__class__.__name__}: {exc}"
        finally:
            self._tracker.start("")
        digest = read_build_digest(self.settings.build, vid)
        if result is None:
            self.book.update(vid, state="failed", error=error, fraction=None, build_digest=digest)
        else:
            try:
                outcome = result.outcome(vid)
                status, error = outcome.status, outcome.error
            except StopIteration:
                status, error = "failed", result.errors.get(vid, "the build did not report on this video")
            if vid in result.errors:
                self.book.update(vid, state="error", error=result.errors[vid], fraction=None, build_digest=digest)
            elif status == "built":
                if profile == "final":
                    mark_final_landed(self.settings.build, vid)
                    self._landed(vid)
                self.book.update(vid, state="built", error="", fraction=None, stale=bool(rest),
                                 build_digest=digest)
                if self.on_built is not None:
                    try:
                        self.on_built(vid, profile)
                    except Exception:  # thumbnails are a nicety
                        pass
            else:
                self.book.update(vid, state=status, error=error, fraction=None, build_digest=digest)
        self.book.end_build(vid, self.book.get(vid).state)
        if rest:
            with self._cond:
                if vid not in self._queue:  # a newer save supersedes the rest of this sequence
                    self._queue[vid] = BuildRequest(rest, req.generation, req.reason, first=False)
                    self._cond.notify_all()
