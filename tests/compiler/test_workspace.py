"""The Workspace: one strict target selection, typed results, and a terminal reporter that stays short."""
from __future__ import annotations

import io

import pytest

from compiler.plan import Plan, VideoPlan
from compiler.doit_reporter import DoitReporter, _kind
from compiler.reporting import TerminalReporter
from compiler.workspace import (BuildResult, CheckResult, ExplainRow, GcResult, UnknownTarget, VideoOutcome,
                                Workspace, select_targets)
from core.events import Event, ListReporter
from support import session, write


def plan_with(*vids: str, pending=(), errors=()) -> Plan:
    plan = Plan()
    for v in vids:
        plan.videos[v] = VideoPlan(id=v, spec=f"videos/{v}.yaml", steps=[], formats=[])
    plan.pending.update({v: "awaiting a script" for v in pending})
    plan.errors.update({w: "error" for w in errors})
    return plan


def test_select_targets_is_strict():
    plan = plan_with("kitchen/a", "kitchenlab/x", "kitchenlab/y", "cosmos/dark-sky", pending=["cosmos/topic"],
                     errors=["cosmos/broken", "brands/kitchen.yaml", "recipes/formats.yaml"])
    assert select_targets(plan, []) == ["cosmos/broken", "cosmos/dark-sky", "cosmos/topic", "kitchen/a",
                                        "kitchenlab/x", "kitchenlab/y"]
    assert select_targets(plan, ["kitchen"]) == ["kitchen/a"]  # never kitchenlab/x
    assert select_targets(plan, ["kitchen/"]) == ["kitchen/a"]
    assert select_targets(plan, ["kitchenlab/x"]) == ["kitchenlab/x"]
    assert select_targets(plan, ["cosmos"]) == ["cosmos/broken", "cosmos/dark-sky", "cosmos/topic"]
    assert select_targets(plan, ["kitchenlab/x", "kitchen"]) == ["kitchen/a", "kitchenlab/x"]
    for bad in ("kitch", "kitchenlab/z", "cosmos/dark", "brands", "recipes", "kitchenlab/x/"):
        with pytest.raises(UnknownTarget, match="no video matches"):
            select_targets(plan, [bad])
    assert select_targets({"a/b", "a/c", "ab/d", "brands/x.yaml"}, ["a"]) == ["a/b", "a/c"]


def test_typed_results(mini):
    write(mini / "videos/test/gamma.yaml", "format: nope\nscenes: [{narration: hi}]\n")
    ws = session(mini)
    res = ws.check()
    assert isinstance(res, CheckResult) and not res.ok
    assert res.ok_videos == ["test/alpha", "test/beta"] and "unknown format 'nope'" in res.errors["test/gamma"]
    assert res.summary() == "2 video(s) OK, 1 with errors"
    assert CheckResult.model_validate_json(res.model_dump_json()) == res  # what the server will send
    gc = ws.gc(dry_run=True)
    assert isinstance(gc, GcResult) and gc.refused == ["test/gamma"] and not gc.ok
    rows = ws.explain(["test/beta"])
    assert rows and all(isinstance(r, ExplainRow) for r in rows)
    # beta's steps, and the narration embeddings and their index its similarity check reads
    assert {r.status for r in rows} <= {"miss", "pending"}
    assert all(r.step.startswith(("test/beta/", "test/_qc/embed/", "test/_qc/embed-index")) for r in rows)
    with pytest.raises(UnknownTarget):
        ws.explain(["tes"])
    with pytest.raises(UnknownTarget):
        ws.build(["nobody/x"])
    assert ws.reporter.of("plan", "executed") == []  # an unknown target fails before anything runs


def test_build_result_of_a_broken_video_and_its_events(mini):
    write(mini / "videos/test/gamma.yaml", "format: nope\nscenes: [{narration: hi}]\n")
    ws = session(mini)
    res = ws.build(["test/gamma"])
    assert isinstance(res, BuildResult) and not res.ok and res.ran == 0
    assert res.videos == [VideoOutcome(video="test/gamma", status="failed", error=res.errors["test/gamma"])]
    assert [e.detail for e in ws.reporter.of("plan")] == ["build: 0 step(s) for 0 video(s)"]
    (video,) = ws.reporter.of("video")
    assert video.video == "test/gamma" and video.detail.startswith("failed: ") and "unknown format" in video.detail
    assert ws.reporter.of("finished")[0].detail == res.summary()
    assert BuildResult.model_validate_json(res.model_dump_json()) == res


