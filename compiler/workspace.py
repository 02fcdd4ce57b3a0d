"""One start-up point for everything that drives the compiler: the CLI, doit, the tests and (later) the server.

`Workspace(settings, reporter)` loads and compiles once, owns the one Store and builds every Engine, and
answers each command with a typed result. It never prints: progress, warnings, retries and waits go to the
reporter as `core.events.Event`s (the terminal shows them live, tests collect them, the server streams
them). A thin command layer turns results into text and exit codes (DVC's `Repo` under its CLI).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable, Literal, Sequence

from pydantic import BaseModel, Field

from core import observability
from core.events import Event, EventType, Fanout, NullReporter, Reporter
from core.qc import QCReport
from core.settings import Settings
from core.remote_store import open_store
from .execute import Engine, StepFailed
from .load import Project, load_project
from .locks import write_generated_lock
from .plan import Plan, Profile, compile_plan
from .qcread import locate
from .scriptplan import compile_script_plan


# ----------------------------------------------------------- selection --

class UnknownTarget(ValueError):
    """A target names no video: neither an id nor a brand."""


def _video_ids(plan: Plan) -> set[str]:
    """Every video the plan knows of: compiled, awaiting a script, or with spec errors (keyed by id)."""
    return set(plan.videos) | set(plan.pending) | {w for w in plan.errors if _is_video_id(w)}


def _is_video_id(where: str) -> bool:
    return where.count("/") == 1 and not where.endswith(".yaml")


def select_targets(plan: Plan | Iterable[str], targets: Sequence[str] | None) -> list[str]:
    """The video ids that `targets` name, sorted: each target is an exact id (`cosmos/dark-sky`) or a
    brand (`cosmos` or `cosmos/`, never a mere prefix: `kitchen` does not select `kitchenlab/x`).
    No targets selects every video. A target that names nothing raises UnknownTarget."""
    ids = _video_ids(plan) if isinstance(plan, Plan) else {i for i in plan if _is_video_id(i)}
    if not targets:
        return sorted(ids)
    out: set[str] = set()
    for t in targets:
        brand = t[:-1] if t.endswith("/") else t
        hits = {v for v in ids if v == t} if "/" in brand else {v for v in ids if v.partition("/")[0] == brand}
        if not hits:
            known = ", ".join(sorted(ids)) or "none"
            raise UnknownTarget(f"no video matches '{t}' (give <brand>/<slug> or <brand>; videos: {known})")
        out |= hits
    return sorted(out)


# ------------------------------------------------------------- results --

class CheckResult(BaseModel):
    ok_videos: list[str] = Field(default_factory=list)             # compile cleanly
    errors: dict[str, str] = Field(default_factory=dict)           # video id or file -> rendered diagnostics
    pending: dict[str, str] = Field(default_factory=dict)          # video id -> why it awaits a script
    warnings: dict[str, list[str]] = Field(default_factory=dict)   # video id -> declared fallbacks

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        n = len(self.ok_videos) + len(self.pending)
        return (f"{n} video(s) OK, {len(self.errors)} with errors"
                + (f", {len(self.pending)} awaiting a script" if self.pending else ""))


class ScriptResult(BaseModel):
    written: dict[str, str] = Field(default_factory=dict)  # video id -> lock path relative to the root
    generated: int = 0                                      # locks that needed the LLM (the rest came from the cache)
    failed: dict[str, str] = Field(default_factory=dict)   # video id -> error (spec problems included)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"{len(self.written)} script lock(s) written ({self.generated} generated, "
                f"{len(self.written) - self.generated} from the cache), {len(self.failed)} failed")


class VideoOutcome(BaseModel):
    video: str
    status: Literal["built", "failed", "pending"]
    error: str = ""                                 # failed: the first error; pending: why
    folders: list[str] = Field(default_factory=list)  # build/<brand>/<slug>[/<format>] written


class BuildResult(BaseModel):
    videos: list[VideoOutcome] = Field(default_factory=list)
    errors: dict[str, str] = Field(default_factory=dict)        # spec errors in the selection (files included)
    failed_steps: dict[str, str] = Field(default_factory=dict)  # step id -> error (or "skipped: ...")
    script: ScriptResult | None = None                          # stage 1, when it had work
    ran: int = 0
    cached: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and all(v.status == "built" for v in self.videos)

    def outcome(self, video: str) -> VideoOutcome:
        return next(v for v in self.videos if v.video == video)

    def summary(self) -> str:
        built = sum(len(v.folders) for v in self.videos)
        bad = sum(1 for v in self.videos if v.status != "built") + sum(1 for w in self.errors if not _is_video_id(w))
        return (f"{built} output folder(s) written, {bad} video(s) failed; {self.ran} step(s) ran, "
                f"{self.cached} cached, in {self.seconds:.1f}s")


class ExplainRow(BaseModel):
    step: str
    status: Literal["hit", "miss", "pending"]
    key: str = ""   # first 12 hex digits of the action key, when it can be computed
    why: str = ""   # miss: which parts of the key changed; pending: what it waits for


class GcResult(BaseModel):
    dry_run: bool = False
    refused: list[str] = Field(default_factory=list)  # specs with errors: gc removes nothing while there are any
    actions_removed: int = 0
    blobs_removed: int = 0
    bytes_freed: int = 0
    live: int = 0

    @property
    def ok(self) -> bool:
        return not self.refused

    def summary(self) -> str:
        if self.refused:
            return ("refusing to collect garbage while specs have errors (their cache entries would be lost): "
                    + ", ".join(self.refused))
        return (("would remove" if self.dry_run else "removed") +
                f" {self.actions_removed} action(s), {self.blobs_removed} blob(s), {self.bytes_freed / 1e6:.1f} MB; "
                f"kept {self.live} live action(s)")


class QCFindingView(BaseModel):
    """One finding as `doit qc` shows it: core.qc.Finding plus where it is in the specs (file:line:col)."""

    check: str
    scene: int | None = None
    at_s: float | None = None
    severity: str
    reason: str
    message: str
    where: str | None = None
    format: str = ""


class QCVideoView(BaseModel):
    """A video's quality gate: the worst verdict over its formats, and every finding (once, with the first
    format that reported it). `verdict` is None when the video has no current build to judge (`error` says why)."""

    video: str
    verdict: Literal["auto-approve", "flag", "reject"] | None = None
    formats: dict[str, str] = Field(default_factory=dict)        # format -> verdict
    units: dict[str, str] = Field(default_factory=dict)          # format -> publish unit key
    build_digests: dict[str, str] = Field(default_factory=dict)  # format -> build digest
    reports: dict[str, QCReport] = Field(default_factory=dict)   # format -> the full qc.json
    findings: list[QCFindingView] = Field(default_factory=list)
    error: str = ""

    def to_json(self) -> dict:
        return {"video": self.video, "verdict": self.verdict,
                "findings": [f.model_dump(exclude={"format"} if len(self.formats) < 2 else set())
                             for f in self.findings]}


class QCResult(BaseModel):
    videos: list[QCVideoView] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every selected video has a verdict and none is a reject."""
        return all(v.verdict not in (None, "reject") for v in self.videos)

    def to_json(self) -> list[dict]:
        """`doit qc --json`: one object per judged video (videos without a build are left out)."""
        return [v.to_json() for v in self.videos if v.verdict is not None]

    def summary(self) -> str:
        counts = {k: sum(v.verdict == k for v in self.videos) for k in ("auto-approve", "flag", "reject")}
        missing = sum(v.verdict is None for v in self.videos)
        return (f"qc: {counts['auto-approve']} auto-approve, {counts['flag']} flag, {counts['reject']} reject"
                + (f", {missing} without a build" if missing else ""))


