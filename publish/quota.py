"""YouTube Data API quota: one table of per-call costs, tracked per cloud project per Pacific day.

Model since 2026-06-01 (research doc 1.2): videos.insert and search.list each have their own
bucket of 100 calls/day; videos.batchGetStats has its own 10,000; every other method shares
the project's 10,000 units/day. All brands authorised through one OAuth client share these.
Quotas reset at midnight America/Los_Angeles. Invalid requests still cost, so a call is charged
when it is sent, not when it succeeds, and a call that would exceed a bucket is refused before
it is sent. Audited projects with more quota set SHOWRUNNER_QUOTA_LIMITS, e.g.
`shared=50000,videos.insert=300`.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from .errors import ConfigError, QuotaRefused
from .ledger import Ledger, insert_ignore
from .models import QuotaUsage, utcnow

PACIFIC = ZoneInfo("America/Los_Angeles")
SHARED = "shared"


@dataclass(frozen=True)
class Cost:
    bucket: str
    units: int


# Method -> (bucket, units per call). The one place these numbers live.
COSTS: dict[str, Cost] = {
    "videos.insert": Cost("videos.insert", 1),       # own bucket: 100 calls/day (was ~100, before that 1600)
    "search.list": Cost("search.list", 1),           # own bucket: 100 calls/day (was 100 units)
    "videos.batchGetStats": Cost("videos.batchGetStats", 1),
    "videos.list": Cost(SHARED, 1),
    "videos.update": Cost(SHARED, 50),
    "videos.delete": Cost(SHARED, 50),
    "channels.list": Cost(SHARED, 1),
    "playlistItems.list": Cost(SHARED, 1),
    "playlistItems.insert": Cost(SHARED, 50),
    "thumbnails.set": Cost(SHARED, 50),
    "captions.list": Cost(SHARED, 50),
    "captions.insert": Cost(SHARED, 400),
    "captions.update": Cost(SHARED, 450),
}

DEFAULT_LIMITS: dict[str, int] = {
    SHARED: 10_000,
    "videos.insert": 100,
    "search.list": 100,
    "videos.batchGetStats": 10_000,
}


def limits() -> dict[str, int]:
    out = dict(DEFAULT_LIMITS)
    spec = os.environ.get("SHOWRUNNER_QUOTA_LIMITS", "").strip()
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = item.partition("=")
        if name.strip() not in out or not value.strip().isdigit():
            raise ConfigError(f"SHOWRUNNER_QUOTA_LIMITS: cannot read {item!r}",
                              hint=f"use bucket=number with buckets {', '.join(sorted(out))}")
        out[name.strip()] = int(value)
    return out


def pacific_day(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(PACIFIC).date()


def next_reset(now: dt.datetime | None = None) -> dt.datetime:
    """The next midnight in America/Los_Angeles, as an aware datetime (DST handled by zoneinfo)."""
    local = (now or utcnow()).astimezone(PACIFIC)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=PACIFIC)
    return midnight


def cost_of(method: str) -> Cost:
    try:
        return COSTS[method]
    except KeyError:
        raise KeyError(f"no quota cost known for {method}; add it to publish.quota.COSTS") from None


def estimate(methods: list[str]) -> dict[str, int]:
    """Units per bucket for a list of planned calls."""
    out: dict[str, int] = {}
    for m in methods:
        c = cost_of(m)
        out[c.bucket] = out.get(c.bucket, 0) + c.units
    return out


def _until(reset: dt.datetime, now: dt.datetime) -> str:
    mins = max(1, int((reset - now).total_seconds() // 60))
    return f"{mins // 60} h {mins % 60:02d} min" if mins >= 60 else f"{mins} min"


class QuotaBook:
    """Quota of one cloud project. Charges are conditional updates, safe across processes."""

    def __init__(self, ledger: Ledger, project: str, *, clock=utcnow):
        self.ledger, self.project, self.clock = ledger, project, clock

    def used(self, bucket: str, day: dt.date | None = None) -> int:
        day = day or pacific_day(self.clock())
        with self.ledger.session() as s:
            row = s.get(QuotaUsage, (self.project, day, bucket))
            return row.units if row else 0

    def remaining(self, bucket: str) -> int:
        return limits().get(bucket, 0) - self.used(bucket)

    def summary(self) -> str:
        lim = limits()
        return (f"quota today (project {self.project}, Pacific day {pacific_day(self.clock())}): "
                f"{self.used(SHARED)}/{lim[SHARED]} units, "
                f"{self.used('videos.insert')}/{lim['videos.insert']} uploads")

    def _refusal(self, what: str, bucket: str, need: int) -> QuotaRefused:
        now = self.clock()
        lim = limits().get(bucket, 0)
        left = max(0, lim - self.used(bucket))
        unit = "units" if bucket == SHARED else f"{bucket} calls"
        reset = next_reset(now)
        return QuotaRefused(
            f"quota: {what} needs {need} {unit} but only {left} of {lim} are left today for cloud project "
            f"{self.project} (Pacific day {pacific_day(now)}); nothing was sent",
            hint=f"quota resets at 00:00 America/Los_Angeles (in {_until(reset, now)}); run `doit publish` "
                 "again then. For more daily quota, apply for a quota extension (YouTube API audit) and set "
                 "SHOWRUNNER_QUOTA_LIMITS.")

    def check(self, need: dict[str, int], what: str) -> None:
        """Refuse a whole unit's worth of calls up front, so a unit never stops half-way for quota."""
        lim = limits()
        for bucket, units in sorted(need.items()):
            if bucket in lim and self.used(bucket) + units > lim[bucket]:
                raise self._refusal(what, bucket, units)

    def charge(self, method: str) -> None:
        """Spend the cost of one call, or raise QuotaRefused without spending anything."""
        c = cost_of(method)
        lim = limits()[c.bucket]
        day = pacific_day(self.clock())
        with self.ledger.session() as s:
            upsert_zero(s, self.project, day, c.bucket)
            done = s.execute(
                update(QuotaUsage)
                .where(QuotaUsage.project == self.project, QuotaUsage.day == day, QuotaUsage.bucket == c.bucket,
                       QuotaUsage.units + c.units <= lim)
                .values(units=QuotaUsage.units + c.units, calls=QuotaUsage.calls + 1, updated_at=utcnow())
            ).rowcount
        if done != 1:
            raise self._refusal(method, c.bucket, c.units)

    def count(self, bucket: str) -> None:
        """Count something without a limit (e.g. uploads per channel, for the record)."""
        day = pacific_day(self.clock())
        with self.ledger.session() as s:
            upsert_zero(s, self.project, day, bucket)
            s.execute(update(QuotaUsage)
                      .where(QuotaUsage.project == self.project, QuotaUsage.day == day, QuotaUsage.bucket == bucket)
                      .values(units=QuotaUsage.units + 1, calls=QuotaUsage.calls + 1, updated_at=utcnow()))

    def exhaust(self, method: str) -> None:
        """YouTube said quotaExceeded: believe it, and send nothing more from this bucket today."""
        c = cost_of(method)
        lim = limits()[c.bucket]
        day = pacific_day(self.clock())
        with self.ledger.session() as s:
            upsert_zero(s, self.project, day, c.bucket)
            s.execute(update(QuotaUsage)
                      .where(QuotaUsage.project == self.project, QuotaUsage.day == day,
                             QuotaUsage.bucket == c.bucket, QuotaUsage.units < lim)
                      .values(units=lim, updated_at=utcnow()))

    def usage(self, day: dt.date | None = None) -> dict[str, int]:
        day = day or pacific_day(self.clock())
        with self.ledger.session() as s:
            rows = s.scalars(select(QuotaUsage).where(QuotaUsage.project == self.project, QuotaUsage.day == day))
            return {r.bucket: r.units for r in rows}


def upsert_zero(session, project: str, day: dt.date, bucket: str) -> None:
    """Make sure the day's row exists; a concurrent insert by another process is fine."""
    insert_ignore(session, QuotaUsage, {"project": project, "day": day, "bucket": bucket, "units": 0, "calls": 0,
                                        "updated_at": utcnow()})


def until_reset(now: dt.datetime | None = None) -> str:
    """How long until the quota resets, e.g. `7 h 05 min`."""
    now = now or utcnow()
    return _until(next_reset(now), now)
