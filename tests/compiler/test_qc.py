"""The quality gate (issue 11): QC steps in the final plan, planted defects caught with the right reason and
location, a clean build auto-approved, qc.json outside the build digest, QC of an unchanged build cached."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import BETA, BRAND, REPO, executed, session, write

TITLE_110 = ("The Astonishing and Completely True Story of How Two Slides Explained Everything "
             "About Testing to a Whole Team")
assert len(TITLE_110) == 110

# A topic video whose script lock an LLM wrote, with a title over YouTube's limit.
GEN = "topic: how two slides explain testing\nformat: tiny\n"
GEN_LOCK = f"""\
title: {TITLE_110}
description: Two slides, one idea.
scenes:
  - narration: Testing starts with a question. What should this code do?
    visual: {{kind: slide, title: A question}}
  - narration: Then we write down the answer, and let the machine check it.
    visual: {{kind: slide, title: An answer}}
generated:
  provider: gemini
  model: gemini-2.5-flash
  key: {"ab" * 32}
  at: "2026-11-30T12:00:00Z"
"""
# An almost word-for-word repeat of beta.
COPY = """\
title: Beta Again
format: tiny
scenes:
  - narration: Beta has one slide.
    visual: {kind: slide, title: Beta}
  - narration: And a second slide, to finish.
    visual: {kind: slide, title: End, body: Thanks}
"""
# A banned phrase in the second scene's narration.
BANNED = """\
title: Gamma
format: tiny
scenes:
  - narration: Gamma talks about green leaves in the spring.
    visual: {kind: slide, title: Leaves}
  - narration: The way leaves turn sunlight into sugar is Mind-Blowing, honestly.
    visual: {kind: slide, title: Sugar}
"""
# Chapters that YouTube would not show: three marks, each about a second long.
CHAPTERS = """\
title: Delta
format: tiny
scenes:
  - narration: Delta opens here.
    visual: {kind: slide, title: Open}
    chapter: Opening
  - narration: A short middle.
    visual: {kind: slide, title: Middle}
    chapter: Middle part
  - narration: And the end.
    visual: {kind: slide, title: End}
    chapter: The end
