"""The quality gate at publish time, and `doit qc`'s results in the ledger.

`qc_gate` runs before the approval gate (publish/approval.py):
- a build whose qc.json says **reject** never publishes, whatever a person approved (QCRejected, naming the
  findings); change the spec and rebuild, or change the brand's `qc:` thresholds and re-judge with `doit qc`;
- an **auto-approve** build publishes without a human approval only where the brand opts in
  (`qc.autopublish: true`) and the report was judged against the brand's current `qc:` block;
- everything else (a flag, a build made before QC existed, a stale report) goes through the approval gate.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.qc import QCReport
from core.spec import QC

from .errors import QCRejected
from .ledger import Ledger
from .qcstore import get_qc, save_qc
from .units import BuildUnit


@dataclass(frozen=True)
class GateResult:
    autopublish: bool  # True: no human approval needed
    note: str = ""     # said with the outcome when it matters (published without a person, stale report)


def _finding_line(f) -> str:
    where = f"scene {f.scene + 1}" if f.scene is not None else "video"
    return f"{f.check} ({where}): {f.message}"


def qc_gate(ledger: Ledger, unit: BuildUnit, qc: QC) -> GateResult:
    """Apply the build's QC verdict; raises QCRejected for a reject. Stores the report in the ledger (for the
    review queue) when it is not there yet."""
    report = unit.qc
    if report is None:
        return GateResult(False)
    if get_qc(ledger, unit.key, unit.build_digest) is None:
        save_qc(ledger, unit.key, unit.build_digest, report, sample_share=qc.sample_share)
    current = qc.model_dump(mode="json") == report.thresholds
    if report.verdict == "reject":
        errors = [f for f in report.findings if f.severity == "error"]
        shown = "; ".join(_finding_line(f) for f in errors[:5]) + ("; ..." if len(errors) > 5 else "")
        raise QCRejected(f"QC rejected build {unit.build_digest[:12]}: {len(errors)} error(s): {shown}",
                         unit=unit.key,
                         hint=f"`doit qc --video {unit.key.split('@')[0]}` shows where each is in the spec; fix them "
                              "and rebuild" + ("" if current else "; the brand's qc: thresholds changed since this "
                                               "report: `doit qc` re-judges the build"))
    if report.verdict == "auto-approve" and qc.autopublish:
        if not current:
            return GateResult(False, "note: QC auto-approved this build under older qc: thresholds; run `doit qc` "
                                     "to re-judge it before it can publish without a review")
        return GateResult(True, "published without a human review: QC auto-approved this build and the brand sets "
                                "qc.autopublish: true")
    return GateResult(False)


def store_results(ledger: Ledger, videos) -> int:
    """Save `doit qc`'s results (compiler.workspace.QCResult.videos) in the ledger, one row per unit and build;
    returns how many were saved."""
    n = 0
    for v in videos:
        for fmt, report in v.reports.items():
            report = report if isinstance(report, QCReport) else QCReport.model_validate(report)
            share = float(report.thresholds.get("sample_share", QC().sample_share))
            save_qc(ledger, v.units[fmt], v.build_digests[fmt], report, sample_share=share)
            n += 1
    return n
