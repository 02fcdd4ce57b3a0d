"""Benchmark: save-to-playable latency THROUGH THE STUDIO (issue 10's preview goal: <= 5 s on 2 cores).

    .venv/bin/python bench/bench_studio.py [--video cosmos/dark-sky] [--scene 2] [--edits 3] [--cache DIR] [--keep]

In a temporary copy of the project (its own cache/ and build/, or `--cache DIR` to reuse a warm cache between
runs) it builds the video in both profiles first (the warm-up, in this process), then starts the real studio in
a child process (`server.app.create_app(settings, watch=True)` under uvicorn on 127.0.0.1, a free port), listens
to `/api/events` (SSE) and, `--edits` times, writes one narration edit into the spec on disk and times:

    file written -> `state` queued (the watcher's debounce + the worker's reload and plan)
                 -> `state` building/preview -> first engine event (the worker's explain before the build)
                 -> each step executed -> materialized -> `state` built/preview
                 -> GET /files/.preview/<video>/video.mp4 with `Range: bytes=0-65535` answers 206 (playable)
                 -> `state` built/final (the final render of the same save, behind the preview)

Times come from the SSE events' own clocks (`Event.at`, `VideoState.updated_at`: the server's time.time(), the
same machine) and from this process for the write and the 206. The first edit runs in a studio that has not
synthesized anything yet (cold in-process caches, e.g. the Piper voice); later edits are what a working session
sees. Not part of the test suite; raw results in bench/out/studio.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

TOKEN = "bench-studio-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(root: Path, port: int) -> None:
    """The child: the real studio on 127.0.0.1:port (watcher on, the real build worker and engine)."""
    import uvicorn

    from core.settings import Settings
    from server.app import create_app

    app = create_app(Settings.load(root, env={}), token=TOKEN, watch=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


class Listener:
    """Reads /api/events in a thread; keeps (arrival time, event name, parsed data)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[tuple[float, str, dict]] = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.connected = threading.Event()

    def start(self) -> "Listener":
        self.thread.start()
        if not self.connected.wait(30):
            raise SystemExit("could not open /api/events")
        return self

    def _run(self) -> None:
        import httpx

        try:
            self._listen(httpx)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            pass  # the studio was stopped at the end of the run: its event stream ends mid-message

    def _listen(self, httpx) -> None:
        with httpx.Client(timeout=None, trust_env=False) as c, c.stream("GET", self.url + "/api/events") as r:
            self.connected.set()
            name, data = "message", []
            for line in r.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    try:
                        payload = json.loads("\n".join(data))
                    except ValueError:
                        payload = {}
                    with self.cond:
                        self.events.append((time.time(), name, payload))
                        self.cond.notify_all()
                    name, data = "message", []

    def wait_for(self, since: int, pred, timeout: float) -> tuple[int, tuple[float, str, dict]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            i = since
            while True:
                while i < len(self.events):
                    if pred(self.events[i]):
                        return i, self.events[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"timed out waiting (last events: {self.events[-5:]})")
                self.cond.wait(left)


def is_state(vid: str, state: str, profile: str | None = None):
    def pred(e):
        _, name, d = e
        return name == "state" and d.get("video") == vid and d.get("state") == state and (
            profile is None or d.get("profile") == profile)
    return pred


def is_build(vid: str, type_: str):
    return lambda e: e[1] == "build" and e[2].get("type") == type_ and (not e[2].get("video") or e[2]["video"] == vid)


def playable(url: str, timeout: float = 10.0) -> float:
    """Time at which the preview's video URL answers 206 for its first bytes."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5, trust_env=False) as c:
        while True:
            r = c.get(url, headers={"Range": "bytes=0-65535"})
            if r.status_code == 206 and len(r.content) > 0:
                return time.time()
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} answered {r.status_code}")
            time.sleep(0.02)


def edit_narration(root: Path, ws, vid: str, scene: int) -> None:
    """Insert three words after the first five of one scene's narration, in the spec on disk (a save); a text a
    reused `--cache` cannot already hold (bench_preview's two words repeat after a few dozen runs)."""
    import re

    from bench_preview import WORDS

    lv = ws.project.videos[vid]
    spec = root / lv.spec.display
    words = lv.script.scenes[scene].narration.split()[:5]
    text = spec.read_text()
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    if m is None:
        raise SystemExit(f"cannot find the narration of scene {scene} in {spec} (is it in a script lock?)")
    spec.write_text(text[:m.end()] + " " + " ".join(random.sample(WORDS, 3)) + text[m.end():])


def one_edit(root: Path, ws, lst: Listener, base: str, vid: str, scene: int, final: bool) -> dict:
    ws.reload()
    mark = len(lst.events)
    edit_narration(root, ws, vid, scene)
    t0 = time.time()
    _, q = lst.wait_for(mark, is_state(vid, "queued"), 60)
    i, b = lst.wait_for(mark, is_state(vid, "building", "preview"), 60)
    i, plan = lst.wait_for(i, is_build(vid, "plan"), 60)
    i, mat = lst.wait_for(i, is_build(vid, "materialized"), 120)
    i, built = lst.wait_for(i, lambda e: is_state(vid, "built", "preview")(e) or is_state(vid, "failed")(e)
                            or is_state(vid, "error")(e), 120)
    if built[2].get("state") != "built":
        raise SystemExit(f"preview build failed: {built[2].get('error')}")
    t_play = playable(f"{base}/files/.preview/{vid}/video.mp4")
    steps = {e[2]["step"].split("/", 2)[2]: round(e[2]["seconds"], 2) for e in lst.events[mark:i]
             if e[1] == "build" and e[2].get("type") == "executed"}
    at = lambda e: e[2].get("at") or e[2].get("updated_at") or e[0]  # noqa: E731  the server's clock
    out = {
        "debounce_reload_plan": round(at(q) - t0, 3),
        "queued_to_building": round(at(b) - at(q), 3),
        "explain_before_build": round(at(plan) - at(b), 3),
        "engine_build": round(at(mat) - at(plan), 3),
        "materialized_to_state": round(at(built) - at(mat), 3),
        "state_to_206": round(t_play - at(built), 3),
        "steps": steps,
        "save_to_playable": round(t_play - t0, 3),
    }
    if not any(k.startswith("narration/") for k in steps):
        print("  (the edit's narration was a cache hit: not a fair sample)", flush=True)
    if final:
        j, fb = lst.wait_for(i, is_state(vid, "building", "final"), 60)
        j, fplan = lst.wait_for(j, is_build(vid, "plan"), 60)
        k, fdone = lst.wait_for(j, is_state(vid, "built", "final"), 300)
        out["final"] = {"explain_before_build": round(at(fplan) - at(fb), 3),
                        "build": round(at(fdone) - at(fplan), 3),
                        "steps": {e[2]["step"].split("/", 2)[2]: round(e[2]["seconds"], 2) for e in lst.events[j:k]
                                  if e[1] == "build" and e[2].get("type") == "executed"},
                        "save_to_final": round(at(fdone) - t0, 3)}
    else:
        lst.wait_for(i, is_state(vid, "built", "final"), 300)  # let the worker go idle before the next edit
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="cosmos/dark-sky")
    ap.add_argument("--scene", type=int, default=2, help="index of the scene whose narration is edited (a slide)")
    ap.add_argument("--edits", type=int, default=3, help="saves to time, one after the other")
    ap.add_argument("--cache", type=Path, help="a cache folder to keep warm between runs (default: a fresh one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary project")
    ap.add_argument("--serve", nargs=2, metavar=("ROOT", "PORT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(Path(a.serve[0]), int(a.serve[1]))
        return 0

    from bench_preview import copy_project

    from compiler.workspace import Workspace
    from core.events import ListReporter

    tmp = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    root = tmp / "proj"
    copy_project(root, a.video, a.cache)
    proc = None
    try:
        ws = Workspace.open(root, reporter=ListReporter())
        t0 = time.perf_counter()
        for profile in ("preview", "final"):
            res = ws.build([a.video], jobs=2, profile=profile)
            if not res.ok:
                raise SystemExit(f"warm-up {profile} failed: {res.failed_steps or res.errors}")
        print(f"warm-up (both profiles): {time.perf_counter() - t0:.1f} s", flush=True)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWRUNNER_")}
        env.update(PYTHONPATH=str(REPO), NO_PROXY="127.0.0.1,localhost")
        log = open(tmp / "server.log", "w")
        proc = subprocess.Popen([sys.executable, __file__, "--serve", str(root), str(port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/videos", trust_env=False, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the studio did not start: {(tmp / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
        lst = Listener(base).start()
        time.sleep(2.0)  # the start scan
        runs = []
        for n in range(a.edits):
            r = one_edit(root, ws, lst, base, a.video, a.scene, final=True)
            runs.append(r)
            f = r["final"]
            print(f"edit {n + 1}: save -> playable {r['save_to_playable']:.2f} s  "
                  f"[debounce+reload+plan {r['debounce_reload_plan']:.2f}, explain {r['explain_before_build']:.2f}, "
                  f"engine {r['engine_build']:.2f} ({', '.join(f'{k} {v:.2f}' for k, v in r['steps'].items())}), "
                  f"state {r['materialized_to_state']:.2f}, 206 {r['state_to_206']:.2f}]; "
                  f"final lands at {f['save_to_final']:.2f} s (its build {f['build']:.2f} s, explain "
                  f"{f['explain_before_build']:.2f}); preview/final {r['save_to_playable'] / f['save_to_final'] * 100:.0f} %",
                  flush=True)
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        dest = REPO / "bench" / "out"
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "studio.json").write_text(json.dumps({"video": a.video, "scene": a.scene, "runs": runs,
                                                      "loadavg": load}, indent=1))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if a.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
