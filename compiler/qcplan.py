"""QC steps of one video format (issue 11, contract in core/qc.py), compiled for the final profile only.

Each function below adds the QC steps of one area to `c.plan` and returns refs to their `findings.json`.
They find the steps they check by the plan's id conventions (prefix = "<vid>/<format>"):
  narration  <vid>/narration/NN          segment   <prefix>/segment/NN      slide  <prefix>/slide/NN
  timeline   <prefix>/timeline           captions  <prefix>/captions        assembly <prefix>/assemble
  metadata   <prefix>/metadata           thumbnail <vid>/<format>/thumbnail  script files <vid>/scriptfiles
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .plan import Ref

if TYPE_CHECKING:
    from core.spec import FormatPreset, Script

    from .plan import Compiler


def media_checks(c: "Compiler", prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """Audio, picture and caption checks (per scene where the check is per scene)."""
    return []


def text_checks(c: "Compiler", prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """On-screen text of slides and the thumbnail (measured in Chromium when they render)."""
    return []


def script_checks(c: "Compiler", prefix: str, fmt_name: str, fmt: "FormatPreset", script: "Script") -> list[Ref]:
    """Script, metadata and policy checks."""
    return []
