"""The analytics read side: the ledger's daily numbers and retention points, mapped onto the published build's
scenes. Reads only (the numbers arrive through `doit analytics`, publish/analytics.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from sqlalchemy import select

from compiler.workspace import Workspace
from core.records import SceneEntry
from publish.ledger import Ledger
from publish.models import AnalyticsDaily, PublishedVideo, RetentionPoint
from publish.repository import transaction
from ..previews.views import read_manifest, read_metadata
from .schemas import BrandAnalytics, DayOut, RetentionOut, SceneStat, Totals, VideoAnalytics, VideoCard

WEAKEST = 3  # scenes named as the weakest
NARRATION_CHARS = 90


def seek_url(video: str, start_s: float) -> str:
    """The Video page with its player at `start_s` (the page turns ?t= into a media fragment)."""
    return f"/videos/{video}?t={start_s:.2f}#player"


def analytics_url(video: str) -> str:
    return f"/analytics/{video}"


def interpolate(points: Sequence[tuple[float, float]], at: float) -> float | None:
    """The curve's value at `at` (linear between the two nearest points, flat beyond the ends)."""
    if not points:
        return None
    if at <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if at <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (at - x0) / (x1 - x0)
    return points[-1][1]


def scene_stats(video: str, curve: Sequence[tuple[float, float]], scenes: Sequence[SceneEntry],
                narrations: Sequence[str] = ()) -> list[SceneStat]:
    """Each scene's retention at its start and end (read off the curve, so a drop across a boundary counts), the
    mean of the points inside it, and the drop per second of scene. `curve`: (seconds, watch ratio), sorted."""
    out = []
    for sc in scenes:
        start, end = interpolate(curve, sc.start_s), interpolate(curve, sc.end_s)
        inside = [w for t, w in curve if sc.start_s <= t <= sc.end_s]
        length = sc.end_s - sc.start_s
        drop = None if start is None or end is None else start - end
        narr = narrations[sc.index] if sc.index < len(narrations) else ""
        if len(narr) > NARRATION_CHARS:
            narr = narr[:NARRATION_CHARS].rsplit(" ", 1)[0] + "…"
        out.append(SceneStat(index=sc.index, title=sc.title or "", narration=narr, start_s=sc.start_s,
                             end_s=sc.end_s, retention_start=start, retention_end=end,
                             mean_watch_ratio=sum(inside) / len(inside) if inside else None, drop=drop,
                             drop_per_s=drop / length if drop is not None and length > 0 else None,
                             seek_url=seek_url(video, sc.start_s)))
    return out


def weakest(stats: Sequence[SceneStat], n: int = WEAKEST) -> list[SceneStat]:
    """The scenes that lose the most viewers per second, worst first: only scenes that lose viewers faster than
    the video as a whole does (its first scene's start to its last scene's end)."""
    known = [s for s in stats if s.drop_per_s is not None]
    if not known:
        return []
    first, last = min(known, key=lambda s: s.start_s), max(known, key=lambda s: s.end_s)
    span = last.end_s - first.start_s
    overall = (first.retention_start - last.retention_end) / span if span > 0 else 0.0
    losing = [s for s in known if s.drop_per_s > max(0.0, overall) + 1e-9]  # float noise is not a loss
    return sorted(losing, key=lambda s: (-s.drop_per_s, s.index))[:n]


def _scenes_from_points(points: Sequence[RetentionPoint], duration: float | None) -> list[SceneEntry]:
    """When the build on disk is no longer the published one: the scenes as the puller mapped them."""
    firsts: dict[int, tuple[float, str | None]] = {}
    for p in points:
        if p.scene_index is not None and p.at_s is not None and p.scene_index not in firsts:
            firsts[p.scene_index] = (p.at_s, p.scene_title)
    order = sorted(firsts.items(), key=lambda kv: kv[1][0])
    out = []
    for i, (idx, (start, title)) in enumerate(order):
        end = order[i + 1][1][0] if i + 1 < len(order) else (duration or start)
        out.append(SceneEntry(index=idx, start_s=0.0 if i == 0 else start, end_s=end, title=title))
    return out


def _narrations(ws: Workspace | None, video: str) -> list[str]:
    try:
        lv = ws.project.videos.get(video) if ws is not None else None
        return [sc.narration or "" for sc in lv.script.scenes] if lv is not None and lv.script is not None else []
    except Exception:  # a project mid-edit: narration is a nicety here
        return []


def title_of(build_root: Path, video: str) -> str:
    return str(read_metadata(build_root, video).get("title") or video.partition("/")[2])


def live_video(ledger: Ledger, unit: str) -> PublishedVideo | None:
    with transaction(ledger) as repo:
        v = repo.live_video(unit)
        if v is not None:
            repo.session.expunge(v)
        return v