def test_engine_reports_progress_retries_and_waits(mini):
    ws = session(mini)
    sid = "test/alpha/narration/00"
    progress, notice = ws.engine._progress(sid), ws.engine._notice(sid)
    for i in range(50):
        progress(i / 50, "speaking")  # rate-limited ...
    progress(0.5, "retrying in 2.0s")  # ... but a new message always gets through
    notice("retry", "HTTP 503; retrying in 2.0s")
    notice("wait", "waiting for a free HeyGen slot")
    notice("fallback", "no model; using a still")
    got = ws.reporter.events
    assert 2 <= len([e for e in got if e.type == "progress"]) <= 5
    assert [e.detail for e in got if e.type == "progress"][-1] == "retrying in 2.0s"
    assert [(e.type, e.video) for e in got if e.type != "progress"] == [
        ("retry", "test/alpha"), ("wait", "test/alpha"), ("warning", "test/alpha")]


def events_of_a_build() -> list[Event]:
    ev = [Event(type="plan", total=6, detail="build: 6 step(s) for 2 video(s)"),
          Event(type="warning", video="c/a", detail="videos/c/a.yaml:3:5: no image model; declared fallback")]
    for i in range(3):
        ev += [Event(type="hit", step=f"c/a/s{i}", video="c/a")]
    ev += [Event(type="miss", step="c/b/s0", video="c/b"),
           Event(type="progress", step="c/b/s0", video="c/b", fraction=0.5, detail="speaking"),
           Event(type="retry", step="c/b/s0", video="c/b", detail="HTTP 503; retrying in 1.0s"),
           Event(type="failed", step="c/b/s0", video="c/b", detail="ffmpeg failed while encoding"),
           Event(type="skipped", step="c/b/s1", video="c/b"),
           Event(type="miss", step="c/a/s3", video="c/a"),
           Event(type="executed", step="c/a/s3", video="c/a", seconds=1.5),
           Event(type="materialized", step="c/a:long", video="c/a", detail="build/c/a"),
           Event(type="video", video="c/a", detail="built -> build/c/a"),
           Event(type="video", video="c/b", detail="failed: c/b/s0: ffmpeg failed while encoding"),
           Event(type="video", video="c/t", detail="pending: no LLM provider"),
           Event(type="finished", detail="1 output folder(s) written, 2 video(s) failed; 1 step(s) ran, 3 cached")]
    return ev


def test_terminal_reporter_is_short_when_not_a_tty():
    out, err = io.StringIO(), io.StringIO()
    term = TerminalReporter(out=out, err=err)
    assert not term.live  # a StringIO is no terminal
    for e in events_of_a_build():
        term.emit(e)
    assert out.getvalue().splitlines() == [
        "build: 6 step(s) for 2 video(s)",
        "built    c/a  -> build/c/a",
        "1 output folder(s) written, 2 video(s) failed; 1 step(s) ran, 3 cached"]
    assert err.getvalue().splitlines() == [
        "warning: videos/c/a.yaml:3:5: no image model; declared fallback",
        "retry: c/b/s0: HTTP 503; retrying in 1.0s",
        "FAILED   c/b: c/b/s0: ffmpeg failed while encoding",
        "PENDING  c/t: no LLM provider"]


def test_terminal_reporter_verbose_logs_each_step():
    out, err = io.StringIO(), io.StringIO()
    term = TerminalReporter(out=out, err=err, verbose=True)
    for e in events_of_a_build():
        term.emit(e)
    text = out.getvalue()
    for line in ("  hit   c/a/s0", "  run   c/b/s0", "    c/b/s0: speaking  50%", "  done  c/a/s3 (1.5s)",
                 "  skip  c/b/s1", "  wrote build/c/a/"):
        assert line in text
    assert "  FAIL  c/b/s0: ffmpeg failed while encoding" in err.getvalue()


