"""Execute phase: Plan x Store -> artifacts, with typed cache events and an explain mode.

A step's key is computed from the digests of its inputs' *contents*, so a re-run upstream step
that returns the same bytes does not invalidate anything downstream. The engine never prints: every
hit, miss, result, progress fraction, retry and wait goes to its `core.events.Reporter`.
"""
from __future__ import annotations

import heapq
import json
import os
import shutil
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable

import renderers

from core.errors import StepError
from core.events import Event, EventType, NullReporter, Reporter
from core.keys import action_key, canonical_json, diff_material, sha256_text
from core.records import ActionManifest, Asset, BuildManifest, OutputEntry, QCSummary, SceneEntry, StepEntry, Timing
from .plan import Plan, Ref, Step
from core.store import CorruptBlob, Store, atomic_copy, atomic_write_json, file_digest


class NotReady(Exception):
    """An upstream step has not produced its outputs yet."""


class StepFailed(Exception):
    def __init__(self, step: str, message: str):
        self.step = step
        super().__init__(f"{step}: {message}")


class DigestCache:
    """sha256 of source files, remembered by (size, mtime_ns, inode) in cache/digests.json."""

    def __init__(self, path: Path):
        self.path = path
        self.dirty = False
        try:
            self.data: dict = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            self.data = {}
        self.lock = threading.Lock()
        self._real: dict[Path, str] = {}

    def digest(self, file: Path) -> str:
        try:
            st = file.stat()
        except FileNotFoundError:
            raise StepError(f"input file {file} disappeared") from None
        sig = [st.st_size, st.st_mtime_ns, st.st_ino]
        k = self._real.get(file)
        if k is None:  # an engine lives for one plan: 1,000 videos name the same template 1,000 times
            k = self._real[file] = str(file.resolve())
        with self.lock:
            hit = self.data.get(k)
            if hit and hit[:3] == sig:
                return hit[3]
        d = file_digest(file)
        with self.lock:
            self.data[k] = sig + [d]
            self.dirty = True
        return d

    def save(self) -> None:
        if self.dirty:
            with self.lock:
                atomic_write_json(self.path, self.data)
                self.dirty = False


class ToolCache:
    """Tool fingerprints, reused across processes while the toolchain looks unchanged."""

    def __init__(self, path: Path):
        self.path = path
        self.probe = self._probe()
        try:
            data = json.loads(path.read_text())
            self.data = data["fingerprints"] if data.get("probe") == self.probe else {}
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            self.data = {}
        self.lock = threading.Lock()

    @staticmethod
    def _probe() -> list:
        items = []
        for exe in ("ffmpeg", "chromium", "espeak-ng"):
            p = shutil.which(exe)
            st = os.stat(p) if p else None
            items.append([exe, st.st_size if st else None, st.st_mtime_ns if st else None])
        site = Path(renderers.__file__).resolve().parents[1]
        for sp in sys.path:
            if sp.endswith("site-packages") and os.path.isdir(sp):
                items.append([sp, os.stat(sp).st_mtime_ns])
        items.append([str(site), sys.version])
        return items

    def fingerprint(self, kind: str) -> dict:
        with self.lock:
            if kind in self.data:
                return self.data[kind]
        fp = renderers.get(kind)().tool_fingerprint()
        with self.lock:
            self.data[kind] = fp
            atomic_write_json(self.path, {"probe": self.probe, "fingerprints": self.data})
        return fp


