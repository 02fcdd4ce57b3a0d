"""Every human decision is stored with the QC scores it was made against (issue 11, feedback records)."""
from __future__ import annotations

from core.qc import Finding, QCReport
from publish.ledger import Ledger
from publish.qcstore import feedback, save_qc
from publish.reviews import record_review

DIGEST = "d" * 64


def _report() -> QCReport:
    return QCReport(video="cosmos/dark-sky", format="long", verdict="flag",
                    findings=[Finding(check="audio.silence", scene=2, at_s=31.0, severity="warning",
                                      reason="audio.pacing", message="6.2 s of silence", value=6.2, limit=3.0)],
                    scores={"audio.max_silence_s": 6.2, "picture.black_s": 0.0})


def test_a_studio_review_keeps_the_qc_scores_it_was_made_against(tmp_path):
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'l.db'}", root=tmp_path)
    try:
        save_qc(ledger, "cosmos/dark-sky@short", DIGEST, _report())
        rec = record_review(ledger, "cosmos/dark-sky@short", DIGEST, verdict="request-changes", reviewer="ann",
                            reasons=["audio.pacing"], scene_index=2)
        record_review(ledger, "kitchenlab/maillard", "e" * 64, verdict="reject", reviewer="bob", note="too loud")
        got = feedback(ledger, "cosmos")
        assert len(got) == 1
        fb = got[0]
        assert (fb.unit, fb.brand, fb.build_digest, fb.decision, fb.reasons) == (
            "cosmos/dark-sky@short", "cosmos", DIGEST, "request-changes", ["audio.pacing"])
        assert fb.qc_verdict == "flag" and fb.qc_scores == {"audio.max_silence_s": 6.2, "picture.black_s": 0.0}
        other = feedback(ledger, "kitchenlab")  # a build without QC yet: stored without scores
        assert [(f.decision, f.qc_verdict, f.qc_scores) for f in other] == [("reject", None, {})]
        assert rec.id is not None
    finally:
        ledger.close()


def test_doit_approve_and_reject_are_feedback_too(world):
    world.build()
    from publish.ledger import Ledger as L
    from publish.units import load_unit

    digest = load_unit(world.root, "cosmos/dark-sky").build_digest
    ledger = L.open(world.db_url, root=world.root)
    save_qc(ledger, "cosmos/dark-sky", digest, _report())
    world.approve(reason="looks fine")
    world.approve(approved=False, reason="the silence in scene 3")
    got = feedback(ledger, "cosmos")
    assert [(f.unit, f.decision, f.build_digest, f.qc_scores["audio.max_silence_s"]) for f in got] == [
        ("cosmos/dark-sky", "approve", digest, 6.2), ("cosmos/dark-sky", "reject", digest, 6.2)]
