"""Read side of the previews: the overview (home) and one video's detail, from build/, the book and the ledger.

Reads never touch the builder's Workspace: they use their own (`workspace` dependency), the store's atomic
files and the ledger, so a page loads while a build runs.
"""
from __future__ import annotations

import json
from pathlib import Path

from compiler.workspace import Workspace
from core.records import BuildManifest
from publish.approval import latest_decision
from publish.ledger import Ledger
from publish.repository import transaction
from publish.reviews import review_history
from publish.units import discover
from .schemas import (BrandSummary, ExplainView, Overview, PublishBadge, ReviewBadge, SceneView, StepTiming,
                      UnitBuild, VideoDetail, VideoState, VideoSummary)
from .provenance import asset_provenance, llm_price, short, video_cost
from ..qc import services as qc_services
from .services import StateBook
from .thumbs import SceneThumbs


PREVIEW = ".preview"  # build/.preview/<brand>/<slug>/: the studio's fast preview (compiler.plan.PREVIEW_DIR)


def build_dir(build_root: Path, video: str, preview: bool = False) -> Path:
    return build_root / PREVIEW / video if preview else build_root / video


def read_manifest(build_root: Path, video: str, preview: bool = False) -> BuildManifest | None:
    try:
        return BuildManifest.model_validate_json((build_dir(build_root, video, preview) / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def read_metadata(build_root: Path, video: str, preview: bool = False) -> dict:
    try:
        data = json.loads((build_dir(build_root, video, preview) / "metadata.json").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def shown_build(build_root: Path, video: str) -> str:
    """Which build the player shows: "preview" while build/.preview holds one newer than the final build (or there
    is no final yet), "final" otherwise, "" when there is neither. The build worker touches the final manifest
    when a final build lands, so a final that did not change on disk still wins over an older preview."""
    def mtime(preview: bool) -> int | None:
        try:
            return (build_dir(build_root, video, preview) / "manifest.json").stat().st_mtime_ns
        except OSError:
            return None

    final, preview = mtime(False), mtime(True)
    if preview is not None and (final is None or preview > final):
        return "preview"
    return "final" if final is not None else ""


def preview_label(m: BuildManifest | None) -> str:
    """"preview (540p)": the preview's frame height, from its timeline step."""
    if m is not None:
        for st in m.steps.values():
            height = (st.params or {}).get("height") if st.kind == "timeline.compose" else None
            if isinstance(height, int):
                return f"preview ({height}p)"
    return "preview"


def file_url(video: str, name: str, digest: str = "", preview: bool = False) -> str:
    return f"/files/{PREVIEW + '/' if preview else ''}{video}/{name}" + (f"?v={digest[:12]}" if digest else "")


def _review_badge(ledger: Ledger, unit: str, digest: str) -> ReviewBadge:
    reviews = review_history(ledger, unit)
    decision = latest_decision(ledger, unit)
    if not reviews and decision is None:
        return ReviewBadge()
    if reviews and (decision is None or reviews[0].created_at >= decision.decided_at):
        r = reviews[0]
        verdict = {"approve": "approved", "request-changes": "changes-requested", "reject": "rejected"}[r.verdict]
        return ReviewBadge(verdict=verdict, reviewer=r.reviewer, current=r.build_digest == digest)
    return ReviewBadge(verdict="approved" if decision.approved else "rejected", reviewer=decision.reviewer,
                       current=decision.build_digest == digest)


def _published(ledger: Ledger, unit: str) -> PublishBadge | None:
    with transaction(ledger) as repo:
        live = repo.live_video(unit)
        if live is None:
            return None
        return PublishBadge(youtube_video_id=live.youtube_video_id, url=f"https://youtu.be/{live.youtube_video_id}",
                            privacy=live.privacy or "",
                            publish_at=live.publish_at.isoformat() if live.publish_at else "")


def badge(s: VideoSummary) -> str:
    b = s.build
    if b.state == "error":
        return "spec error"
    if b.state == "building":
        return f"building {int((b.fraction or 0) * 100)}%"
    if b.state == "queued":
        return "queued"
    if b.state == "failed":
        return "build failed"
    if s.published is not None:
        return "scheduled" if s.published.publish_at else "published"
    if s.review.current and s.review.verdict:
        return s.review.verdict.replace("-", " ")
    if b.state == "pending":
        return "awaiting script"
    if not b.build_digest:
        return "preview" if s.shown == "preview" else "not built"
    return "built (out of date)" if b.stale else "built"


def summarize(video: str, state: VideoState, build_root: Path, ledger: Ledger | None,
              qc_badges: dict | None = None) -> VideoSummary:
    """`qc_badges`: (unit, digest) -> QC badge, fetched for many videos at once (else looked up here)."""
    brand, _, slug = video.partition("/")
    m = read_manifest(build_root, video)
    shown = shown_build(build_root, video)
    pm = read_manifest(build_root, video, preview=True) if shown == "preview" else None
    meta = read_metadata(build_root, video, preview=pm is not None and m is None)
    if m is not None and not state.build_digest:
        state = state.model_copy(update={"build_digest": m.build_digest,
                                         "state": "built" if state.state == "unknown" else state.state})
    shown_m = pm or m  # the preview while it is the shown build (its thumbnail too), else the final
    thumb = shown_m.assets.get("thumbnail.jpg") if shown_m else None
    s = VideoSummary(video=video, brand=brand, slug=slug, title=str(meta.get("title") or slug),
                     duration_s=shown_m.duration_s if shown_m else None,
                     thumbnail=file_url(video, "thumbnail.jpg", thumb.digest, preview=pm is not None) if thumb else "",
                     build=state, shown=shown, preview_label=preview_label(pm) if pm is not None else "")
    if ledger is not None and m is not None:
        s.review = _review_badge(ledger, video, m.build_digest)
        s.published = _published(ledger, video)
        s.qc = (qc_badges.get((video, m.build_digest)) if qc_badges is not None
                else qc_services.badge(ledger, video, m.build_digest))
    s.badge = badge(s)
    return s


def video_ids(book: StateBook, build_root: Path) -> list[str]:
    root = build_root.parent
    built = {k.partition("@")[0] for k in discover(root)} if build_root.is_dir() else set()
    return sorted(set(book.all()) | built)


def overview(book: StateBook, build_root: Path, ledger: Ledger | None, brand_names: dict[str, str]) -> Overview:
    states = book.all()
    brands: dict[str, BrandSummary] = {}
    ids = video_ids(book, build_root)
    qc_badges = qc_services.badges(ledger, ids) if ledger is not None else None
    for vid in ids:
        brand = vid.partition("/")[0]
        bs = brands.setdefault(brand, BrandSummary(brand=brand, name=brand_names.get(brand, brand)))
        bs.videos.append(summarize(vid, states.get(vid, VideoState(video=vid)), build_root, ledger, qc_badges))
    for brand, name in brand_names.items():
        brands.setdefault(brand, BrandSummary(brand=brand, name=name))
    return Overview(brands=[brands[b] for b in sorted(brands)], project_errors=dict(book.project_errors))


def _project(ws: Workspace | None):
    try:
        return ws.project if ws is not None else None
    except Exception:  # a project that does not load: QC findings show without spec locations
        return None


def _price(ws: Workspace | None, video: str) -> tuple[float, float]:
    """The brand's LLM price per 1M input/output tokens (a video's `llm:` may set its own)."""
    if ws is None:
        return 0.0, 0.0
    try:
        brand = ws.project.brands.get(video.partition("/")[0])
        lv = ws.project.videos.get(video)
        return llm_price(getattr(brand.model, "llm", None) if brand else None,
                         getattr(lv.spec.model, "llm", None) if lv else None)
    except Exception:  # a project mid-edit: the recorded cost still shows
        return 0.0, 0.0


def detail(video: str, book: StateBook, build_root: Path, ledger: Ledger | None, ws: Workspace | None,
           thumbs: SceneThumbs | None = None) -> VideoDetail:
    """One video as the page shows it: the player, scenes, assets and steps are those of the shown build (the
    preview while it is newer than the final); the summary's digest, reviews and publishing are the final's."""
    state = book.get(video)
    summary = summarize(video, state, build_root, ledger)
    preview = summary.shown == "preview"
    final = read_manifest(build_root, video)
    m = read_manifest(build_root, video, preview=True) if preview else final
    d = VideoDetail(summary=summary, unit=video, metadata=read_metadata(build_root, video, preview=preview))
    if final is not None and "video.mp4" in final.assets:
        d.final_url = file_url(video, "video.mp4", final.assets["video.mp4"].digest)
    if ws is not None:
        lv = ws.project.videos.get(video)
        if lv is not None:
            d.spec = ws.project.display(lv.spec.file)
    if m is not None:
        d.assets = {name: a.digest for name, a in m.assets.items()}
        d.video_url = file_url(video, "video.mp4", d.assets.get("video.mp4", ""), preview=preview)
        if "captions.vtt" in d.assets:
            d.captions_url = file_url(video, "captions.vtt", d.assets["captions.vtt"], preview=preview)
        scenes_spec = []
        if ws is not None and video in ws.project.videos and ws.project.videos[video].script is not None:
            scenes_spec = ws.project.videos[video].script.scenes
        video_digest = d.assets.get("video.mp4", "")
        if thumbs is not None:
            thumbs.want_scenes(m)  # queued, made off this request; the <img> waits briefly for its frame
        for sc in m.scenes:
            spec = scenes_spec[sc.index] if sc.index < len(scenes_spec) else None
            d.scenes.append(SceneView(index=sc.index, start_s=sc.start_s, end_s=sc.end_s, title=sc.title,
                                      narration=spec.narration if spec else "",
                                      visual_kind=getattr(spec.visual, "kind", "") if spec else "",
                                      chapter=spec.chapter if spec else None,
                                      thumb_url=SceneThumbs.url(video_digest, sc.index) if thumbs and video_digest
                                      else ""))
        d.steps = [StepTiming(step=sid, kind=st.kind, seconds=st.timing.seconds if st.timing else None,
                              version=st.version, key=short(st.key))
                   for sid, st in m.steps.items()]
        d.provenance = asset_provenance(m)
    cost_m = final or m  # what the video cost: the final build's steps (a preview re-renders, at no LLM cost)
    if cost_m is not None:
        d.cost = video_cost(cost_m, _price(ws, video))
    if final is not None:
        d.formats = sorted(k.partition("@")[2] or (final.format or "") for k in discover(build_root.parent)
                           if k.partition("@")[0] == video)
    d.last_build = book.last_build(video)
    if final is not None:
        for unit in sorted((k for k in discover(build_root.parent) if k.partition("@")[0] == video),
                           key=lambda k: ("@" in k, k)):
            um = final if unit == video else read_manifest(build_root, qc_services.unit_folder(unit))
            if um is not None:
                d.units.append(UnitBuild(unit=unit, format=unit.partition("@")[2] or str(um.format or ""),
                                         build_digest=um.build_digest))
    if ledger is not None and final is not None:
        project = _project(ws)
        d.qc = qc_services.qc_view(ledger, video, final.build_digest, list(final.scenes), project)
        for u in d.units[1:]:
            um = read_manifest(build_root, qc_services.unit_folder(u.unit))
            other = qc_services.qc_view(ledger, u.unit, u.build_digest, list(um.scenes) if um else [], project)
            if other is not None:
                d.other_qc.append(other)
        d.publish_gate = qc_services.publish_gate(d.qc, qc_services.brand_autopublish(project,
                                                                                      video.partition("/")[0]))
    if ws is not None and state.state != "error":
        try:
            d.explain = [ExplainView(**r.model_dump())
                         for r in ws.explain([video], profile="preview" if preview else "final")]
        except Exception:  # explain is a nicety; a spec mid-edit must not break the page
            d.explain = []
    return d
