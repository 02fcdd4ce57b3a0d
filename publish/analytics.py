"""`doit analytics`: each published video's daily numbers and audience retention, stored in the ledger.

Daily rows (views, estimated minutes watched, average view duration and percentage, likes,
subscribers gained) come from YouTube Analytics `reports.query` with dimensions=day and
filters=video==ID. YouTube revises the last days (data lags 2-3 days, dates are Pacific), so
every run re-reads the last REFETCH_DAYS days and upserts. Retention (audienceWatchRatio by
elapsedVideoTimeRatio) is mapped onto the build's scenes through manifest.json, so a drop can
be read as "people leave during scene 3".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from core.records import SceneEntry

from .channels import Channels
from .errors import PublishError
from .ledger import Ledger, upsert
from .models import AnalyticsDaily, PublishedVideo, RetentionPoint, utcnow
from .plan import ApiCall
from .printer import LinePrinter
from .quota import PACIFIC, pacific_day
from .units import load_unit

DAILY_METRICS = ["views", "estimatedMinutesWatched", "averageViewDuration", "averageViewPercentage", "likes",
                 "subscribersGained"]
RETENTION_METRICS = ["audienceWatchRatio", "relativeRetentionPerformance"]
REFETCH_DAYS = 4


@dataclass
class SceneRetention:
    index: int
    title: str
    start_s: float
    end_s: float
    mean_watch_ratio: float | None
    at_start: float | None
    at_end: float | None

    @property
    def drop(self) -> float | None:
        return None if self.at_start is None or self.at_end is None else self.at_start - self.at_end


@dataclass
class VideoReport:
    unit: str
    video_id: str
    days: int = 0
    views: int = 0
    minutes: float = 0.0
    likes: int = 0
    subscribers: int = 0
    scenes: list[SceneRetention] = field(default_factory=list)
    error: str | None = None


def table(resp: dict) -> list[dict]:
    """reports.query's columnHeaders + rows -> dicts by column name."""
    names = [h["name"] for h in resp.get("columnHeaders", [])]
    return [dict(zip(names, row)) for row in resp.get("rows") or []]


def scene_at(scenes: list[SceneEntry], at_s: float) -> SceneEntry | None:
    for sc in scenes:
        if sc.start_s <= at_s < sc.end_s:
            return sc
    if scenes and at_s >= scenes[-1].end_s - 1e-6:
        return scenes[-1]  # ratio 1.0 is the last frame
    return None


def scene_retention(points: list[RetentionPoint], scenes: list[SceneEntry]) -> list[SceneRetention]:
    out = []
    for sc in scenes:
        inside = sorted((p for p in points if p.scene_index == sc.index), key=lambda p: p.elapsed_ratio)
        ratios = [p.audience_watch_ratio for p in inside]
        out.append(SceneRetention(sc.index, sc.title or "", sc.start_s, sc.end_s,
                                  sum(ratios) / len(ratios) if ratios else None,
                                  ratios[0] if ratios else None, ratios[-1] if ratios else None))
    return out


