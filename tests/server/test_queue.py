"""The build queue: supersede, one build per video, spec errors kept per video, change mapping, restart."""
from __future__ import annotations

import json
import threading
from pathlib import Path

from studio_support import FakeBuild, login, settings_for
from compiler.workspace import Workspace
from server.previews.services import BuildQueue, StateBook
from server.previews.watch import affected_videos


def queue_for(root: Path, tmp_path: Path, build_fn) -> BuildQueue:
    q = BuildQueue(settings_for(root, tmp_path), StateBook(), build_fn=build_fn)
    q.start(scan=False)
    return q


def test_newer_save_supersedes_a_queued_build(mini, tmp_path):
    fake = FakeBuild(block=True)
    q = queue_for(mini, tmp_path, fake)
    try:
        q.request(["test/alpha"])
        assert fake.started.wait(10)          # alpha #1 is running (blocked)
        assert q.request(["test/alpha"]) == {"test/alpha": False}  # queued behind itself
        assert q.request(["test/alpha"]) == {"test/alpha": True}   # supersedes the queued one
        q.request(["test/beta"])
        assert q.queued() == ["test/alpha", "test/beta"]
        fake.release.set()
        assert q.wait_idle(20)
    finally:
        q.stop()
    # every save builds the preview then the final; the newest save's sequence replaced the rest of alpha #1's
    assert fake.calls == [("test/alpha", "preview"), ("test/alpha", "preview"), ("test/beta", "preview"),
                          ("test/alpha", "final"), ("test/beta", "final")]
    assert q.stats.superseded == 1
    gens = [g for v, _, g in q.stats.history if v == "test/alpha"]
    assert gens[1] == 3  # the build that ran is the newest save's


def test_spec_error_is_shown_and_never_stops_the_worker(mini, tmp_path):
    fake = FakeBuild()
    q = queue_for(mini, tmp_path, fake)
    try:
        spec = mini / "videos" / "test" / "alpha.yaml"
        spec.write_text(spec.read_text().replace("kind: slide, title: Hello", "kind: slide, titel: Hello"))
        q.notify_changes([spec])
        assert q.wait_idle(30)
        st = q.book.get("test/alpha")
        assert st.state == "error"
        assert "videos/test/alpha.yaml:" in st.error and "titel" in st.error   # file:line:col and the excerpt
        assert not fake.calls                                                # nothing was built
        spec.write_text(spec.read_text().replace("titel:", "title:"))
        q.notify_changes([spec])
        assert q.wait_idle(30)
        assert fake.calls == [("test/alpha", "preview"), ("test/alpha", "final")]
        assert q.book.get("test/alpha").state == "built"
    finally:
        q.stop()


def test_a_crashing_build_is_a_failed_state(mini, tmp_path):
    def boom(ws, video, profile):
        raise RuntimeError("renderer exploded")

    q = queue_for(mini, tmp_path, boom)
    try:
        q.request(["test/beta"])
        assert q.wait_idle(20)
        st = q.book.get("test/beta")
        assert st.state == "failed" and "renderer exploded" in st.error
        q.request(["test/beta"])          # the worker is still alive
        assert q.wait_idle(20)
    finally:
        q.stop()


def test_changed_files_map_to_videos(mini):
    plan = Workspace.open(mini).plan()
    v = mini / "videos" / "test"
    assert affected_videos([v / "alpha.yaml"], mini, plan) == {"test/alpha"}
    assert affected_videos([v / "beta.script.yaml"], mini, plan) == {"test/beta"}
    assert affected_videos([mini / "brands" / "test.yaml"], mini, plan) == {"test/alpha", "test/beta"}
    assert affected_videos([v / "media" / "pic.png"], mini, plan) == {"test/alpha"}    # the plan reads it
    assert affected_videos([v / "media" / "new.png"], mini, plan) == {"test/alpha", "test/beta"}  # brand's
    assert affected_videos([mini / "recipes" / "templates" / "x.html"], mini, plan) is None     # unsure: all
    assert affected_videos([mini / "build" / "x"], mini, plan) == set()


