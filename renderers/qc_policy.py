"""Policy QC: repetition across the brand's videos, the AI-content disclosure, the made-for-kids declaration.

- Similarity: the cosine of this video's narration embedding (embed.minilm) to each other video of the brand
  (all of them in one `embed.index` file per brand).
  YouTube demonetises mass-produced, repetitive content; a near copy of another video is flagged, or rejected
  above the error threshold. Both videos of a similar pair are flagged: each may be the one to change.
- Disclosure: a build that uses a synthetic voice, generated pictures or video, or an avatar (the compiler lists
  which, from the renderers of its steps) must be uploaded with `status.containsSyntheticMedia`, i.e. the brand's
  `channel.synthetic_media: true`.
- Made for kids: the brand declares `channel.made_for_kids` explicitly (YouTube requires the audience be set;
  the default would silently say "not for kids").
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from core.qc import Finding, QCFindings
from core.spec import QCPolicy

from .base import Context, Params, Renderer


def normalised(v: list[float]) -> list[float]:
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def vector(path: Path) -> list[float]:
    return normalised(json.loads(Path(path).read_text())["vector"])


class PolicyQC(Renderer):
    kind = "qc.policy"
    version = 2
    optional_inputs = ("embedding", "index")  # absent when there is nothing to compare with
    outputs = ("findings.json",)

    class Params(Params):
        video: str = ""  # this video's id (left out of the comparison with the brand's index)
        synthetic: list[dict[str, Any]] = []  # {what, scene}: synthetic media this build uses
        synthetic_media: bool = True
        made_for_kids: bool = False
        made_for_kids_declared: bool = True
        thresholds: QCPolicy = QCPolicy()

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        t: QCPolicy = p.thresholds
        findings: list[Finding] = []
        scores: dict[str, float] = {}
        sims = []
        if ctx.inputs.get("embedding") is not None:
            own = vector(ctx.inputs["embedding"])
            index = json.loads(Path(ctx.inputs["index"]).read_text())["vectors"] if ctx.inputs.get("index") else {}
            for name, v in sorted(index.items()):
                if name != p.video:
                    sims.append((round(sum(a * b for a, b in zip(own, normalised(v))), 4), name))
        if sims:
            scores["policy.similarity_max"] = max(sims)[0]
        for sim, name in sorted(sims, reverse=True):
            if t.similarity_error is not None and sim >= t.similarity_error:
                severity, limit = "error", t.similarity_error
            elif t.similarity_warn is not None and sim >= t.similarity_warn:
                severity, limit = "warning", t.similarity_warn
            else:
                continue
            findings.append(Finding(
                check="policy.similarity", severity=severity, reason="other", field=["scenes"], value=sim,
                limit=limit, message=f"the narration is {sim:.0%} similar to {name}'s (limit {limit:.0%}): YouTube "
                                     "demonetises repetitive content; rewrite it, or drop one of the two"))
        scores["policy.synthetic_sources"] = float(len(p.synthetic))
        if p.synthetic and not p.synthetic_media:
            shown = "; ".join(s["what"] + (f" (scene {s['scene'] + 1})" if s.get("scene") is not None else "")
                              for s in p.synthetic[:4]) + ("; ..." if len(p.synthetic) > 4 else "")
            findings.append(Finding(
                check="policy.disclosure", severity=t.disclosure_severity, reason="other",
                field=["brand", "channel", "synthetic_media"],
                message=f"this video uses synthetic media ({shown}) but the brand uploads it with "
                        "channel.synthetic_media: false; YouTube requires the altered or synthetic content "
                        "declaration: set synthetic_media: true"))
        if not p.made_for_kids_declared:
            findings.append(Finding(
                check="policy.made_for_kids", severity=t.made_for_kids_severity, reason="other",
                field=["brand", "channel"],
                message="the brand does not say whether its videos are made for kids; YouTube requires the "
                        f"audience to be declared: add `made_for_kids: {str(p.made_for_kids).lower()}` (or true) "
                        "under channel:"))
        result = QCFindings(findings=findings, scores=scores)
        ctx.out("findings.json").write_text(json.dumps(result.to_json(), sort_keys=True, indent=1))
        return {"findings": len(findings), "compared": len(sims)}
