"""text_checks: one qc.text step per format over the slides and the thumbnail; through the real engine it reads
their facts, finds a planted defect at its spec field, and re-runs only when a slide changes."""
from __future__ import annotations

import json

from compiler import qcplan
from compiler.plan import Compiler, Plan
from core.qc import QCFindings
from support import session, write


def compiled(root, vid="test/alpha", fmt="tiny"):
    ws = session(root)
    lv = ws.project.videos[vid]
    plan = Plan()
    c = Compiler(ws.project, lv, plan)
    c.compile()
    return ws, plan, qcplan.text_checks(c, f"{vid}/{fmt}", fmt, ws.project.formats[fmt], lv.script)


def findings(ws, plan, ref) -> tuple[QCFindings, list[str]]:
    engine = ws.engine_for(plan)
    failed = engine.build([ref.step])
    assert failed == {}
    m = engine.run_step(ref.step)
    path = engine.store.open_verified(m["outputs"]["findings.json"]["digest"])
    return QCFindings.model_validate(json.loads(path.read_text())), [e.step for e in ws.reporter.of("executed")]


def test_text_checks_step_shape(mini):
    write(mini / "brands/test.yaml", (mini / "brands/test.yaml").read_text() + "qc: {text: {thumbnail_max_words: 4}}\n")
    _, plan, [ref] = compiled(mini)
    step = plan.steps[ref.step]
    assert (ref.step, ref.output, step.kind) == ("test/alpha/tiny/qc/text", "findings.json", "qc.text")
    assert [r.step for r in step.inputs["slides"]] == ["test/alpha/tiny/slide/00"]
    assert step.inputs["thumbnail"].step == "test/alpha/tiny/thumbnail"
    assert step.params["slides"] == [{"scene": 0, "at_s": None, "fields": {
        "title": ["visual", "title"], "bullets": ["visual", "bullets"], "body": ["visual", "body"]}}]
    assert step.params["thumbnail_field"] == ["title"]  # alpha has no thumbnail text: the title is shown
    assert step.params["thresholds"]["thumbnail_max_words"] == 4 and step.params["thresholds"]["min_contrast"] == 4.5
    assert step.params["measured_by"] == {"slide.html": 3, "thumbnail.html": 2}
    assert step.deps() == ["test/alpha/tiny/thumbnail", "test/alpha/tiny/slide/00"]


GAMMA = """\
title: Gamma
format: tinyshort
scenes:
  - narration: One slide.
    visual: {kind: slide, template: bold, title: Find a dark sky, bullets: [Leave town, Look up]}
"""


def test_planted_bullets_found_at_their_fields_and_qc_reruns_only_on_change(mini):
    """A Short (bottom kept for captions) on the bold template: six bullets of the longest length a spec allows
    do not fit above the caption area even at their smallest size; the last ones are reported, by field."""
    spec = write(mini / "videos/test/gamma.yaml", GAMMA)
    ws, plan, [ref] = compiled(mini, "test/gamma", "tinyshort")
    clean, ran = findings(ws, plan, ref)
    # the slide is clean (the thumbnail, the title over the default dark background, too)
    assert clean.findings == [] and "test/gamma/tinyshort/qc/text" in ran
    ws, plan, [ref] = compiled(mini, "test/gamma", "tinyshort")
    _, ran = findings(ws, plan, ref)
    assert ran == []  # unchanged slides and thumbnail: QC is a cache hit
    bullet = ("Light escapes upward from cities and the air scatters it back down " * 2)[:90]
    spec.write_text(spec.read_text().replace("[Leave town, Look up]", json.dumps([bullet] * 6)))
    ws, plan, [ref] = compiled(mini, "test/gamma", "tinyshort")
    found, ran = findings(ws, plan, ref)
    assert sorted(ran) == ["test/gamma/tinyshort/qc/text", "test/gamma/tinyshort/slide/00"]
    by_check: dict[str, list] = {}
    for f in found.findings:
        assert f.scene == 0 and f.reason == "visual.text_overflow" and f.field[:2] == ["visual", "bullets"]
        by_check.setdefault(f.check, []).append(f.field[2])
    assert by_check["text.caption_area"][-1] == 5 and 0 not in by_check["text.caption_area"]
    assert 5 in by_check["text.overflow"] and set(by_check) == {"text.caption_area", "text.overflow"}
