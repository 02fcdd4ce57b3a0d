"""The script, policy and verdict QC renderers on small hand-made inputs (no build, no model)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from core.qc import Finding, QCFindings, QCReport
from core.spec import QCPolicy, QCScript
from renderers._lib.readability import fk_grade, syllables
from renderers.base import Context
from renderers.qc_policy import PolicyQC
from renderers.qc_script import ScriptQC
from renderers.qc_verdict import QCVerdict


def timeline(durations: list[float], chapters: list[str | None] | None = None, texts: list[str] | None = None) -> dict:
    """timeline.json of scenes this long, each narrating its text as one sentence after a 0.2 s lead."""
    scenes, t = [], 0.0
    for i, d in enumerate(durations):
        scenes.append({"index": i, "start_s": t, "end_s": t + d, "narration_s": d - 0.4, "title": None,
                       "chapter": (chapters or [None] * len(durations))[i],
                       "sentences": [{"text": (texts or [""] * len(durations))[i], "start": t + 0.2,
                                      "end": t + d - 0.2}]})
        t += d
    return {"fps": 10, "width": 320, "height": 180, "duration_s": t, "scenes": scenes}


def run_script(tmp_path: Path, *, durations=(5.0, 5.0), chapters=None, metadata=None, **params) -> QCFindings:
    params.setdefault("title", "A fine title")
    params.setdefault("scenes", [{"narration": "One short line.", "texts": []} for _ in durations])
    (tmp_path / "metadata.json").write_text(json.dumps(metadata or {"title": params["title"], "tags": [],
                                                                     "chapters": []}))
    texts = [sc["narration"] for sc in params["scenes"]]
    (tmp_path / "timeline.json").write_text(json.dumps(timeline(list(durations), chapters, texts)))
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    ctx = Context(params=ScriptQC.Params(**params), inputs={"metadata": tmp_path / "metadata.json",
                                                             "timeline": tmp_path / "timeline.json"},
                  input_facts={}, out_dir=out, scratch=tmp_path, step_id="t/v/tiny/qc/script")
    ScriptQC().run(ctx)
    return QCFindings.model_validate_json((out / "findings.json").read_text())


def checks(res: QCFindings) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in res.findings:
        out.setdefault(f.check, []).append(f)
    return out


def test_a_clean_script_has_no_findings_and_reports_scores(tmp_path):
    res = run_script(tmp_path, description="Short.", tags=["a", "b c"])
    assert res.findings == []
    assert res.scores["script.title_chars"] == 12 and res.scores["script.tags_chars"] == 7  # 1 + ,"b c" quoted
    assert {"script.reading_grade", "script.hook_s", "script.hook_words", "script.description_bytes"} <= set(res.scores)


def test_youtube_limits(tmp_path):
    res = checks(run_script(tmp_path, title="Why <this> works", description="é" * 2600, tags=[f"tag{i:03d}" for i in range(80)],
                            alt_titles=["fine", "x" * 120]))
    assert res["script.title_chars"][0].field == ["title"] and res["script.title_chars"][0].severity == "error"
    d = res["script.description_length"][0]
    assert (d.field, d.value, d.limit) == (["description"], 5200, 5000)
    t = res["script.tags_length"][0]
    assert t.field == ["tags"] and t.value == 80 * 6 + 79 and "left out" in t.message
    a = res["script.alt_title_length"][0]
    assert a.field == ["alt_titles", 1] and a.reason == "metadata.title"


def test_limits_severity_comes_from_the_thresholds(tmp_path):
    res = run_script(tmp_path, title="y" * 101, thresholds=QCScript(limits_severity="warning"))
    [f] = res.findings
    assert (f.check, f.severity, f.value, f.limit) == ("script.title_length", "warning", 101, 100)


def test_banned_phrases_in_every_text_with_their_field(tmp_path):
    scenes = [{"narration": "Smash that   LIKE button, friends.", "texts": []},
              {"narration": "Nothing here; mind-blowingly long words do not count.",
               "texts": [[["visual", "bullets", 1], "it is mind-blowing"]]}]
    res = run_script(tmp_path, scenes=scenes, banned_phrases=["smash that like button", "mind-blowing"],
                     title="A mind-blowing title", thumbnail_text="Mind-Blowing")
    found = {(f.scene, tuple(f.field), f.reason) for f in res.findings}
    assert found == {(0, ("narration",), "script.off_brand_tone"),
                     (1, ("visual", "bullets", 1), "script.off_brand_tone"),
                     (None, ("thumbnail", "text"), "metadata.thumbnail"),
                     (None, ("title",), "metadata.title")}
    assert len(res.findings) == 4 and res.scores["script.banned_phrases"] == 4
    assert all(f.check == "script.banned_phrase" and f.severity == "error" for f in res.findings)
    assert next(f for f in res.findings if f.scene == 0).at_s == 0.2  # the sentence's start
    assert next(f for f in res.findings if f.scene == 1).at_s == 5.0  # on screen from the scene's start


def test_chapters_only_for_marks_someone_asked_for(tmp_path):
    ok = run_script(tmp_path, durations=(12.0, 12.0, 12.0), chapters=["A", "B", "C"])
    assert ok.findings == []
    short = checks(run_script(tmp_path, durations=(12.0, 3.0, 12.0, 12.0), chapters=["A", "B", "C", "D"]))
    [f] = short["script.chapters"]
    assert (f.scene, f.field, f.at_s) == (1, ["chapter"], 12.0) and "3.0 s" in f.message
    # slide titles become chapters on their own; a dropped one is nobody's mistake
    assert "script.chapters" not in checks(run_script(tmp_path, durations=(3.0, 3.0)))


def test_reading_level_points_at_the_hardest_scene(tmp_path):
    hard = ("Consequently, interdisciplinary collaboration necessitates institutionalised methodological "
            "standardisation notwithstanding considerable organisational heterogeneity.")
    scenes = [{"narration": "We go to the park. It is fun.", "texts": []}, {"narration": hard, "texts": []}]
    [f] = run_script(tmp_path, scenes=scenes).findings
    assert (f.check, f.scene, f.severity, f.reason, f.limit) == ("script.reading_level", 1, "warning",
                                                                 "script.off_brand_tone", 12.0)
    assert f.value > 12
    res = run_script(tmp_path, scenes=scenes, thresholds=QCScript(reading_grade_warn=None, reading_grade_error=14))
    assert [f.severity for f in res.findings] == ["error"]


def test_the_hook(tmp_path):
    long_hook = {"narration": " ".join(["word"] * 70) + ".", "texts": []}
    [f] = run_script(tmp_path, scenes=[long_hook, {"narration": "End.", "texts": []}]).findings
    assert (f.check, f.scene, f.reason, f.value, f.limit) == ("script.hook_length", 0, "script.weak_hook", 70, 60)
    [f] = run_script(tmp_path, durations=(25.0, 5.0)).findings
    assert f.check == "script.hook_length" and f.value == 24.6


def test_readability_formula():
    assert fk_grade("The cat sat on the mat.") == -1.45  # one-syllable words, six words, one sentence
    assert [syllables(w) for w in ("make", "table", "jumped", "wanted", "boxes", "banana", "the", "2026")] == \
        [1, 2, 1, 2, 2, 3, 1, 2]
    assert fk_grade("") is None


def vec(tmp_path: Path, name: str, v: list[float]) -> Path:
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps({"vector": v}))
    return p


def run_policy(tmp_path: Path, own: list[float], others: dict[str, list[float]], **params) -> QCFindings:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    index = tmp_path / "index.json"  # the brand's embed.index: every video, this one ("b/own") included
    index.write_text(json.dumps({"vectors": {"b/own": own, **others}}))
    ctx = Context(params=PolicyQC.Params(video="b/own", **params),
                  inputs={"embedding": vec(tmp_path, "own", own), "index": index},
                  input_facts={}, out_dir=out, scratch=tmp_path, step_id="t/v/tiny/qc/policy")
    PolicyQC().run(ctx)
    return QCFindings.model_validate_json((out / "findings.json").read_text())


def test_similarity_thresholds(tmp_path):
    a = math.cos(0.3)  # similarity 0.955 with [1, 0]
    res = run_policy(tmp_path, [1.0, 0.0], {"b/near": [a, math.sin(0.3)], "b/same": [2.0, 0.0], "b/far": [0.0, 1.0]})
    by = {f.message.split(" similar to ")[1].split("'")[0]: f for f in res.findings}
    assert set(by) == {"b/near", "b/same"} and by["b/same"].severity == "error" and by["b/near"].severity == "warning"
    assert res.scores["policy.similarity_max"] == 1.0 and by["b/near"].field == ["scenes"]
    quiet = run_policy(tmp_path, [1.0, 0.0], {"b/near": [a, math.sin(0.3)]},
                       thresholds=QCPolicy(similarity_warn=None, similarity_error=None))
    assert quiet.findings == [] and quiet.scores["policy.similarity_max"] == pytest.approx(0.9553, abs=1e-4)


def test_disclosure_and_made_for_kids(tmp_path):
    synthetic = [{"what": "a synthetic (TTS) voice", "scene": 0}, {"what": "a generated picture", "scene": 2}]
    res = run_policy(tmp_path, [1.0], {}, synthetic=synthetic, synthetic_media=False, made_for_kids_declared=False)
    d = next(f for f in res.findings if f.check == "policy.disclosure")
    assert d.severity == "error" and d.field == ["brand", "channel", "synthetic_media"]
    assert "a generated picture (scene 3)" in d.message
    k = next(f for f in res.findings if f.check == "policy.made_for_kids")
    assert k.severity == "warning" and k.field == ["brand", "channel"]
    assert run_policy(tmp_path, [1.0], {}, synthetic=synthetic, synthetic_media=True).findings == []
    out = tmp_path / "alone"
    out.mkdir()
    alone = Context(params=PolicyQC.Params(), inputs={"embedding": None, "index": None}, input_facts={},
                    out_dir=out, scratch=tmp_path, step_id="t/v/tiny/qc/policy")  # the brand's only video
    PolicyQC().run(alone)
    assert QCFindings.model_validate_json((out / "findings.json").read_text()).scores == {
        "policy.synthetic_sources": 0.0}
    assert run_policy(tmp_path, [1.0], {}, synthetic=[], synthetic_media=False).findings == []


def test_the_verdict_merges_sorts_and_judges(tmp_path):
    parts = [QCFindings(findings=[Finding(check="script.hook_length", scene=0, at_s=0.0, severity="warning",
                                          reason="script.weak_hook", message="long hook")],
                        scores={"script.hook_s": 21.0, "x.same": 1.0}),
             QCFindings(findings=[Finding(check="script.title_length", severity="info", message="note")],
                        scores={"x.same": 3.0})]
    paths = []
    for i, p in enumerate(parts):
        paths.append(tmp_path / f"f{i}.json")
        paths[-1].write_text(json.dumps(p.to_json()))
    out = tmp_path / "out"
    out.mkdir()
    ctx = Context(params=QCVerdict.Params(video="t/v", format="tiny", thresholds={"autopublish": False}),
                  inputs={"findings": paths}, input_facts={}, out_dir=out, scratch=tmp_path, step_id="t/v/tiny/qc/verdict")
    facts = QCVerdict().run(ctx)
    report = QCReport.model_validate_json((out / "qc.json").read_text())
    assert report.verdict == "flag" and facts == {"verdict": "flag", "error": 0, "warning": 1, "info": 1}
    assert [f.check for f in report.findings] == ["script.title_length", "script.hook_length"]  # video-wide first
    assert report.scores == {"script.hook_s": 21.0, "x.same": 3.0} and report.thresholds == {"autopublish": False}
