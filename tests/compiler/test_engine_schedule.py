"""The engine's scheduler on a synthetic plan: dependency order, failures skipping what is downstream, cached steps
answered without running, and shared resources (Chromium) released once no step left in a long build needs them."""
from __future__ import annotations

import threading

import pytest

import renderers
from compiler.execute import Engine
from compiler.plan import Plan, make_step, out
from core.errors import StepError
from core.events import ListReporter
from core.store import Store
from renderers.base import Context, Params, Renderer

RUNS: list[str] = []
RELEASED: list[str] = []
LOCK = threading.Lock()


class Text(Renderer):
    """Writes its text plus what its inputs hold; fails when asked to."""

    kind = "test.text"
    version = 1
    optional_inputs = ("a", "b")
    outputs = ("out.txt",)

    class Params(Params):
        text: str
        fail: bool = False

    def run(self, ctx: Context) -> dict:
        with LOCK:
            RUNS.append(ctx.step_id)
        if ctx.params.fail:
            raise StepError("asked to fail")
        parts = [ctx.params.text] + [p.read_text() for p in (ctx.inputs.get("a"), ctx.inputs.get("b")) if p]
        ctx.out("out.txt").write_text("|".join(parts))
        return {}


class Html(Text):
    kind = "test.html"
    resources = ("browser",)

    @classmethod
    def release(cls, resource: str) -> None:
        with LOCK:
            RELEASED.append(resource)


@pytest.fixture(autouse=True)
def fake_kinds(monkeypatch):
    for cls in (Text, Html):
        monkeypatch.setitem(renderers.REGISTRY, cls.kind, "unused:Unused")
        monkeypatch.setitem(renderers._loaded, cls.kind, cls)
    RUNS.clear()
    RELEASED.clear()


def chain_plan(n: int, html_first: int = 0, fail: int | None = None) -> Plan:
    """n chains of two steps (i/src -> i/use) plus one step that joins every chain's end."""
    plan = Plan()
    ends = []
    for i in range(n):
        kind = "test.html" if i < html_first else "test.text"
        src = make_step(plan, f"v/{i}/src", "v", kind, {"text": f"s{i}", "fail": i == fail})
        ends.append(make_step(plan, f"v/{i}/use", "v", "test.text", {"text": f"u{i}"}, {"a": out(src, "out.txt")}))
    join = ends[0]
    for i, e in enumerate(ends[1:]):
        join = make_step(plan, f"v/join/{i}", "v", "test.text", {"text": "j"}, {"a": out(join, "out.txt"),
                                                                               "b": out(e, "out.txt")})
    return plan


def engine(tmp_path, plan: Plan) -> Engine:
    return Engine(tmp_path, plan, Store(tmp_path / "cache"), reporter=ListReporter())


def test_every_step_runs_once_after_its_inputs(tmp_path):
    plan = chain_plan(30)
    e = engine(tmp_path, plan)
    assert e.build(list(plan.steps), jobs=2) == {}
    assert sorted(RUNS) == sorted(plan.steps)
    pos = {sid: i for i, sid in enumerate(RUNS)}
    for sid, st in plan.steps.items():
        assert all(pos[d] < pos[sid] for d in st.deps())
    last = e.store.blob_path(e.manifest(e.key("v/join/28")[0])["outputs"]["out.txt"]["digest"]).read_text()
    assert last.startswith("j|") and "u29|s29" in last


def test_a_failure_skips_only_what_depends_on_it(tmp_path):
    plan = chain_plan(6, fail=2)
    e = engine(tmp_path, plan)
    failed = e.build(list(plan.steps), jobs=2)
    assert "asked to fail" in failed["v/2/src"]
    skipped = {s for s, why in failed.items() if why.startswith("skipped")}
    assert skipped == {"v/2/use"} | {f"v/join/{i}" for i in range(1, 5)}
    assert all(e.is_done(s) for s in plan.steps if s not in failed)
    kinds = [ev.type for ev in e.reporter.events if ev.step in skipped]
    assert kinds == ["skipped"] * len(skipped)  # each skipped step is reported once