class AnalyticsPuller:
    def __init__(self, root: Path, ledger: Ledger, *, out: Callable[[str], None] = print,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.root, self.ledger, self.out, self.clock = root.resolve(), ledger, out, clock
        self.channels = Channels(self.root, ledger, reporter=LinePrinter(out), clock=clock)

    def videos(self, keys: list[str] | None) -> list[PublishedVideo]:
        with self.ledger.session() as s:
            q = select(PublishedVideo).order_by(PublishedVideo.unit, PublishedVideo.created_at)
            if keys:
                q = q.where(PublishedVideo.unit.in_(keys))
            return list(s.scalars(q))

    def run(self, keys: list[str] | None = None) -> list[VideoReport]:
        reports = []
        try:
            for video in self.videos(keys):
                report = VideoReport(video.unit, video.youtube_video_id)
                try:
                    self.pull(video)
                except PublishError as exc:
                    report.error = exc.for_unit(video.unit).render()
                    self.out(f"FAILED: {report.error}")
                self.summarise(video, report)
                reports.append(report)
        finally:
            self.channels.save_tokens()
        if not reports:
            self.out("no published videos yet: run doit publish first")
        return reports

    def _scenes(self, video: PublishedVideo) -> list[SceneEntry]:
        """The scenes of the build that is on YouTube (only if the build dir still holds that video)."""
        try:
            unit = load_unit(self.root, video.unit, verify=False)
        except PublishError:
            return []
        if unit.digests.get("video.mp4") != video.video_sha256:
            return []
        return unit.scenes

    def pull(self, video: PublishedVideo) -> None:
        client = self.channels.client_for(video.brand, self.channels.channel_of(video.brand))
        today = pacific_day(self.clock())
        first = video.created_at.astimezone(PACIFIC).date()  # the upload day (a scheduled video may premiere later)
        with self.ledger.session() as s:
            last = s.scalar(select(func.max(AnalyticsDaily.day)).where(
                AnalyticsDaily.youtube_video_id == video.youtube_video_id))
        start = max(first, last - dt.timedelta(days=REFETCH_DAYS - 1)) if last else first
        if start > today:
            return
        ids = "channel==MINE"
        daily = client.execute(ApiCall("reports.query", {
            "ids": ids, "startDate": start.isoformat(), "endDate": today.isoformat(),
            "metrics": ",".join(DAILY_METRICS), "dimensions": "day", "filters": f"video=={video.youtube_video_id}",
            "sort": "day"}))
        now = utcnow()
        rows = [{
            "youtube_video_id": video.youtube_video_id, "day": dt.date.fromisoformat(r["day"]), "unit": video.unit,
            "views": int(r.get("views") or 0), "estimated_minutes_watched": float(r.get("estimatedMinutesWatched") or 0),
            "average_view_duration_s": float(r.get("averageViewDuration") or 0),
            "average_view_percentage": float(r.get("averageViewPercentage") or 0),
            "likes": int(r.get("likes") or 0), "subscribers_gained": int(r.get("subscribersGained") or 0),
            "fetched_at": now} for r in table(daily)]
        retention = client.execute(ApiCall("reports.query", {
            "ids": ids, "startDate": first.isoformat(), "endDate": today.isoformat(),
            "metrics": ",".join(RETENTION_METRICS), "dimensions": "elapsedVideoTimeRatio",
            "filters": f"video=={video.youtube_video_id}", "sort": "elapsedVideoTimeRatio"}))
        scenes = self._scenes(video)
        duration = video.duration_s or (scenes[-1].end_s if scenes else None)
        points = []
        for r in table(retention):
            ratio = float(r["elapsedVideoTimeRatio"])
            at_s = ratio * duration if duration else None
            sc = scene_at(scenes, at_s) if at_s is not None else None
            rel = r.get("relativeRetentionPerformance")
            points.append({
                "youtube_video_id": video.youtube_video_id, "ratio_permille": round(ratio * 1000), "unit": video.unit,
                "elapsed_ratio": ratio, "audience_watch_ratio": float(r.get("audienceWatchRatio") or 0),
                "relative_retention_performance": None if rel is None else float(rel), "at_s": at_s,
                "scene_index": sc.index if sc else None, "scene_title": sc.title if sc else None,
                "start_day": first, "end_day": today, "fetched_at": now})
        with self.ledger.session() as s:
            upsert(s, AnalyticsDaily, rows, ["youtube_video_id", "day"])
            upsert(s, RetentionPoint, points, ["youtube_video_id", "ratio_permille"])
        self.out(f"analytics: {video.unit} https://youtu.be/{video.youtube_video_id}: {len(rows)} day(s) "
                 f"{start}..{today}, {len(points)} retention point(s)")

    def summarise(self, video: PublishedVideo, report: VideoReport) -> None:
        with self.ledger.session() as s:
            days = list(s.scalars(select(AnalyticsDaily).where(
                AnalyticsDaily.youtube_video_id == video.youtube_video_id)))
            points = list(s.scalars(select(RetentionPoint).where(
                RetentionPoint.youtube_video_id == video.youtube_video_id)))
        report.days = len(days)
        report.views = sum(d.views for d in days)
        report.minutes = sum(d.estimated_minutes_watched for d in days)
        report.likes = sum(d.likes for d in days)
        report.subscribers = sum(d.subscribers_gained for d in days)
        report.scenes = scene_retention(points, self._scenes(video))
        self.out(f"  {report.views} views, {report.minutes:.1f} min watched, {report.likes} likes, "
                 f"+{report.subscribers} subscribers over {report.days} day(s)")
        for sc in report.scenes:
            if sc.mean_watch_ratio is None:
                continue
            change = f"{-sc.drop:+.2f}" if sc.drop is not None else "  n/a"
            self.out(f"    scene {sc.index:>2} {sc.start_s:6.1f}-{sc.end_s:6.1f} s  retention "
                     f"{sc.mean_watch_ratio:.2f}  change {change}  {sc.title[:40]}")
