"""QC results and feedback in the ledger (SQLite and PostgreSQL): idempotent saves, deterministic sampling,
the review queue's order, and feedback kept with the QC it was judged against."""
from __future__ import annotations

from core.qc import Finding, QCReport, sample_fraction
from publish.ledger import Ledger
from publish.qcstore import feedback, get_qc, record_feedback, review_queue, save_qc
from publish.reviews import record_review


def _report(verdict: str, *findings: Finding) -> QCReport:
    return QCReport(video="b/v", format="landscape", verdict=verdict, findings=list(findings),
                    scores={"audio.max_silence_s": 6.2}, thresholds={"audio": {"max_silence_s": 3.0}})


def _auto_digest(sampled: bool, share: float) -> str:
    for i in range(1000):
        d = f"{i:064x}"
        if (sample_fraction(d) < share) == sampled:
            return d
    raise AssertionError("no digest found")


def test_save_is_idempotent_and_sampling_follows_the_digest(db_url):
    ledger = Ledger.open(db_url)
    silence = Finding(check="audio.silence", scene=2, at_s=31.5, severity="error", reason="audio.pacing",
                      message="6.2 s of silence", value=6.2, limit=3.0)
    first = save_qc(ledger, "b/v", "a" * 64, _report("reject", silence))
    again = save_qc(ledger, "b/v", "a" * 64, _report("reject", silence))
    assert first.verdict == again.verdict == "reject" and again.sampled and again.findings[0].scene == 2
    assert again.scores == {"audio.max_silence_s": 6.2}
    skipped = save_qc(ledger, "b/w", _auto_digest(False, 0.1), _report("auto-approve"), sample_share=0.1)
    taken = save_qc(ledger, "b/x", _auto_digest(True, 0.1), _report("auto-approve"), sample_share=0.1)
    assert not skipped.sampled and taken.sampled
    assert sample_fraction("f" * 64) == sample_fraction("f" * 64)  # the same on every run and machine


def test_queue_is_riskiest_first_and_drops_reviewed_and_replaced_builds(db_url):
    ledger = Ledger.open(db_url)
    warn = Finding(check="text.overflow", scene=1, severity="warning", reason="visual.text_overflow", message="m")
    err = Finding(check="audio.silence", scene=0, severity="error", reason="audio.pacing", message="m")
    save_qc(ledger, "b/flagged", "1" * 64, _report("flag", warn))
    save_qc(ledger, "b/rejected", "2" * 64, _report("reject", err, warn))
    save_qc(ledger, "b/sampled", _auto_digest(True, 0.5), _report("auto-approve"), sample_share=0.5)
    assert [r.unit for r in review_queue(ledger)] == ["b/rejected", "b/flagged", "b/sampled"]
    record_review(ledger, "b/flagged", "1" * 64, verdict="reject", reviewer="ann", reasons=["visual.text_overflow"])
    assert [r.unit for r in review_queue(ledger)] == ["b/rejected", "b/sampled"]
    assert [r.unit for r in review_queue(ledger, current={"b/rejected": "9" * 64})] == []  # rebuilt since


def test_feedback_keeps_the_scores_it_was_made_against(db_url):
    ledger = Ledger.open(db_url)
    save_qc(ledger, "b/v", "a" * 64, _report("flag", Finding(check="audio.silence", severity="warning")))
    record_feedback(ledger, "b/v", "b", "a" * 64, decision="reject", reasons=["audio.pacing"])
    record_feedback(ledger, "c/v", "c", "b" * 64, decision="approve", reasons=[])  # no QC yet: kept without
    rows = feedback(ledger, "b")
    assert len(rows) == 1 and rows[0].qc_verdict == "flag" and rows[0].qc_scores == {"audio.max_silence_s": 6.2}
    assert feedback(ledger, "c")[0].qc_verdict is None and len(feedback(ledger)) == 2