def test_watcher_turns_a_save_into_a_build(make_client, mini):
    fake = FakeBuild()
    c = make_client(mini, fake, watch=True)
    import time

    time.sleep(0.5)  # the watcher is up
    spec = mini / "videos" / "test" / "beta.yaml"
    spec.write_text(spec.read_text().replace("Beta has one slide.", "Beta has a new line."))
    q = c.app.state.queue
    deadline = time.monotonic() + 20
    while not fake.calls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fake.calls and fake.calls[0][0] == "test/beta"


def test_restart_mid_build_recovers_from_build_and_store(built, tmp_path):
    """A build killed midway leaves tmp/ garbage only; a new server shows the last good build as built and
    marks it out of date when the specs moved on."""
    (built / "cache" / "tmp").mkdir(exist_ok=True)
    (built / "cache" / "tmp" / "half-written.partial").write_bytes(b"\0" * 100)
    digest = json.loads((built / "build" / "test" / "beta" / "manifest.json").read_text())["build_digest"]
    q = BuildQueue(settings_for(built, tmp_path), StateBook(), build_fn=FakeBuild())
    q.start(scan=True)
    try:
        assert q.wait_idle(60)
        st = q.book.get("test/beta")
        assert st.state == "built" and st.build_digest == digest and not st.stale
        assert q.book.get("test/alpha").state == "not-built"
    finally:
        q.stop()
    spec = built / "videos" / "test" / "beta.yaml"
    spec.write_text(spec.read_text().replace("Thanks", "Thanks again"))
    q = BuildQueue(settings_for(built, tmp_path), StateBook(), build_fn=FakeBuild())
    q.start(scan=True)
    try:
        assert q.wait_idle(60)
        st = q.book.get("test/beta")
        assert st.state == "built" and st.stale and st.build_digest == digest
    finally:
        q.stop()


def test_the_start_scan_warms_the_narration_voices(mini, tmp_path, monkeypatch):
    """The real worker loads the project's Piper voices in the background when it starts, so the first save's
    narration does not pay for loading one; a queue with a test's fake build warms nothing."""
    import time

    import renderers.tts_piper as tts

    seen: list[int] = []
    monkeypatch.setattr(tts, "warm", lambda model=None, seed=0: seen.append(seed))
    brand = mini / "brands" / "test.yaml"
    brand.write_text(brand.read_text().replace("defaults: {voice: robot,", "defaults: {voice: joe,"))
    settings = settings_for(mini, tmp_path)
    plan = Workspace(settings).plan()
    seeds = sorted({int(s.params.get("seed", 0)) for s in plan.steps.values()
                    if s.kind == "tts.piper" and "model" not in s.inputs})
    assert seeds, "the tiny project narrates with the bundled Piper voice"
    fake = BuildQueue(settings, StateBook(), build_fn=lambda *a: None)
    assert fake.warm is False
    q = BuildQueue(settings, StateBook(), build_fn=lambda *a: None, warm=True)
    q.start(scan=True)
    try:
        assert q.wait_idle(30)
        deadline = time.monotonic() + 10
        while seen != seeds and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == seeds
        q.rescan()
        assert q.wait_idle(30)
        time.sleep(0.1)
        assert seen == seeds  # once per worker
    finally:
        q.stop()


def test_studio_builds_two_steps_at_a_time_unless_told_otherwise():
    from server.previews.services import STUDIO_JOBS, studio_jobs

    assert STUDIO_JOBS == 2 and studio_jobs({}) == 2
    assert studio_jobs({"SHOWRUNNER_JOBS": "4"}) == 4 and studio_jobs({"SHOWRUNNER_JOBS": " 1 "}) == 1
    for bad in ("0", "-3", "many", "2.5", "65", ""):
        assert studio_jobs({"SHOWRUNNER_JOBS": bad}) == 2