def video_analytics(video: str, build_root: Path, ledger: Ledger, ws: Workspace | None = None) -> VideoAnalytics:
    title = title_of(build_root, video)
    pv = live_video(ledger, video)
    if pv is None:
        return VideoAnalytics(video=video, title=title, state="not-published",
                              message="Not on YouTube yet: approve and publish it, then run `doit analytics` "
                                      "to fetch its numbers.")
    with ledger.session() as s:
        days = list(s.scalars(select(AnalyticsDaily).where(AnalyticsDaily.youtube_video_id == pv.youtube_video_id)
                              .order_by(AnalyticsDaily.day)))
        points = list(s.scalars(select(RetentionPoint).where(RetentionPoint.youtube_video_id == pv.youtube_video_id)
                                .order_by(RetentionPoint.ratio_permille)))
        s.expunge_all()
    a = VideoAnalytics(video=video, title=title, state="ok" if days or points else "no-data",
                       youtube_video_id=pv.youtube_video_id, url=f"https://youtu.be/{pv.youtube_video_id}",
                       published_at=pv.publish_at or pv.created_at)
    if not days and not points:
        a.message = ("Published, but no numbers yet: run `doit analytics` (YouTube's numbers lag two to three "
                     "days).")
    a.days = [DayOut(day=d.day, views=d.views, minutes_watched=d.estimated_minutes_watched,
                     average_view_duration_s=d.average_view_duration_s,
                     average_view_percentage=d.average_view_percentage, likes=d.likes,
                     subscribers_gained=d.subscribers_gained) for d in days]
    views = sum(d.views for d in days)
    a.totals = Totals(views=views, minutes_watched=sum(d.estimated_minutes_watched for d in days),
                      likes=sum(d.likes for d in days), subscribers_gained=sum(d.subscribers_gained for d in days),
                      average_view_percentage=(sum(d.average_view_percentage * d.views for d in days) / views)
                      if views else None)
    manifest = read_manifest(build_root, video)
    same_build = (manifest is not None and "video.mp4" in manifest.assets
                  and manifest.assets["video.mp4"].digest == pv.video_sha256)
    a.duration_s = pv.duration_s or (manifest.duration_s if same_build else None)
    scenes: list[SceneEntry] = []
    if same_build and manifest.scenes:
        scenes, a.scenes_from = list(manifest.scenes), "build"
        a.duration_s = a.duration_s or scenes[-1].end_s
    else:
        scenes = _scenes_from_points(points, a.duration_s)
        a.scenes_from = "retention" if scenes else "none"
    a.retention = [RetentionOut(elapsed_ratio=p.elapsed_ratio,
                                at_s=p.at_s if p.at_s is not None else (p.elapsed_ratio * a.duration_s
                                                                         if a.duration_s else None),
                                audience_watch_ratio=p.audience_watch_ratio,
                                relative_retention_performance=p.relative_retention_performance,
                                scene_index=p.scene_index) for p in points]
    if a.duration_s:
        curve = [(p.elapsed_ratio * a.duration_s, p.audience_watch_ratio) for p in points]
        a.scenes = scene_stats(video, curve, scenes, _narrations(ws, video))
        a.weakest = weakest(a.scenes)
    return a


def brand_analytics(brand: str, name: str, build_root: Path, ledger: Ledger, limit: int = 8) -> BrandAnalytics:
    """The brand's last `limit` live videos, newest first, each with its views, average view percentage and
    retention curve."""
    out = BrandAnalytics(brand=brand, name=name)
    with ledger.session() as s:
        vids = list(s.scalars(select(PublishedVideo).where(PublishedVideo.brand == brand,
                                                           PublishedVideo.status == "live")
                              .order_by(PublishedVideo.created_at.desc()).limit(limit)))
        for pv in vids:
            days = list(s.scalars(select(AnalyticsDaily).where(AnalyticsDaily.youtube_video_id == pv.youtube_video_id)))
            points = list(s.scalars(select(RetentionPoint).where(
                RetentionPoint.youtube_video_id == pv.youtube_video_id).order_by(RetentionPoint.ratio_permille)))
            views = sum(d.views for d in days)
            video = pv.unit.partition("@")[0]
            out.videos.append(VideoCard(
                video=video, title=title_of(build_root, video) + (f" ({pv.format})" if "@" in pv.unit else ""),
                youtube_video_id=pv.youtube_video_id, url=f"https://youtu.be/{pv.youtube_video_id}",
                published_at=pv.publish_at or pv.created_at, views=views,
                average_view_percentage=(sum(d.average_view_percentage * d.views for d in days) / views)
                if views else None,
                retention=[(p.elapsed_ratio, p.audience_watch_ratio) for p in points],
                analytics_url=analytics_url(video)))
    return out


def has_published(ledger: Ledger, brand: str) -> bool:
    with ledger.session() as s:
        return s.scalar(select(PublishedVideo.youtube_video_id).where(PublishedVideo.brand == brand).limit(1)) \
            is not None
