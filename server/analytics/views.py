"""What the analytics pages draw: the API's numbers turned into SVG charts (wide and narrow versions)."""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from . import charts
from .schemas import BrandAnalytics, VideoAnalytics

WIDE = (760, 280)  # px; CSS shows this one above 700 px of screen
NARROW = (350, 240)  # and this one below (390 px phones)


@dataclass
class VideoCharts:
    views: list[Markup] = field(default_factory=list)  # [wide, narrow]
    retention: list[Markup] = field(default_factory=list)


def video_charts(a: VideoAnalytics) -> VideoCharts:
    out = VideoCharts()
    if a.days:
        days = [(d.day, d.views) for d in a.days]
        out.views = [charts.views_chart(days, width=w, height=h, title=f"Views per day: {a.title}")
                     for w, h in (WIDE, NARROW)]
    if a.retention and a.duration_s:
        weak = {s.index for s in a.weakest}
        bounds = [charts.Boundary(s.index, s.start_s, s.end_s, href=s.seek_url, weak=s.index in weak)
                  for s in a.scenes]
        pts = [(r.elapsed_ratio, r.audience_watch_ratio) for r in a.retention]
        out.retention = [charts.retention_chart(pts, bounds, a.duration_s, width=w, height=h,
                                                title=f"Audience retention by scene: {a.title}")
                         for w, h in (WIDE, NARROW)]
    return out


def sparklines(b: BrandAnalytics) -> dict[str, Markup]:
    return {v.youtube_video_id: charts.sparkline(v.retention, title=f"Retention: {v.title}") for v in b.videos}