def run_action(store: Store, cls: type, *, step_id: str, key: str, material: dict, params: dict, salt: str,
               inputs: dict, input_facts: dict, progress: Callable[[float, str], None] | None = None,
               notice: Callable[[str, str], None] | None = None) -> tuple[dict, float]:
    """Run one renderer on resolved input files and record it in `store`: outputs first, manifest last.

    The one code path of a step's execution, on this machine (Engine._execute) and on a render worker
    (compiler/remote/worker.py), so a step makes the same bytes and the same manifest wherever it runs.
    Returns (manifest, seconds); raises what the renderer raises (StepError for a user-facing failure)."""
    renderer = cls()
    scratch = store.scratch(step_id)
    out_dir = scratch / "out"
    work = scratch / "work"
    out_dir.mkdir()
    work.mkdir()
    started = time.time()
    t0 = time.perf_counter()
    try:
        inputs = dict(inputs)
        for name in cls.optional_inputs:
            inputs.setdefault(name, None)
        ctx = renderers.base.Context(params=cls.Params(**params), inputs=inputs, input_facts=input_facts,
                                     out_dir=out_dir, scratch=work, step_id=step_id,
                                     progress=progress or (lambda frac, what="": None),
                                     notice=notice or (lambda type, message: None))
        result = renderer.run(ctx) or {}
        outputs = {}
        for name in cls.outputs:
            f = out_dir / name
            if not f.is_file():
                raise StepError(f"renderer {cls.kind} did not produce {name}")
            rec = store.put_file(f)
            outputs[name] = OutputEntry(digest=rec.digest, size=rec.size)
        seconds = time.perf_counter() - t0
        record = ActionManifest(key=key, step=step_id, kind=cls.kind, version=material["version"], params=params,
                                inputs=material["inputs"], fingerprint=material["fingerprint"], salt=salt,
                                outputs=outputs, facts=result,
                                timing=Timing(started=round(started, 3), seconds=round(seconds, 3)))
        store.put_manifest(key, record)
        return record.to_json(), seconds
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def start_order(plan: Plan, order: list[str],
                dependents: dict[str, list[str]] | None = None) -> dict[str, tuple[int, int, float, int]]:
    """The rank of each step of `order` (dependencies before dependents; `dependents` within it, found here when
    not given) among ready steps: lower starts first. Engine.build keeps its ready steps in a heap by it;
    `doit build` hands doit its tasks in this order."""
    if dependents is None:
        dependents = {}
        for s in order:
            for d in plan.steps[s].deps():
                dependents.setdefault(d, []).append(s)
    # Ready steps start by the length of the chain of steps that waits on them (longest first: a narration, on
    # which its segment, the soundtrack and the assembly wait, before the thumbnail), then rarest kind first,
    # then in plan order. So a kind with one step per video (the soundtrack) or a few (manim, generated images)
    # starts as soon as it can, ahead of the per-scene steps of the same depth (segments, slides), which are
    # many and even and fill the cores to the end. First in, first out left a build's lone soundtrack to run
    # after the last segment with the other core idle (1.4 s of a 25 s build of 12 clips on 2 cores;
    # bench/perf_bench.py --only clips).
    kind_count: dict[str, int] = {}
    for s in order:
        kind_count[plan.steps[s].kind] = kind_count.get(plan.steps[s].kind, 0) + 1
    uses = {s: renderers.get(plan.steps[s].kind).resources for s in order}
    height: dict[str, int] = {}
    for s in reversed(order):  # dependencies come before their dependents in `order`
        height[s] = 1 + max((height[d] for d in dependents.get(s, ())), default=0)
    # Steps that share a resource (Chromium) start with the highest of them: a thumbnail runs beside the slides,
    # whose browser is then closed before the encodes, not reopened for it at the end (or kept open through
    # them, memory). Without slides it keeps its own place and fills the last gap.
    group: dict[str, int] = {}
    for s in order:
        for r in uses[s]:
            group[r] = max(group.get(r, 0), height[s])
    for s in order:
        for r in uses[s]:
            height[s] = max(height[s], group[r])
    # Then, among steps of one kind, the costliest first (Renderer.cost_hint; longest processing time first): the
    # samples' composition ended on a 3.5 s Manim segment started after the 1.5 s slides, one core idle for 1.7 s.
    cost = {s: renderers.get(plan.steps[s].kind).cost_hint(plan.steps[s].params, _upstream(plan, plan.steps[s]))
            for s in order}
    return {s: (-height[s], kind_count[plan.steps[s].kind], -cost[s], i) for i, s in enumerate(order)}


def _upstream(plan: Plan, step):
    """`name` -> the Step that makes `step`'s input `name` (None for a file or a list of inputs)."""
    def find(name: str):
        ref = step.inputs.get(name)
        return plan.steps.get(ref.step) if ref is not None and not isinstance(ref, list) and ref.step else None
    return find


