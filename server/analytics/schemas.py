from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class DayOut(BaseModel):
    day: dt.date
    views: int
    minutes_watched: float
    average_view_duration_s: float
    average_view_percentage: float
    likes: int
    subscribers_gained: int


class Totals(BaseModel):
    views: int = 0
    minutes_watched: float = 0.0
    likes: int = 0
    subscribers_gained: int = 0
    average_view_percentage: float | None = Field(default=None, description="views-weighted mean over the days")


class RetentionOut(BaseModel):
    elapsed_ratio: float = Field(description="0..1 of the video's duration")
    at_s: float | None = None
    audience_watch_ratio: float
    relative_retention_performance: float | None = None
    scene_index: int | None = None


class SceneStat(BaseModel):
    index: int
    title: str = ""
    narration: str = Field(default="", description="the start of the scene's narration")
    start_s: float
    end_s: float
    retention_start: float | None = Field(default=None, description="watch ratio at the scene's start")
    retention_end: float | None = None
    mean_watch_ratio: float | None = None
    drop: float | None = Field(default=None, description="retention_start - retention_end")
    drop_per_s: float | None = Field(default=None, description="drop / the scene's length; larger is weaker")
    seek_url: str = Field(description="the Video page with its player at this scene")


class VideoAnalytics(BaseModel):
    video: str
    title: str
    state: Literal["not-published", "no-data", "ok"]
    message: str = Field(default="", description="what to do when there is nothing to show")
    youtube_video_id: str | None = None
    url: str | None = None
    published_at: dt.datetime | None = None
    duration_s: float | None = None
    scenes_from: Literal["build", "retention", "none"] = "none"
    totals: Totals = Field(default_factory=Totals)
    days: list[DayOut] = Field(default_factory=list)
    retention: list[RetentionOut] = Field(default_factory=list)
    scenes: list[SceneStat] = Field(default_factory=list)
    weakest: list[SceneStat] = Field(default_factory=list, description="largest retention drop per second first")


class VideoCard(BaseModel):
    video: str
    title: str
    youtube_video_id: str
    url: str
    published_at: dt.datetime
    views: int
    average_view_percentage: float | None = None
    retention: list[tuple[float, float]] = Field(default_factory=list,
                                                 description="(elapsed ratio, audience watch ratio) pairs")
    analytics_url: str


class BrandAnalytics(BaseModel):
    brand: str
    name: str
    videos: list[VideoCard] = Field(default_factory=list, description="newest first")
