"""The review queue as the page shows it: each sampled, unreviewed build with its title, thumbnail and worst
findings, riskiest first."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from publish.ledger import Ledger
from ..previews.views import file_url, read_manifest, read_metadata
from .schemas import VERDICT_LABEL, QueueItem, ReviewQueue
from .services import (TOP_FINDINGS, BuildDigests, counts_of, finding_view, locate, queue_records, unit_folder,
                       worst_first)


def review_queue_view(ledger: Ledger, build_root: Path, project: Any = None,
                      digests: BuildDigests | None = None) -> ReviewQueue:
    items = []
    for rec in queue_records(ledger, build_root.parent, digests):
        video, _, fmt = rec.unit.partition("@")
        folder = unit_folder(rec.unit)
        m = read_manifest(build_root, folder)
        meta = read_metadata(build_root, folder)
        thumb = m.assets.get("thumbnail.jpg") if m else None
        scenes = list(m.scenes) if m else []
        title = str(meta.get("title") or video.partition("/")[2])
        items.append(QueueItem(
            unit=rec.unit, video=video, format=fmt or str(m.format or "") if m else fmt, title=title,
            thumbnail=file_url(folder, "thumbnail.jpg", thumb.digest) if thumb else "",
            build_digest=rec.build_digest, verdict=rec.verdict, label=VERDICT_LABEL[rec.verdict], risk=rec.risk,
            counts=counts_of(rec.findings),
            top_findings=[finding_view(f, scenes, locate(project, video, f))
                          for f in worst_first(rec.findings)[:TOP_FINDINGS]],
            review_url=f"/videos/{video}" + (f"?format={fmt}" if fmt else "") + "#review-box", checked_at=rec.created_at))
    return ReviewQueue(count=len(items), items=items)
