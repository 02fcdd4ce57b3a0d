"""`doit calibrate`: thresholds fitted to human decisions, measured on held-out decisions, proposed as a diff of
the brand spec that keeps its comments (issue 11, Learning)."""
from __future__ import annotations

import datetime as dt
import json
import random
import subprocess

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from publish import calibrate as cal_mod
from publish.calibrate import Example, calibrate, cross_validate, fit, predict
from publish.ledger import Ledger
from publish.qcstore import FeedbackRecord, record_feedback, save_qc
from publish.specedit import SpecEditError, set_values, unified_diff
from core.qc import QCReport

BRAND = """\
# Cosmos Daily: calm explainers.
name: Cosmos Daily
voices:
  joe: {engine: piper}   # the bundled voice
qc:
  # people here hate silence
  autopublish: false
  audio:
    silence_error_s: 4.0   # seconds
  sample_share: 0.1
# a trailing comment
"""


def _records(n: int, seed: int, noise: float = 0.0) -> list[FeedbackRecord]:
    """A reviewer who rejects more than 3 s of silence or a contrast under 3, with `noise` of decisions flipped."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        sc = {"audio.max_silence_s": rng.uniform(0, 8), "text.min_contrast": rng.uniform(1.5, 12),
              "script.title_length": rng.uniform(20, 100)}
        rej = sc["audio.max_silence_s"] > 3 or sc["text.min_contrast"] < 3
        if rng.random() < noise:
            rej = not rej
        out.append(FeedbackRecord(f"cosmos/v{i}", "cosmos", f"{i:064x}", "request-changes" if rej else "approve",
                                  [], "flag", sc, dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)))
    return out


# ---------------------------------------------------------------- the text edit --

def test_the_edit_keeps_comments_order_and_everything_else():
    new = set_values(BRAND, [(("qc", "audio", "silence_error_s"), 3.05), (("qc", "text", "min_contrast"), 2.95)])
    assert new == BRAND.replace("silence_error_s: 4.0   # seconds", "silence_error_s: 3.05   # seconds").replace(
        "  sample_share: 0.1\n", "  sample_share: 0.1\n  text:\n    min_contrast: 2.95\n")
    head = "--- a/brands/cosmos.yaml\n+++ b/brands/cosmos.yaml\n"
    assert unified_diff(BRAND, new, "brands/cosmos.yaml").startswith(head)


def test_a_missing_qc_block_and_flow_mappings():
    text = "name: x  # n\nvoices: {joe: {engine: piper}}\n"
    assert set_values(text, [(("qc", "audio", "max_silence_s"), 3.0)]) == (
        text + "qc:\n  audio:\n    max_silence_s: 3.0\n")
    flow = "name: x\nqc: {autopublish: true}\n"
    assert yaml.safe_load(set_values(flow, [(("qc", "audio", "max_silence_s"), 3)]))["qc"] == {
        "autopublish": True, "audio": {"max_silence_s": 3}}
    with pytest.raises(SpecEditError, match="holds a mapping"):
        set_values(BRAND, [(("qc", "audio"), 1)])


def test_the_diff_applies_with_git(tmp_path):
    (tmp_path / "brands").mkdir()
    (tmp_path / "brands/cosmos.yaml").write_text(BRAND)
    new = set_values(BRAND, [(("qc", "audio", "silence_error_s"), 2.5)])
    (tmp_path / "p.diff").write_text(unified_diff(BRAND, new, "brands/cosmos.yaml"))
    subprocess.run(["git", "apply", "p.diff"], cwd=tmp_path, check=True)
    assert (tmp_path / "brands/cosmos.yaml").read_text() == new


# ---------------------------------------------------------------- the fit --

def test_the_fit_recovers_the_reviewers_rule():
    data = [Example(r.unit, r.qc_scores, r.decision != "approve", r.qc_verdict) for r in _records(300, 1)]
    cuts = fit(data)
    assert 2.8 < cuts["audio.max_silence_s"].threshold < 3.2 and cuts["audio.max_silence_s"].direction == "above"
    assert 2.8 < cuts["text.min_contrast"].threshold < 3.2 and cuts["text.min_contrast"].direction == "below"
    assert cuts["script.title_length"].threshold is None  # the reviewer does not care: the check stays off
    held = cross_validate(data)
    assert held.n == 300 and held.agreement >= 0.97 and held.recall >= 0.95 and held.precision >= 0.95
    assert predict(cuts, Example("x", {"audio.max_silence_s": 5.0}, True, None))


def test_too_little_or_one_sided_feedback_is_said_plainly():
    assert "needs at least 10" in calibrate("cosmos", _records(5, 2)).problem
    approvals = [r for r in _records(200, 3) if r.decision == "approve"][:20]
    assert "every reviewed build was approved" in calibrate("cosmos", approvals).problem


# ---------------------------------------------------------------- the command --

class _Audio(BaseModel):
    model_config = ConfigDict(extra="forbid")
    silence_s: float = Field(3.0, gt=0, le=60)
    silence_error_s: float = Field(5.0, gt=0, le=120)

    @model_validator(mode="after")
    def _ordered(self):
        if self.silence_s > self.silence_error_s:
            raise ValueError("silence_s is beyond silence_error_s")
        return self


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_contrast: float = 4.5
    reject_contrast: float = Field(2.0, ge=1, le=2.5)  # narrower than the reviewers' 3:1, so the fit is refused


class _QC(BaseModel):
    """The brand's qc: model as the QC checks define it (their fields are not on this branch)."""

    model_config = ConfigDict(extra="forbid")
    autopublish: bool = False
    sample_share: float = 0.1
    audio: _Audio = Field(default_factory=_Audio)
    text: _Text = Field(default_factory=_Text)


