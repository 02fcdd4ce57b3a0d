"""Retention notes on the Video page's scenes: for a published video with analytics, the retention drop the ledger
maps to each scene (issue 11: analytics become notes on the scenes they are about)."""
from __future__ import annotations

from pathlib import Path

from compiler.workspace import Workspace
from publish.ledger import Ledger
from ..previews.schemas import RetentionNote, VideoDetail
from .schemas import SceneStat
from .services import video_analytics


def note_text(s: SceneStat, weakest: bool, from_published: bool) -> str:
    start, end, drop = s.retention_start, s.retention_end, s.drop or 0.0
    if abs(drop) < 0.0005:
        text = "retention held"
    elif drop > 0:
        text = f"lost {drop * 100:.1f} points"
    else:
        text = f"gained {-drop * 100:.1f} points"
    if start is not None and end is not None:
        text += f" ({start * 100:.0f}% → {end * 100:.0f}%)"
    if weakest:
        text += ", one of the weakest scenes"
    if from_published:
        text += " (in the published version)"
    return "Audience " + text


def retention_notes(video: str, build_root: Path, ledger: Ledger, ws: Workspace | None) -> dict[int, RetentionNote]:
    """scene index -> note; empty when the video is not published or has no retention numbers yet."""
    try:
        a = video_analytics(video, build_root, ledger, ws)
    except Exception:  # notes are a nicety: the page shows without them
        return {}
    if a.state != "ok" or not a.retention:
        return {}
    weak = {s.index for s in a.weakest}
    from_published = a.scenes_from == "retention"
    return {s.index: RetentionNote(retention_start=s.retention_start, retention_end=s.retention_end, drop=s.drop,
                                   drop_per_s=s.drop_per_s, weakest=s.index in weak, from_published=from_published,
                                   text=note_text(s, s.index in weak, from_published))
            for s in a.scenes if s.drop is not None}


def add_retention_notes(d: VideoDetail, build_root: Path, ledger: Ledger, ws: Workspace | None) -> VideoDetail:
    if d.summary.published is None:
        return d
    notes = retention_notes(d.summary.video, build_root, ledger, ws)
    for sc in d.scenes:
        sc.retention = notes.get(sc.index)
    return d