def test_terminal_reporter_progress_lines_are_rate_limited():
    out = io.StringIO()
    term = TerminalReporter(out=out, err=io.StringIO(), interval=0.0)
    term.emit(Event(type="plan", total=100, detail="build: 100 step(s) for 1 video(s)"))
    for i in range(100):
        term.emit(Event(type="hit", step=f"v/x/{i}", video="v/x"))
    assert len(out.getvalue().splitlines()) == 101 and "100/100 steps · 100 cached" in out.getvalue()
    out2 = io.StringIO()
    term2 = TerminalReporter(out=out2, err=io.StringIO(), interval=3600.0)
    term2.emit(Event(type="plan", total=100, detail="build: 100 step(s) for 1 video(s)"))
    for i in range(100):
        term2.emit(Event(type="hit", step=f"v/x/{i}", video="v/x"))
    assert len(out2.getvalue().splitlines()) == 1


def test_terminal_reporter_live_display_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out, err = Tty(), io.StringIO()
    term = TerminalReporter(out=out, err=err)
    assert term.live
    events = events_of_a_build()
    for e in events[:6]:
        term.emit(e)
    assert term._progress is not None and term.status().startswith("3/6 steps · 3 cached")
    for e in events[6:]:
        term.emit(e)
    assert term._progress is None  # taken down at the end; the summary stays
    text = out.getvalue()
    assert "built    c/a" in text and "FAILED   c/b" in err.getvalue()  # failures on stderr, as without a terminal
    assert "retry: c/b/s0: HTTP 503" in text and "warning: videos/c/a.yaml:3:5" in text  # above the live area


def test_doit_task_names():
    assert _kind("build:cosmos/dark-sky/narration/00") == ("step", "cosmos/dark-sky/narration/00")
    assert _kind("build:cosmos/dark-sky") == ("video", "cosmos/dark-sky")
    assert _kind("build:spec:brands/x.yaml") == ("spec", "brands/x.yaml")
    assert _kind("script:toast/toast") == ("script", "toast/toast")
    assert _kind("script:spec:brands/x.yaml") == ("spec", "brands/x.yaml")
    assert _kind("build") == ("group", "build") and _kind("publish:cosmos/x")[0] == "other"
    DoitReporter.selected = ["build:cosmos/dark-sky", "build:kitchenlab/x/narration/00"]
    assert DoitReporter.targets() == ["cosmos/dark-sky", "kitchenlab/x"]
    DoitReporter.selected = ["build"]
    assert DoitReporter.targets() is None
    DoitReporter.selected = []


def test_workspace_is_the_one_place_for_the_project(mini, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_ROOT", str(mini))
    ws = Workspace.open(reporter=ListReporter())
    assert ws.root == mini.resolve() and ws.store.root == mini.resolve() / "cache"
    assert ws.engine.store is ws.store and ws.engine_for(ws.plan()) is ws.engine


def test_one_video_that_breaks_the_engine_never_stops_the_others(mini, monkeypatch):
    """Issue 9.6: whatever one video's steps or compile raise, the other videos compile, build and are written."""
    from compiler import execute, plan as plan_mod

    real_material = execute.Engine.material

    def material(self, step):
        if step.video == "test/beta":
            raise ValueError("Out of range float values are not JSON compliant")  # what an unchecked .inf did
        return real_material(self, step)

    monkeypatch.setattr(execute.Engine, "material", material)
    ws = session(mini)
    result = ws.build()
    assert result.outcome("test/alpha").status == "built" and (mini / "build/test/alpha/video.mp4").is_file()
    beta = result.outcome("test/beta")
    assert beta.status == "failed" and "internal error" in beta.error and "Traceback" not in beta.error
    assert not (mini / "build/test/beta").exists()

    monkeypatch.setattr(execute.Engine, "material", real_material)
    real_slide = plan_mod.Compiler.visual_slide

    def visual_slide(self, *args, **kw):
        if self.lv.id == "test/alpha":
            raise KeyError("a compiler bug")
        return real_slide(self, *args, **kw)

    monkeypatch.setattr(plan_mod.Compiler, "visual_slide", visual_slide)
    plan = session(mini).plan()
    assert "internal error while compiling this video" in plan.errors["test/alpha"]
    assert "test/beta" in plan.videos and not any(s.video == "test/alpha" for s in plan.steps.values())