def test_doit_calibrate_prints_metrics_and_a_diff_and_never_touches_the_spec(tmp_path, monkeypatch):
    monkeypatch.setattr(cal_mod, "QC", _QC)
    root = tmp_path
    (root / "brands").mkdir()
    (root / "recipes").mkdir()
    (root / "brands/cosmos.yaml").write_text(BRAND)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.open(url, root=root)
    for r in _records(60, 4):
        save_qc(ledger, r.unit, r.build_digest, QCReport(verdict="flag", scores=r.qc_scores))
        record_feedback(ledger, r.unit, "cosmos", r.build_digest, decision=r.decision, reasons=[])
    ledger.close()
    from publish import cli

    lines: list[str] = []
    cals = cli.calibrate("cosmos", root=root, db_url=url, out=lines.append)
    text = "\n".join(lines)
    assert "60 reviewed build(s)" in text and "held out (60 decisions, cross-validated): agreement" in text
    assert "script.title_length" in text and "never rejects" in text
    assert "text.min_contrast: qc.text.reject_contrast = " in text and "left out: the spec refuses it" in text
    assert (root / "brands/cosmos.yaml").read_text() == BRAND  # never modified
    diff = (root / "build/.calibrate/cosmos.diff").read_text()
    assert diff.rstrip("\n") in text
    proposed = cals[0].proposed
    # the error level is what people send back; the warning level (3.0 by default) is moved below it too
    assert set(proposed) == {"qc.audio.silence_error_s", "qc.audio.silence_s"}
    assert 2.7 < proposed["qc.audio.silence_error_s"] < 3.0 and proposed["qc.audio.silence_s"] == \
        proposed["qc.audio.silence_error_s"]
    new = set_values(BRAND, [(("qc", "audio", "silence_error_s"), proposed["qc.audio.silence_error_s"]),
                             (("qc", "audio", "silence_s"), proposed["qc.audio.silence_s"])])
    assert diff == unified_diff(BRAND, new, "brands/cosmos.yaml")
    assert "-    silence_error_s: 4.0   # seconds\n+    silence_error_s: " in diff
    assert cals[0].held_out.agreement >= 0.9
    lines.clear()
    cli.calibrate("cosmos", as_json=True, diff_out=tmp_path / "p.diff", root=root, db_url=url, out=lines.append)
    got = json.loads(lines[0])[0]
    assert got["decisions"] == 60 and set(got["proposed"]) == set(proposed)
    assert (tmp_path / "p.diff").read_text() == diff


def test_counts_stay_whole_numbers(monkeypatch):
    class _Clip(BaseModel):
        runs: int = 0
        ratio: float | None = None

    class _Q(BaseModel):
        audio: _Clip = Field(default_factory=_Clip)

    monkeypatch.setattr(cal_mod, "QC", _Q)
    assert cal_mod.field_value(("audio", "runs"), 2.5, "above") == 2  # "more than 2" = "> 2.5" for counts
    assert cal_mod.field_value(("audio", "runs"), 2.5, "below") == 3
    assert cal_mod.field_value(("audio", "ratio"), 0.123456, "above") == 0.1235
    assert not cal_mod.spec_has(("audio", "nope")) and cal_mod.spec_has(("audio", "runs"))


@pytest.mark.parametrize("text", ["notes: >\n  a b\n  c\ntopic: x\n", "topic: x\nnotes: >\n  a b\n  c\n",
                                  "topic: x\nnotes: |+\n  a b\n\n", "tags:\n- a\n- b\n", "x: 1"])
def test_a_new_block_goes_after_whatever_ends_the_file(text):
    new = set_values(text, [(("variant", "voice"), "joe")])
    assert new.startswith(text) and yaml.safe_load(new)["variant"] == {"voice": "joe"}


def test_what_cannot_be_edited_as_text_is_refused():
    with pytest.raises(SpecEditError, match="single YAML document"):
        set_values("a: 1\n---\nb: 2\n", [(("variant", "voice"), "joe")])
    with pytest.raises(SpecEditError, match="mapping at its top"):
        set_values("- a\n- b\n", [(("variant", "voice"), "joe")])