"""


def declared(brand: str = BRAND, extra: str = "") -> str:
    """The test brand, declaring made_for_kids (an undeclared audience is a finding of its own)."""
    return brand.replace('channel: {id: UCtest, category: "27"}',
                         'channel: {id: UCtest, category: "27", made_for_kids: false}') + extra


def line_col(path: Path, needle: str, nth: int = 0) -> tuple[int, int]:
    lines = path.read_text().splitlines()
    hits = [(i + 1, ln.index(needle) + 1) for i, ln in enumerate(lines) if needle in ln]
    return hits[nth]


@pytest.fixture(scope="module")
def defects(tmp_path_factory, _mini_base):
    """One project with every planted defect of this module, built once."""
    root = tmp_path_factory.mktemp("qc") / "proj"
    shutil.copytree(_mini_base, root)
    (root / "videos/test/alpha.yaml").unlink()
    write(root / "brands/test.yaml", declared(extra='banned_phrases: ["mind-blowing", "smash that like button"]\n'))
    write(root / "videos/test/gen.yaml", GEN)
    write(root / "videos/test/gen.script.yaml", GEN_LOCK)
    write(root / "videos/test/copy.yaml", COPY)
    write(root / "videos/test/gamma.yaml", BANNED)
    write(root / "videos/test/delta.yaml", CHAPTERS)
    s = session(root)
    res = s.build(jobs=2)
    assert res.ok, (res.failed_steps, res.errors)
    return root, s.qc()


def view(result, vid):
    return next(v for v in result.videos if v.video == vid)


def test_qc_steps_are_in_the_final_plan_only(mini):
    s = session(mini)
    final, preview = s.plan(), s.plan("preview")
    kinds = {st.kind for st in final.steps.values()}
    assert {"qc.script", "qc.policy", "qc.verdict", "embed.minilm"} <= kinds
    assert not any(st.kind.startswith(("qc.", "embed.")) for st in preview.steps.values())
    fo = final.videos["test/alpha"].formats[0]
    assert fo.qc is not None and fo.qc.step == "test/alpha/tiny/qc/verdict" and "qc.json" not in fo.files
    # the similarity check reads its own embedding and the brand's index of all of them, each keyed by its narration
    policy = final.steps["test/alpha/tiny/qc/policy"]
    assert policy.inputs["embedding"].step == "test/_qc/embed/alpha" and policy.params["video"] == "test/alpha"
    assert policy.inputs["index"].step == "test/_qc/embed-index"
    index = final.steps["test/_qc/embed-index"]
    assert index.params["videos"] == ["test/alpha", "test/beta"]
    assert [r.step for r in index.inputs["embeddings"]] == ["test/_qc/embed/alpha", "test/_qc/embed/beta"]
    assert final.steps["test/_qc/embed/beta"].params["text"] == "Beta has one slide.\n\nAnd a second slide to finish."
    # the mini videos use espeak (a synthetic voice): the disclosure check knows
    assert {"what": "a synthetic (TTS) voice", "scene": 0} in policy.params["synthetic"]


def test_a_brand_with_one_video_embeds_nothing(mini):
    """Nothing to compare with: no embedding step, so no model is loaded for the build."""
    (mini / "videos/test/alpha.yaml").unlink()
    plan = session(mini).plan()
    assert not any(st.kind == "embed.minilm" for st in plan.steps.values())
    assert plan.steps["test/beta/tiny/qc/policy"].inputs == {}
    write(mini / "videos/test/alpha.yaml", "format: tiny\nscenes: [{narration: Hello.}]\n")
    write(mini / "brands/test.yaml", BRAND + "qc:\n  policy: {similarity_warn: null, similarity_error: null}\n")
    plan = session(mini).plan()  # two videos, but the similarity check is off
    assert not any(st.kind == "embed.minilm" for st in plan.steps.values())


def test_an_llm_title_over_the_limit_is_rejected_at_the_lock_line(defects):
    root, result = defects
    v = view(result, "test/gen")
    assert v.verdict == "reject"
    [f] = [f for f in v.findings if f.check == "script.title_length"]
    assert (f.severity, f.reason, f.scene) == ("error", "metadata.title", None)
    line, col = line_col(root / "videos/test/gen.script.yaml", "title:")
    assert f.where == f"videos/test/gen.script.yaml:{line}:{col + len('title: ')}"
    assert "110 characters" in f.message and "100" in f.message
    # metadata.json carries the cut title; qc.json says so
    meta = json.loads((root / "build/test/gen/metadata.json").read_text())
    assert len(meta["title"]) <= 100 and meta["title"].endswith("…")


def test_a_repeated_script_is_flagged_on_both_videos(defects):
    root, result = defects
    for vid, other in (("test/copy", "test/beta"), ("test/beta", "test/copy")):
        v = view(result, vid)
        [f] = [f for f in v.findings if f.check == "policy.similarity"]
        assert f.severity in ("warning", "error") and f.reason == "other" and other in f.message
        assert v.verdict in ("flag", "reject")
        slug = vid.split("/")[1]
        line, col = line_col(root / f"videos/test/{slug}.yaml", "scenes:")
        assert f.where == f"videos/test/{slug}.yaml:{line + 1}:{col + 2}"  # the scenes list
    report = json.loads((root / "build/test/copy/qc.json").read_text())
    assert report["scores"]["policy.similarity_max"] > 0.9
    # unrelated scripts of the brand stay far below the threshold
    assert json.loads((root / "build/test/gamma/qc.json").read_text())["scores"]["policy.similarity_max"] < 0.9


def test_a_banned_phrase_is_rejected_at_its_scene(defects):
    root, result = defects
    v = view(result, "test/gamma")
    assert v.verdict == "reject"
    [f] = [f for f in v.findings if f.check == "script.banned_phrase"]
    assert (f.severity, f.reason, f.scene) == ("error", "script.off_brand_tone", 1)
    assert "mind-blowing" in f.message
    line, col = line_col(root / "videos/test/gamma.yaml", "narration: The way leaves")
    assert f.where == f"videos/test/gamma.yaml:{line}:{col + len('narration: ')}"
    timeline = json.loads((root / "build/test/gamma/manifest.json").read_text())["scenes"]
    assert f.at_s is not None and timeline[1]["start_s"] <= f.at_s < timeline[1]["end_s"]


def test_chapters_youtube_would_not_show_are_flagged_at_each_mark(defects):
    root, result = defects
    v = view(result, "test/delta")
    marks = [f for f in v.findings if f.check == "script.chapters"]
    assert [f.scene for f in marks] == [0, 1, 2] and all(f.severity == "warning" for f in marks)
    assert v.verdict == "flag"
    for i, f in enumerate(marks):
        line, col = line_col(root / "videos/test/delta.yaml", "chapter:", i)
        assert f.where == f"videos/test/delta.yaml:{line}:{col + len('chapter: ')}"
    assert "10 s" in marks[0].message


def test_doit_qc_json_shape(defects):
    root, _ = defects
    out = subprocess.run([sys.executable, "-m", "compiler", "--root", str(root), "qc", "--json"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 1, out.stderr  # a rejected video makes the command fail
    data = json.loads(out.stdout)
    assert [d["video"] for d in data] == ["test/beta", "test/copy", "test/delta", "test/gamma", "test/gen"]
    for d in data:
        assert set(d) == {"video", "verdict", "findings"} and d["verdict"] in ("auto-approve", "flag", "reject")
        for f in d["findings"]:
            assert {"check", "scene", "at_s", "severity", "reason", "message"} <= set(f) <= \
                {"check", "scene", "at_s", "severity", "reason", "message", "where"}
    text = subprocess.run([sys.executable, "-m", "compiler", "--root", str(root), "qc", "test/gen"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert "test/gen: reject" in text.stdout and "videos/test/gen.script.yaml:1:8" in text.stdout


def test_a_clean_build_is_auto_approved_and_qc_is_cached(mini):
    (mini / "videos/test/alpha.yaml").unlink()
    write(mini / "brands/test.yaml", declared())
    write(mini / "videos/test/both.yaml", "title: Both\nformat: [tiny, tinyshort]\n"
                                          "scenes: [{narration: Hello from two formats at once.}]\n")
    s = session(mini)
    assert s.build().ok
    res = s.qc()
    assert [(v.video, v.verdict, v.findings) for v in res.videos] == [("test/beta", "auto-approve", []),
                                                                     ("test/both", "auto-approve", [])]
    both = res.videos[1]
    assert both.units == {"tiny": "test/both", "tinyshort": "test/both@tinyshort"}
    assert both.formats == {"tiny": "auto-approve", "tinyshort": "auto-approve"}
    assert (mini / "build/test/both/tinyshort/qc.json").is_file() and res.ok
    manifest = json.loads((mini / "build/test/beta/manifest.json").read_text())
    assert manifest["qc"]["verdict"] == "auto-approve" and manifest["qc"]["errors"] == 0
    assert "qc.json" not in manifest["assets"]
    # nothing runs again: not the build, not its QC
    s2 = session(mini)
    assert s2.build().ok and executed(s2) == []
    s2.qc()
    assert executed(s2) == []


def test_a_threshold_change_rejudges_without_a_new_build_digest(mini):
    (mini / "videos/test/alpha.yaml").unlink()
    write(mini / "brands/test.yaml", declared())
    assert session(mini).build().ok
    before = json.loads((mini / "build/test/beta/manifest.json").read_text())
    write(mini / "brands/test.yaml", declared(extra="qc:\n  script: {hook_max_words: 3}\n"))
    s = session(mini)
    assert s.build().ok
    assert sorted(executed(s)) == ["test/beta/tiny/qc/script", "test/beta/tiny/qc/verdict"]
    after = json.loads((mini / "build/test/beta/manifest.json").read_text())
    assert after["build_digest"] == before["build_digest"]
    assert after["qc"]["verdict"] == "flag" and after["qc"]["digest"] != before["qc"]["digest"]
    report = json.loads((mini / "build/test/beta/qc.json").read_text())
    assert report["thresholds"]["script"]["hook_max_words"] == 3
    [f] = report["findings"]
    assert (f["check"], f["reason"], f["scene"], f["value"], f["limit"]) == \
        ("script.hook_length", "script.weak_hook", 0, 4.0, 3.0)


def test_doit_qc_stores_the_results_in_the_ledger(defects, tmp_path):
    from publish.ledger import Ledger
    from publish.qcstore import get_qc, review_queue

    root, _ = defects
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {**__import__("os").environ, "SHOWRUNNER_ROOT": str(root), "SHOWRUNNER_DB_URL": db}
    out = subprocess.run([sys.executable, "-m", "doit", "-f", str(REPO / "dodo.py"), "qc", "--json", "--video", "test"],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert out.returncode != 0  # rejected videos fail the task
    assert {d["video"] for d in json.loads(out.stdout)} >= {"test/gen", "test/delta"}  # stdout is only the JSON
    ledger = Ledger.open(db)
    try:
        for slug, verdict in (("gen", "reject"), ("delta", "flag")):
            digest = json.loads((root / f"build/test/{slug}/manifest.json").read_text())["build_digest"]
            rec = get_qc(ledger, f"test/{slug}", digest)
            assert rec is not None and rec.verdict == verdict and rec.sampled
        assert review_queue(ledger)[0].verdict == "reject"  # riskiest first
    finally:
        ledger.close()


def test_committed_samples_pass_script_and_policy_qc(tmp_path):
    """No false alarms on real scripts: the samples' script and policy checks (their narration, timeline and
    metadata built, nothing rendered) find nothing."""
    from core.qc import QCFindings

    root = tmp_path / "proj"
    for d in ("brands", "videos"):
        shutil.copytree(REPO / d, root / d)
    shutil.copytree(REPO / "recipes", root / "recipes", ignore=shutil.ignore_patterns("node_modules"))
    s = session(root)
    ids = [f"{v}/qc/{k}" for v in ("cosmos/moon-phases-short/short", "kitchenlab/pasta-water/long")
           for k in ("script", "policy")]
    assert s.engine.build(ids, jobs=2) == {}
    for sid in ids:
        m = s.store.get_manifest(s.engine.key(sid)[0])
        found = QCFindings.model_validate_json(s.store.blob_path(m["outputs"]["findings.json"]["digest"]).read_text())
        assert found.findings == [], (sid, found.findings)
        assert found.scores.get("policy.similarity_max", 0.0) < 0.6  # the brand's other videos are about other things