class _Tally:
    """The Workspace's own view of the engine's events (what ran, what failed first), progress left out."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        if event.type != "progress":
            self.events.append(event)


# ----------------------------------------------------------- workspace --

class Workspace:
    def __init__(self, settings: Settings, reporter: Reporter | None = None, executor: str | None = None,
                 fallback: str | None = None):
        """`executor`: "local" (threads in this process, the default) or "celery" (render workers; default from
        $SHOWRUNNER_EXECUTOR); `fallback="local"` builds here when the broker is down instead of failing."""
        self.settings = settings
        self.root: Path = settings.root
        self.reporter: Reporter = reporter or NullReporter()
        self.store = open_store(settings.cache, settings.env)  # plain, or in front of $SHOWRUNNER_STORE_URL/_DIR
        self.executor_name = executor or settings.env.get("SHOWRUNNER_EXECUTOR") or "local"
        self.fallback = fallback
        # True in a process that builds once and exits (the command line, doit): shared resources (Chromium) are
        # freed as soon as no step left needs them, never kept warm for a next build (Engine.one_shot)
        self.one_shot = False
        self._executor = None
        self._executor_ready = False
        self._tally = _Tally()
        self._telemetry = observability.reporter()  # metrics, traces, logs (core/observability.py)
        self._project: Project | None = None
        self._plans: dict[str, Plan] = {}
        self._engines: dict[int, Engine] = {}

    @classmethod
    def open(cls, root: Path | str | None = None, reporter: Reporter | None = None) -> "Workspace":
        return cls(Settings.load(root), reporter)

    # ------------------------------------------------------- load, compile --
    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = load_project(self.root)
        return self._project

    def plan(self, profile: Profile = "final") -> Plan:
        """Stage 2: every video with a script, compiled once per profile (call `reload()` after the specs
        change). `preview` is the studio's fast preview: reduced size, cheap encoders, its own step ids and
        keys, materialized under build/.preview/; its narration steps are the final plan's (shared keys)."""
        if profile not in self._plans:
            self._plans[profile] = compile_plan(self.project, profile)
        return self._plans[profile]

    @property
    def engine(self) -> Engine:
        """The engine of `plan()`."""
        return self.engine_for(self.plan())

    def engine_for(self, plan: Plan) -> Engine:
        """The one place an Engine is made: this workspace's store, root and reporter."""
        engine = self._engines.get(id(plan))
        if engine is None or engine.plan is not plan:
            engine = Engine(self.root, plan, self.store, reporter=Fanout(self._tally, self.reporter, self._telemetry),
                            executor=self.executor)
            self._engines[id(plan)] = engine
        engine.one_shot = self.one_shot
        return engine

    @property
    def executor(self):
        """None (local threads) or the Celery executor (compiler/remote); `RemoteUnavailable` when the broker is
        down and no local fallback was asked for."""
        if not self._executor_ready:
            if self.executor_name != "local":
                from .remote.executor import make_executor

                self._executor = make_executor(self.executor_name, self.fallback, self.settings.env,
                                               warn=lambda text: self.emit("warning", detail=text))
            self._executor_ready = True
        return self._executor

    def use_executor(self, name: str | None, fallback: str | None = None) -> None:
        """Switch the executor of the engines made from now on (doit's `build --executor`)."""
        self.executor_name = name or self.settings.env.get("SHOWRUNNER_EXECUTOR") or "local"
        self.fallback = fallback
        self._executor, self._executor_ready, self._engines = None, False, {}

    def jobs(self, jobs: int) -> int:
        """Steps in flight: `jobs` here; with render workers, at least one per worker slot (threads only wait)."""
        return max(jobs, self.executor.parallelism()) if self.executor is not None else jobs

    def reload(self) -> None:
        """Forget the loaded specs and plans (a script lock was written, a spec was edited)."""
        self._project, self._plans, self._engines = None, {}, {}

    def _spec_ids(self) -> set[str]:
        """Every video id with a spec file, loaded or broken (what stage 1 selects from)."""
        return set(self.project.videos) | {w for w in self.project.errors if _is_video_id(w)}

    def emit(self, type: EventType, **fields) -> None:
        event = Event(type=type, **fields)
        self.reporter.emit(event)
        self._telemetry.emit(event)

    def announce(self, targets: Sequence[str] | None = None, profile: Profile = "final") -> list[str]:
        """The step ids of the selected videos (closure order), after telling the reporter how many there are and
        which declared fallbacks they use (warnings are never silent). doit calls this before its sub-tasks run."""
        plan = self.plan(profile)
        vids = [v for v in select_targets(plan, targets) if v in plan.videos]
        ids = plan.closure([sid for v in vids for sid in plan.videos[v].steps])
        what = "build" if profile == "final" else profile
        self.emit("plan", total=len(ids), detail=f"{what}: {len(ids)} step(s) for {len(vids)} video(s)")
        for v in vids:
            for text in plan.warnings.get(v, []):
                self.emit("warning", video=v, detail=text)
        return ids

    # ------------------------------------------------------------ commands --
    def check(self) -> CheckResult:
        plan = self.plan()
        return CheckResult(ok_videos=sorted(plan.videos), errors=dict(sorted(plan.errors.items())),
                           pending=dict(sorted(plan.pending.items())), warnings=dict(sorted(plan.warnings.items())))

    def script_plan(self, targets: Sequence[str] | None = None, reroll: bool = False) -> Plan:
        """Stage 1: a `script.llm` step per selected topic-only video whose lock is missing or stale (every
        selected one with `reroll`: a new roll on purpose)."""
        project = self.project
        only = set(select_targets(self._spec_ids(), targets)) if targets else None
        forced = (only or set()) if reroll else set()
        return compile_script_plan(project, only=only, reroll=forced, env=self.settings.env)

    def write_script(self, plan: Plan, sid: str) -> Path:
        """Run one script step of `plan` (from the cache when its key is known) and write the video's lock."""
        manifest = self.engine_for(plan).run_step(sid)
        step = plan.steps[sid]
        path = write_generated_lock(self.project, step, manifest, self.store)
        self.emit("materialized", step=sid, video=step.video, detail=self.project.display(path))
        return path

    def script_stage(self, targets: Sequence[str] | None = None, jobs: int = 1, reroll: bool = False) -> ScriptResult:
        """Write the script locks that are missing or stale (or re-roll them); then `reload()` for stage 2."""
        return self._script_stage(targets, jobs, reroll, announce=True)

    def _script_stage(self, targets, jobs: int, reroll: bool, announce: bool) -> ScriptResult:
        plan = self.script_plan(targets, reroll)
        result = ScriptResult(failed=dict(plan.errors))
        if plan.steps:
            self.emit("plan", total=len(plan.steps), detail=f"script: {len(plan.steps)} script lock(s) to write")
            engine = self.engine_for(plan)
            mark = len(self._tally.events)
            failed = engine.build(list(plan.steps), jobs=self.jobs(jobs))
            for sid, step in plan.steps.items():
                if sid in failed:
                    result.failed[step.video] = failed[sid]
                    continue
                try:
                    result.written[step.video] = self.project.display(self.write_script(plan, sid))
                except StepFailed as exc:
                    result.failed[step.video] = str(exc)
            result.generated = sum(1 for e in self._tally.events[mark:] if e.type == "executed" and e.step in plan.steps)
        if result.written:
            self.reload()  # stage 2 compiles from the new locks
        if announce:
            for vid, err in sorted(result.failed.items()):
                self.emit("video", video=vid, detail=f"failed: script: {err}")
            if plan.steps or plan.errors:
                self.emit("finished", detail=result.summary())
        return result

    def build(self, targets: Sequence[str] | None = None, jobs: int = 1, profile: Profile = "final") -> BuildResult:
        """Stage 1 (script locks) then stage 2 (the videos): every selected video is built, failed or pending;
        a failure never stops the other videos. `profile="preview"` builds the fast preview instead, into
        build/.preview/<brand>/<slug>/ (VideoOutcome.folders names it)."""
        t0 = time.perf_counter()
        select_targets(self._spec_ids(), targets)  # an unknown target fails before anything runs
        script = self._script_stage(targets, jobs, reroll=False, announce=False)
        plan = self.plan(profile)
        engine = self.engine_for(plan)
        result = BuildResult(script=script if (script.written or script.failed) else None)
        selected = select_targets(plan, targets)
        result.errors = {w: t for w, t in sorted(plan.errors.items())
                         if (w in selected if _is_video_id(w) else not targets)}
        mark = len(self._tally.events)
        ids = self.announce(targets, profile)
        failed = engine.build(ids, jobs=self.jobs(jobs)) if ids else {}
        result.failed_steps = failed
        for vid in selected:
            if vid in plan.videos:
                bad = [e for k, e in failed.items() if plan.steps[k].video == vid]
                if bad:
                    first = next((e for e in bad if not e.startswith("skipped")), bad[0])
                    outcome = VideoOutcome(video=vid, status="failed", error=first)
                else:
                    try:
                        written = engine.materialize(vid)
                        folders = sorted({self.project.display(p.parent) for p in written if p.name == "manifest.json"})
                        outcome = VideoOutcome(video=vid, status="built", folders=folders)
                    except StepFailed as exc:
                        outcome = VideoOutcome(video=vid, status="failed", error=str(exc))
                    except Exception as exc:  # one video's outputs never take the others down
                        outcome = VideoOutcome(video=vid, status="failed", error=f"internal error while writing "
                                                                                 f"build/{vid}: {exc!r}")
            elif vid in script.failed:
                outcome = VideoOutcome(video=vid, status="failed", error=f"script: {script.failed[vid]}")
            elif vid in plan.pending:
                outcome = VideoOutcome(video=vid, status="pending", error=plan.pending[vid])
            else:
                outcome = VideoOutcome(video=vid, status="failed", error=plan.errors.get(vid, "not compiled"))
            result.videos.append(outcome)
        events = self._tally.events[mark:]
        result.ran = sum(1 for e in events if e.type == "executed")
        result.cached = sum(1 for e in events if e.type == "hit")
        result.seconds = time.perf_counter() - t0
        for where, text in result.errors.items():
            if not _is_video_id(where):
                self.emit("video", video=where, detail=f"failed: {text}")
        for o in result.videos:
            detail = "built" if o.status == "built" else f"{o.status}: {o.error}"
            self.emit("video", video=o.video, detail=detail + (f" -> {', '.join(o.folders)}" if o.folders else ""))
        self.emit("finished", seconds=result.seconds, detail=result.summary())
        return result

    def qc(self, targets: Sequence[str] | None = None, jobs: int = 1) -> QCResult:
        """The quality gate of the selected videos' current builds. QC steps that are not cached yet (a new
        threshold, a build made before QC existed) run now and build/ gets the new qc.json; nothing else is
        rendered: a video whose outputs are not built is reported without a verdict. QC of an unchanged build
        runs nothing (every QC step is a cache hit)."""
        plan = self.plan()
        engine = self.engine_for(plan)
        result = QCResult()
        for vid in select_targets(plan, targets):
            view = QCVideoView(video=vid)
            result.videos.append(view)
            if vid not in plan.videos:
                view.error = f"pending: {plan.pending[vid]}" if vid in plan.pending else \
                    "spec errors (see doit check)"
                continue
            vp = plan.videos[vid]
            made = [r.step for fo in vp.formats for r in fo.files.values()]
            if not all(engine.is_done(sid) for sid in dict.fromkeys(made)):
                view.error = "not built (or the spec changed since the last build): run doit build first"
                continue
            qc_steps = [fo.qc.step for fo in vp.formats if fo.qc is not None]
            failed = engine.build(qc_steps, jobs=jobs) if qc_steps else {}
            if failed:
                view.error = "QC failed: " + next(iter(failed.values()))
                continue
            try:
                engine.materialize(vid)
            except StepFailed as exc:
                view.error = str(exc)
                continue
            self._read_qc(view, vp)
        return result

    def _read_qc(self, view: QCVideoView, vp) -> None:
        lv = self.project.videos[view.video]
        seen: set[tuple] = set()
        for i, fo in enumerate(vp.formats):
            if fo.qc is None:
                continue
            folder = self.root / fo.dir
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            report = QCReport.model_validate_json((folder / "qc.json").read_text(encoding="utf-8"))
            view.formats[fo.format] = report.verdict
            view.units[fo.format] = view.video + ("" if i == 0 else f"@{fo.format}")
            view.build_digests[fo.format] = manifest["build_digest"]
            view.reports[fo.format] = report
            for f in report.findings:
                ident = (f.check, f.scene, f.at_s, f.severity, f.reason, f.message)
                if ident in seen:
                    continue
                seen.add(ident)
                view.findings.append(QCFindingView(check=f.check, scene=f.scene, at_s=f.at_s, severity=f.severity,
                                                   reason=f.reason, message=f.message, format=fo.format,
                                                   where=locate(self.project, lv, f)))
        order = ("auto-approve", "flag", "reject")
        view.verdict = max(view.formats.values(), key=order.index, default=None)  # the worst format's

    def explain(self, targets: Sequence[str] | None = None, profile: Profile = "final") -> list[ExplainRow]:
        """Per step of the selected videos: hit, or miss and which input changed, or pending behind a miss."""
        plan = self.plan(profile)
        vids = [v for v in select_targets(plan, targets) if v in plan.videos]
        rows = self.engine_for(plan).explain([sid for v in vids for sid in plan.videos[v].steps])
        return [ExplainRow(**r) for r in rows]

    def gc(self, dry_run: bool = False) -> GcResult:
        """Keep what the current specs need (every step key computable from the plan, and the script steps
        that generated locks point at; the studio's previews count as needed too); refuse while a spec has errors,
        so a typo never costs cached work."""
        plan = self.plan()
        if plan.errors:
            return GcResult(dry_run=dry_run, refused=sorted(plan.errors))
        live = set()
        for p in (plan, self.plan("preview")):
            engine = self.engine_for(p)
            for sid in p.closure(list(p.steps)):
                if engine.is_done(sid):
                    live.add(engine.key(sid)[0])
        live |= {lv.script.generated.key for lv in self.project.videos.values()
                 if lv.script is not None and lv.script.generated is not None}
        res = self.store.gc(live, dry_run=dry_run)
        return GcResult(dry_run=dry_run, actions_removed=res["actions_removed"], blobs_removed=res["blobs_removed"],
                        bytes_freed=res["bytes_freed"], live=len(live))