def test_a_noop_build_runs_nothing_and_reads_each_manifest_once(tmp_path, monkeypatch):
    plan = chain_plan(20)
    assert engine(tmp_path, plan).build(list(plan.steps), jobs=2) == {}
    RUNS.clear()
    e = engine(tmp_path, plan)
    reads = []
    real = e.store.get_manifest
    monkeypatch.setattr(e.store, "get_manifest", lambda key, **kw: reads.append(key) or real(key, **kw))
    assert e.build(list(plan.steps), jobs=2) == {}
    assert RUNS == []
    assert {ev.type for ev in e.reporter.events} == {"hit"}
    assert len(reads) == len(set(reads)) == len(plan.steps)


def test_a_shared_resource_is_released_once_no_step_left_needs_it(tmp_path):
    plan = chain_plan(12, html_first=3)  # 3 browser steps among 12 + 12 + 11 steps
    assert engine(tmp_path, plan).build(list(plan.steps), jobs=2) == {}
    assert RELEASED == ["browser"]


def test_a_short_build_keeps_the_resource_warm(tmp_path):
    plan = chain_plan(2, html_first=1)  # a studio edit's size: 5 steps
    assert engine(tmp_path, plan).build(list(plan.steps), jobs=2) == {}
    assert RELEASED == []


def test_a_one_shot_process_frees_the_resource_even_in_a_short_build(tmp_path):
    """The command line and doit exit after one build: nothing to keep the browser warm for, so it is freed as
    soon as its last user is done, while the steps after it run."""
    plan = chain_plan(2, html_first=1)
    e = engine(tmp_path, plan)
    e.one_shot = True
    assert e.build(list(plan.steps), jobs=2) == {}
    assert RELEASED == ["browser"]
    assert len(RUNS) == len(plan.steps)


def test_the_command_line_workspace_is_one_shot(tmp_path):
    from compiler.cli import workspace

    ws, term = workspace(tmp_path)
    try:
        assert ws.one_shot and ws.engine_for(ws.plan()).one_shot
    finally:
        term.close()


class Gather(Text):
    """Joins any number of inputs (a soundtrack over every narration, an assembly over every segment)."""

    kind = "test.gather"
    optional_inputs = ("a", "b")

    def run(self, ctx: Context) -> dict:
        with LOCK:
            RUNS.append(ctx.step_id)
        paths = [p for name in ("a", "b") for p in (ctx.inputs.get(name) or [])]
        ctx.out("out.txt").write_text("|".join([ctx.params.text] + [p.read_text() for p in paths]))
        return {}


class Lone(Text):
    kind = "test.lone"  # one step per video: a thumbnail


def video_plan(n: int) -> Plan:
    """A video's shape: n narrations, a segment on each, one soundtrack over every narration, one thumbnail that
    nothing waits on, and the assembly of the segments and the soundtrack."""
    plan = Plan()
    make_step(plan, "v/thumbnail", "v", "test.lone", {"text": "t"})
    voices = [make_step(plan, f"v/voice/{i}", "v", "test.text", {"text": f"n{i}"}) for i in range(n)]
    segments = [make_step(plan, f"v/segment/{i}", "v", "test.text", {"text": f"s{i}"}, {"a": out(v, "out.txt")})
                for i, v in enumerate(voices)]
    sound = make_step(plan, "v/soundtrack", "v", "test.gather", {"text": "m"},
                      {"a": [out(v, "out.txt") for v in voices]})
    make_step(plan, "v/assemble", "v", "test.gather", {"text": "a"},
              {"a": [out(s, "out.txt") for s in segments], "b": [out(sound, "out.txt")]})
    return plan


@pytest.fixture
def gather_kinds(monkeypatch):
    for cls in (Gather, Lone):
        monkeypatch.setitem(renderers.REGISTRY, cls.kind, "unused:Unused")
        monkeypatch.setitem(renderers._loaded, cls.kind, cls)


def test_ready_steps_start_by_the_chain_behind_them_then_rarest_kind(tmp_path, gather_kinds):
    """The narrations first (a segment, the soundtrack and the assembly wait on each), then the lone soundtrack
    ahead of the many segments that wait as long, and the thumbnail, which nothing waits on, fills in at the end:
    first in, first out started the thumbnail first and left the soundtrack to run alone after the last segment."""
    plan = video_plan(6)
    e = engine(tmp_path, plan)
    assert e.build(["v/assemble", "v/thumbnail"], jobs=1) == {}
    assert RUNS == ([f"v/voice/{i}" for i in range(6)] + ["v/soundtrack"] + [f"v/segment/{i}" for i in range(6)]
                    + ["v/thumbnail", "v/assemble"])
    out = e.store.blob_path(e.manifest(e.key("v/assemble")[0])["outputs"]["out.txt"]["digest"]).read_text()
    assert out == "a|s0|n0|s1|n1|s2|n2|s3|n3|s4|n4|s5|n5|m|n0|n1|n2|n3|n4|n5"


