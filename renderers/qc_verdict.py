"""The QC verdict of one build: every QC step's findings.json in, qc.json (core.qc.QCReport) out.

Severity -> verdict (core.qc.verdict_of): any error rejects, any warning flags for review, else auto-approve.
The brand's `qc:` block is echoed into the report (`thresholds`), so a report says what it was judged against.
Findings are sorted (whole-video first, then by scene and time) and scores merged; a score named by more than
one step keeps its largest value.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.qc import SEVERITY_RANK, QCFindings, QCReport, verdict_of

from .base import Context, Params, Renderer


class QCVerdict(Renderer):
    kind = "qc.verdict"
    version = 1
    inputs = ("findings",)
    outputs = ("qc.json",)

    class Params(Params):
        video: str
        format: str
        thresholds: dict[str, Any] = {}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        findings, scores = [], {}
        for path in ctx.inputs["findings"] or []:
            part = QCFindings.model_validate_json(Path(path).read_text(encoding="utf-8"))
            findings += part.findings
            for name, value in part.scores.items():
                scores[name] = max(value, scores.get(name, value))
        findings.sort(key=lambda f: (f.scene is not None, f.scene or 0, f.at_s or 0.0, -SEVERITY_RANK[f.severity],
                                     f.check, f.message))
        report = QCReport(video=p.video, format=p.format, verdict=verdict_of(findings), findings=findings,
                          scores=dict(sorted(scores.items())), thresholds=p.thresholds)
        ctx.out("qc.json").write_text(json.dumps(report.model_dump(mode="json"), sort_keys=True, indent=1))
        counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
        return {"verdict": report.verdict, **counts}