class Engine:
    # a shared resource (Chromium) is released when no step left needs it and more than this many steps per job
    # remain: a build that long frees its memory for the encodes; a short one (a studio edit) keeps the browser
    RELEASE_AFTER_STEPS_LEFT = 4
    # a process that builds once and exits (the command line, doit) has nothing to keep warm for: it frees a shared
    # resource as soon as no step left needs it, beside the steps still running (the browser's close and its
    # processes' exit overlapped the assembly instead of the process's exit: 0.1-0.2 s of a 15 s build)
    one_shot = False
    PROGRESS_EVERY_S = 0.5  # a step's progress events, at most this often unless what it is doing changes

    def __init__(self, root: Path, plan: Plan, store: Store, reporter: Reporter | None = None, executor=None):
        self.root = Path(root)
        self.executor = executor  # None: this process runs steps; else an object with run(engine, step, key, material)
        self.plan = plan
        self.store = store
        self.reporter: Reporter = reporter or NullReporter()
        self.digests = DigestCache(store.root / "digests.json")
        self.tools = ToolCache(store.root / "tools.json")
        self._keys: dict[str, tuple[str, dict]] = {}
        self._manifests: dict[str, dict] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ keys --
    def emit(self, type: EventType, sid: str, key: str = "", seconds: float = 0.0, detail: str = "",
             video: str | None = None, fraction: float | None = None) -> None:
        step = self.plan.steps.get(sid)
        self.reporter.emit(Event(type=type, step=sid, video=video if video is not None else (step.video if step else ""),
                                 kind=step.kind if step else "", key=key, seconds=seconds, detail=detail,
                                 fraction=fraction))

    def _input_digest(self, ref: Ref) -> str:
        if ref.file is not None:
            return self.digests.digest(self.root / ref.file)
        key, _ = self.key(ref.step)
        m = self.manifest(key)
        if m is None:
            raise NotReady(ref.step)
        return m["outputs"][ref.output]["digest"]

    def material(self, step: Step) -> dict:
        inputs = {name: ([self._input_digest(r) for r in v] if isinstance(v, list) else self._input_digest(v))
                  for name, v in step.inputs.items()}
        return {"kind": step.kind, "version": step.version, "params": step.params, "inputs": inputs,
                "fingerprint": self.tools.fingerprint(step.kind), "salt": step.salt}

    def key(self, sid: str) -> tuple[str, dict]:
        with self._lock:
            if sid in self._keys:
                return self._keys[sid]
        material = self.material(self.plan.steps[sid])
        key = action_key(material)
        with self._lock:
            self._keys[sid] = (key, material)
        return key, material

    def manifest(self, key: str) -> dict | None:
        """The store's manifest of `key`, remembered once found: a build reads each one once, not once per step
        that names it (a no-op of 1,000 videos read 77,000 manifests for 15,000 steps). Forgotten at the start of
        every build and whenever a corrupt blob is found, so a long-lived engine (the studio's) never trusts an
        entry that gc or a quarantine removed in between."""
        m = self._manifests.get(key)
        if m is None:
            m = self.store.get_manifest(key)
            if m is not None:
                self._manifests[key] = m
        return m

    def is_done(self, sid: str) -> bool:
        try:
            key, _ = self.key(sid)
        except NotReady:
            return False
        return self.manifest(key) is not None

    # --------------------------------------------------------- execute --
    def run_step(self, sid: str) -> dict:
        step = self.plan.steps[sid]
        try:
            key, material = self.key(sid)
        except NotReady as exc:
            raise StepFailed(sid, f"upstream step {exc} has not been built") from None
        except StepError as exc:
            raise StepFailed(sid, str(exc)) from None
        except Exception as exc:  # a bug, or a value no check caught: this step fails, the build goes on
            raise StepFailed(sid, f"internal error while computing the step's key: {exc!r}") from None
        manifest = self.manifest(key)
        if manifest is not None:
            self.emit("hit", sid, key)
            if not self.store.has_ref(sid):  # explain needs a baseline even for entries built elsewhere
                self.store.put_ref(sid, key, material)
            return manifest
        self.emit("miss", sid, key)
        return self._execute(step, key, material)

    def _execute(self, step: Step, key: str, material: dict) -> dict:
        sid = step.id
        if self.executor is not None:  # another machine runs it (compiler/remote): same key, same bytes
            return self.executor.run(self, step, key, material)
        try:
            cls = renderers.get(step.kind)
            inputs, facts = {}, {}
            for name, v in step.inputs.items():
                refs = v if isinstance(v, list) else [v]
                paths = []
                for r in refs:
                    if r.file is not None:
                        paths.append(self.root / r.file)
                    else:
                        k, _ = self.key(r.step)
                        m = self.manifest(k)
                        if m is None:
                            raise NotReady(r.step)
                        facts[name] = m.get("facts", {}) if not isinstance(v, list) else facts.get(name, []) + [m.get("facts", {})]
                        paths.append(self.store.open_verified(m["outputs"][r.output]["digest"]))
                inputs[name] = paths if isinstance(v, list) else paths[0]
            manifest, seconds = run_action(self.store, cls, step_id=sid, key=key, material=material,
                                           params=step.params, salt=step.salt, inputs=inputs, input_facts=facts,
                                           progress=self._progress(sid), notice=self._notice(sid))
            self.store.put_ref(sid, key, material)
            self.emit("executed", sid, key, seconds)
            return manifest
        except CorruptBlob as exc:
            self._manifests.clear()
            self.emit("corrupt", sid, key, detail=str(exc))
            # the bad blob was quarantined: every manifest that names it now reads as not done, so its
            # producer re-runs on the next build
            raise StepFailed(sid, f"{exc}; run the build again to regenerate it") from None
        except StepError as exc:
            self.emit("failed", sid, key, detail=str(exc))
            raise StepFailed(sid, str(exc)) from None
        except NotReady as exc:
            raise StepFailed(sid, f"upstream step {exc} has not been built") from None
        except Exception as exc:  # a renderer bug: keep the traceback for the developer
            self.emit("failed", sid, key, detail=repr(exc))
            raise StepFailed(sid, "internal error in renderer " + step.kind + ":\n" + traceback.format_exc()) from None
        finally:
            self.digests.save()

    def _progress(self, sid: str) -> Callable[[float, str], None]:
        """`ctx.progress` of one step: rate-limited, except that a new `what` ("waiting for a free HeyGen
        slot", "retrying in 2 s") always gets through."""
        last = [0.0, None]

        def report(frac: float, what: str = "") -> None:
            now = time.monotonic()
            if what == last[1] and now - last[0] < self.PROGRESS_EVERY_S:
                return
            last[0], last[1] = now, what
            self.emit("progress", sid, fraction=max(0.0, min(1.0, float(frac))), detail=what)

        return report

    def _notice(self, sid: str) -> Callable[[str, str], None]:
        """`ctx.notice` of one step: retries, waits and warnings, never rate-limited."""

        def notice(type: str, message: str) -> None:
            self.emit(type if type in ("retry", "wait") else "warning", sid, detail=message)  # type: ignore[arg-type]

        return notice

    # -------------------------------------------------------- schedule --
    def build(self, step_ids: list[str], jobs: int = 1) -> dict[str, str]:
        """Run `step_ids` and their dependencies; returns {step: error} for failures.

        Linear in the number of steps: each step waits on a count of unfinished dependencies and is queued when
        it reaches zero (a scan of every pending step per finished step made a no-op of 1,000 videos, 15,000
        steps, take a minute). A step whose outputs are already in the store is answered here, without a round
        trip through the worker pool: a no-op build never leaves this thread."""
        self._manifests.clear()
        order = self.plan.closure(step_ids)
        deps = {s: set(self.plan.steps[s].deps()) for s in order}
        waiting = {s: len(d) for s, d in deps.items()}
        dependents: dict[str, list[str]] = {}
        for s in order:
            for d in deps[s]:
                dependents.setdefault(d, []).append(s)
        rank = start_order(self.plan, order, dependents)
        uses = {s: renderers.get(self.plan.steps[s].kind).resources for s in order}
        ready = [rank[s] + (s,) for s in order if not waiting[s]]
        heapq.heapify(ready)
        failed: dict[str, str] = {}
        running: dict[Future, str] = {}
        # shared resources (Chromium) by the steps of this build still to finish that use them
        users: dict[str, int] = {}
        for s in order:
            for r in uses[s]:
                users[r] = users.get(r, 0) + 1
        left = [len(order)]

        def leave(sid: str) -> None:
            left[0] -= 1
            cls = renderers.get(self.plan.steps[sid].kind)
            for r in cls.resources:
                users[r] -= 1
                # a long build frees it for the encodes still to come; a short one (a studio edit) keeps it warm
                if not users[r] and (self.one_shot or left[0] > self.RELEASE_AFTER_STEPS_LEFT * max(1, jobs)):
                    cls.release(r)

        def settle(sid: str, error: str | None) -> None:
            leave(sid)
            if error is None:
                for nxt in dependents.get(sid, ()):
                    waiting[nxt] -= 1
                    if not waiting[nxt] and nxt not in failed:
                        heapq.heappush(ready, rank[nxt] + (nxt,))
                return
            failed[sid] = error
            stack = list(dependents.get(sid, ()))
            while stack:  # everything downstream is skipped, once, in dependency order
                nxt = stack.pop(0)
                if nxt in failed:
                    continue
                failed[nxt] = "skipped: an upstream step failed"
                self.emit("skipped", nxt, detail=failed[nxt])
                leave(nxt)
                stack += dependents.get(nxt, ())

        def outcome(sid: str, call) -> str | None:
            try:
                call()
                return None
            except StepFailed as exc:
                return str(exc)
            except Exception as exc:  # never let one step take the other videos down
                self.emit("failed", sid, detail=f"{sid}: internal error: {exc!r}")
                return f"{sid}: internal error: {exc!r}"

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            while ready or running:
                while ready and len(running) < max(1, jobs):
                    sid = heapq.heappop(ready)[-1]
                    if sid in failed:
                        continue
                    if self._cached(sid):
                        settle(sid, outcome(sid, lambda: self.run_step(sid)))
                    else:
                        running[pool.submit(self.run_step, sid)] = sid
                if not running:
                    continue
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    sid = running.pop(fut)
                    settle(sid, outcome(sid, fut.result))
        self.digests.save()
        return failed

    def _cached(self, sid: str) -> bool:
        """True when the step's outputs are in the store (its key computes and its manifest is valid)."""
        try:
            key, _ = self.key(sid)
        except Exception:  # NotReady, a user's mistake or a bug: run_step reports it in a worker
            return False
        return self.manifest(key) is not None

    # ----------------------------------------------------- materialize --
    def materialize(self, vid: str) -> list[Path]:
        """Place a built video's outputs in build/ (atomic, hardlinked) with a provenance manifest."""
        vplan = self.plan.videos[vid]
        written = []
        for fo in vplan.formats:
            out_dir = self.root / fo.dir
            assets, digests = {}, {}
            for name, ref in fo.files.items():
                key, material = self.key(ref.step)
                m = self.manifest(key)
                if m is None:
                    raise StepFailed(vid, f"{ref.step} has not been built")
                rec = m["outputs"][ref.output]
                blob = self.store.blob_path(rec["digest"])
                dst = out_dir / name
                try:
                    same = dst.stat().st_ino == blob.stat().st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    atomic_copy(blob, dst)
                digests[name] = rec["digest"]
                assets[name] = Asset(digest=rec["digest"], size=rec["size"], step=ref.step, key=key,
                                     kind=m["kind"], version=m["version"], params=m["params"],
                                     tools=m["fingerprint"], timing=m.get("timing"), facts=m.get("facts", {}),
                                     inputs=self._provenance_inputs(ref.step))
                written.append(dst)
            qc = self._materialize_qc(fo.qc, out_dir) if fo.qc is not None else None
            if qc is not None:
                written.append(out_dir / "qc.json")
            tl_key, _ = self.key(fo.timeline)
            tl_digest = self.manifest(tl_key)["outputs"]["timeline.json"]["digest"]
            tl = json.loads(self.store.blob_path(tl_digest).read_text())
            steps = {}
            for sid in self.plan.closure([r.step for r in fo.files.values()]):
                k, _ = self.key(sid)
                m = self.manifest(k) or {}
                steps[sid] = StepEntry(key=k, kind=m.get("kind"), version=m.get("version"), params=m.get("params"),
                                       tools=m.get("fingerprint"), timing=m.get("timing"), facts=m.get("facts"))
            record = BuildManifest(
                video=vid, format=fo.format, spec=vplan.spec, build_digest=sha256_text(canonical_json(digests)),
                assets=assets, steps=steps,
                scenes=[SceneEntry(index=s["index"], start_s=s["start_s"], end_s=s["end_s"], title=s["title"],
                                   segment=fo.scenes[s["index"]]) for s in tl["scenes"]],
                duration_s=tl["duration_s"],
                **({"script": self._script_provenance(vplan.script)} if vplan.script else {}),
                **({"qc": qc} if qc is not None else {}))
            manifest = record.to_json()
            mpath = out_dir / "manifest.json"
            try:
                current = json.loads(mpath.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                current = None
            if current != json.loads(json.dumps(manifest)):
                atomic_write_json(mpath, manifest)
            written.append(mpath)
            self.emit("materialized", f"{vid}:{fo.format}", detail=str(fo.dir), video=vid)
        return written

    def _materialize_qc(self, ref: Ref, out_dir: Path) -> QCSummary:
        """qc.json into the build folder (hardlinked like the other files) and its summary for the manifest;
        it stays out of `build_digest`, so re-judging a build never invalidates its human approval."""
        key, _ = self.key(ref.step)
        m = self.store.get_manifest(key)
        if m is None:
            raise StepFailed(ref.step, "has not been built")
        digest = m["outputs"][ref.output]["digest"]
        blob, dst = self.store.blob_path(digest), out_dir / "qc.json"
        try:
            same = dst.stat().st_ino == blob.stat().st_ino
        except FileNotFoundError:
            same = False
        if not same:
            atomic_copy(blob, dst)
        facts = m.get("facts", {})
        return QCSummary(verdict=facts.get("verdict", ""), errors=facts.get("error", 0),
                         warnings=facts.get("warning", 0), infos=facts.get("info", 0), digest=digest, step=ref.step,
                         key=key)

    def is_materialized(self, vid: str) -> bool:
        """True when build/ already holds exactly the current outputs (same blobs, same digest)."""
        vplan = self.plan.videos[vid]
        try:
            for fo in vplan.formats:
                out_dir = self.root / fo.dir
                digests = {}
                for name, ref in fo.files.items():
                    key, _ = self.key(ref.step)
                    m = self.manifest(key)
                    if m is None:
                        return False
                    rec = m["outputs"][ref.output]
                    if (out_dir / name).stat().st_ino != self.store.blob_path(rec["digest"]).stat().st_ino:
                        return False
                    digests[name] = rec["digest"]
                current = json.loads((out_dir / "manifest.json").read_text())
                if current.get("build_digest") != sha256_text(canonical_json(digests)):
                    return False
                if fo.qc is not None:  # outside the digest, but a re-judged build must be written out too
                    key, _ = self.key(fo.qc.step)
                    m = self.store.get_manifest(key)
                    if m is None or not (out_dir / "qc.json").is_file():
                        return False
                    if (current.get("qc") or {}).get("digest") != m["outputs"][fo.qc.output]["digest"]:
                        return False
        except (NotReady, FileNotFoundError, json.JSONDecodeError, StepError):
            return False
        return True

    def _script_provenance(self, generated: dict) -> dict:
        """The lock's `generated:` block plus the script step's full facts (tokens, cost, similarity) if cached."""
        m = self.manifest(generated["key"]) if generated.get("key") else None
        return {**generated, "facts": m.get("facts") if m else None, "timing": m.get("timing") if m else None}

    def _provenance_inputs(self, sid: str) -> dict:
        _, material = self.key(sid)
        return material["inputs"]

    # --------------------------------------------------------- explain --
    def explain(self, step_ids: list[str]) -> list[dict]:
        """For every step: hit, or miss and why (which parts of the key changed since last time)."""
        self._manifests.clear()
        rows = []
        state: dict[str, str] = {}
        for sid in self.plan.closure(step_ids):
            step = self.plan.steps[sid]
            blocked = [d for d in step.deps() if state.get(d) != "hit"]
            if blocked:
                state[sid] = "pending"
                rows.append({"step": sid, "status": "pending",
                             "why": f"waits for {blocked[0]}" + (f" (+{len(blocked) - 1} more)" if len(blocked) > 1 else "")
                             + "; runs only if its output changes"})
                continue
            try:
                key, material = self.key(sid)
            except (NotReady, StepError) as exc:
                state[sid] = "pending"
                rows.append({"step": sid, "status": "pending", "why": str(exc)})
                continue
            if self.manifest(key) is not None:
                state[sid] = "hit"
                rows.append({"step": sid, "status": "hit", "key": key[:12]})
                continue
            state[sid] = "miss"
            ref = self.store.get_ref(sid)
            if ref is None:
                why = "never built"
            else:
                changes = diff_material(ref["material"], material)
                why = "; ".join(changes) if changes else "outputs missing from the cache (evicted or corrupt)"
            rows.append({"step": sid, "status": "miss", "key": key[:12], "why": why})
        return rows
