"""Reading a build's QC (qc.json) for people: findings located at the spec's file:line:col.

A finding names its origin by scene index and field path (core/qc.py), never by file:line (a QC step's key
must not move with the lines). Here, at read time, the loaded project maps them back:
  scene i, field [...]        -> the scene's own file (video spec or script lock), at scenes[i].<field>
  no scene, ["brand", ...]    -> brands/<brand>.yaml, at the rest of the path
  no scene, [name, ...]       -> the video spec when it sets `name`, else the script lock when it does
"""
from __future__ import annotations

from typing import Any

from core.qc import Finding

from .project import LoadedVideo, Project
from .yamlpos import Positions


def _where(pos: Positions, path: tuple) -> str:
    line, col = pos.locate(path)
    return f"{pos.file}:{line}:{col}"


def _sets(pos: Positions, name: Any) -> bool:
    return (name,) in pos.keys or (name,) in pos.at


def locate(project: Project, lv: LoadedVideo, finding: Finding) -> str:
    """file:line:col of the spec value a finding comes from (the closest enclosing node that exists)."""
    field = tuple(finding.field or ())
    if finding.scene is not None and 0 <= finding.scene < len(lv.scene_origins):
        o = lv.scene_origins[finding.scene]
        return _where(o.pos, o.prefix + field)
    if field[:1] == ("brand",) and lv.brand in project.brands:
        return _where(project.brands[lv.brand].pos, field[1:])
    if field and not _sets(lv.spec.pos, field[0]) and lv.script_file is not None and lv.scene_origins:
        script_pos = lv.scene_origins[0].pos
        if _sets(script_pos, field[0]):
            return _where(script_pos, field)
    return _where(lv.spec.pos, field)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}.{int(round((seconds - s) * 10)) % 10}"