class HtmlLone(Html):
    kind = "test.htmllone"  # a thumbnail: one per video, in the browser the slides use


def test_a_thumbnail_runs_with_the_slides_that_share_its_browser(tmp_path, gather_kinds, monkeypatch):
    """A step sharing a resource starts with the highest of the steps sharing it: the thumbnail runs beside the
    slides, so the browser is closed before the segments, not kept open through them for a thumbnail at the end."""
    monkeypatch.setitem(renderers.REGISTRY, HtmlLone.kind, "unused:Unused")
    monkeypatch.setitem(renderers._loaded, HtmlLone.kind, HtmlLone)
    plan = Plan()
    make_step(plan, "v/thumbnail", "v", "test.htmllone", {"text": "t"})
    segments = []
    for i in range(8):
        voice = make_step(plan, f"v/voice/{i}", "v", "test.text", {"text": f"n{i}"})
        slide = make_step(plan, f"v/slide/{i}", "v", "test.html", {"text": f"p{i}"})
        segments.append(make_step(plan, f"v/segment/{i}", "v", "test.text", {"text": f"s{i}"},
                                  {"a": out(voice, "out.txt"), "b": out(slide, "out.txt")}))
    make_step(plan, "v/assemble", "v", "test.gather", {"text": "a"}, {"a": [out(s, "out.txt") for s in segments]})
    real = Html.release.__func__
    monkeypatch.setattr(Html, "release", classmethod(lambda cls, r: RUNS.append("released") or real(cls, r)))
    assert engine(tmp_path, plan).build(["v/assemble", "v/thumbnail"], jobs=1) == {}
    assert RUNS.index("v/thumbnail") < RUNS.index("released") < min(RUNS.index(f"v/segment/{i}") for i in range(8))
    assert RELEASED == ["browser"]


def test_of_equally_urgent_segments_the_costliest_starts_first():
    """Longest processing time first, among ready steps of one kind and depth: segment.ffmpeg's cost hint (the
    narration's words, what the scene shows) starts a Ken Burns zoom or a camera clip before an animation, an
    animation before a slide, and a copied clip last; a longer narration of the same visual first (the samples'
    composition ended on a 3.5 s Manim segment started after the 1.5 s slides, one core idle for 1.7 s)."""
    from compiler.execute import start_order
    from compiler.steps import Ref, Step

    plan = Plan()
    base = {"width": 1920, "height": 1080, "fps": 30}
    shows = {"slide": ({"visual_type": "image", "motion": "none"}, None),
             "zoom": ({"visual_type": "image", "motion": "zoom_in"}, None),
             "manim": ({"visual_type": "video"}, "manim.scene"),
             "camera": ({"visual_type": "video"}, None),
             "copied": ({"visual_type": "video", "stream_copy": True}, None),
             "long-slide": ({"visual_type": "image", "motion": "none"}, None)}
    segments = []
    for name, (params, maker) in shows.items():
        words = 60 if name == "long-slide" else 30
        voice = make_step(plan, f"v/voice/{name}", "v", "tts.espeak", {"text": " ".join(["word"] * words)})
        inputs = {"audio": out(voice, "audio.wav"), "timings": out(voice, "timings.json")}
        inputs["visual"] = Ref(file=f"media/{name}.mp4")
        if maker:  # an animation step (its own params do not matter here)
            plan.steps[f"v/{maker}/{name}"] = Step(id=f"v/{maker}/{name}", video="v", kind=maker, version=1,
                                                   params={}, outputs=["clip.mp4"])
            inputs["visual"] = out(f"v/{maker}/{name}", "clip.mp4")
        segments.append(make_step(plan, f"v/segment/{name}", "v", "segment.ffmpeg", {**base, **params}, inputs))
    ranks = start_order(plan, list(plan.steps))
    by_rank = sorted(segments, key=ranks.get)
    # the zoom and the camera clip cost alike: plan order between them
    assert [s.rsplit("/", 1)[1] for s in by_rank] == ["zoom", "camera", "manim", "long-slide", "slide", "copied"]
