"""Publish schedules: `channel.schedule` -> the next free publishAt slot for a channel.

Accepted forms (times are local to the zone; the zone defaults to UTC)::

    daily 15:00 America/New_York
    daily 09:00,17:30 Europe/Berlin
    weekdays 12:00 UTC
    mon,wed,fri 18:00 Europe/London
    2026-12-01T15:00:00+01:00          (one fixed moment)

Each upload takes the first slot at least `lead` from now that no other scheduled video of
the same channel and format already holds, so a batch of videos spreads out one per slot.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
LEAD = dt.timedelta(minutes=30)


class Schedule:
    def __init__(self, text: str, weekdays: set[int], times: list[dt.time], zone: ZoneInfo,
                 fixed: dt.datetime | None = None):
        self.text, self.weekdays, self.times, self.zone, self.fixed = text, weekdays, times, zone, fixed

    def slots(self, start: dt.datetime, days: int = 400):
        """Slot datetimes (aware UTC) from `start` on, in order."""
        if self.fixed is not None:
            if self.fixed >= start:
                yield self.fixed
            return
        local = start.astimezone(self.zone).date()
        for offset in range(days):
            day = local + dt.timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            for t in self.times:
                at = dt.datetime.combine(day, t, tzinfo=self.zone).astimezone(dt.timezone.utc)
                if at >= start:
                    yield at


def parse_schedule(text: str | None, *, where: str = "channel.schedule") -> Schedule | None:
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    try:
        fixed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fixed = None
    if fixed is not None:
        if fixed.tzinfo is None:
            raise ConfigError(f"{where}: '{text}' has no UTC offset", hint="write e.g. 2026-12-01T15:00:00+01:00")
        return Schedule(text, set(), [], ZoneInfo("UTC"), fixed.astimezone(dt.timezone.utc))
    parts = text.split()
    if len(parts) not in (2, 3):
        raise ConfigError(f"{where}: cannot read '{text}'",
                          hint="use e.g. 'daily 15:00 America/New_York', 'weekdays 12:00 UTC' or "
                               "'mon,wed,fri 18:00 Europe/London'")
    days_text, times_text = parts[0].lower(), parts[1]
    if days_text == "daily":
        weekdays = set(range(7))
    elif days_text == "weekdays":
        weekdays = set(range(5))
    else:
        names = days_text.split(",")
        unknown = [n for n in names if n not in DAYS]
        if unknown:
            raise ConfigError(f"{where}: unknown day(s) {', '.join(unknown)} in '{text}'",
                              hint="days are daily, weekdays or a list like mon,wed,fri")
        weekdays = {DAYS[n] for n in names}
    times = []
    for item in times_text.split(","):
        m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", item)
        if not m:
            raise ConfigError(f"{where}: '{item}' is not a time (HH:MM, 24 h) in '{text}'")
        times.append(dt.time(int(m[1]), int(m[2])))
    try:
        zone = ZoneInfo(parts[2]) if len(parts) == 3 else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone '{parts[2]}'",
                          hint="use an IANA name such as America/New_York or Europe/Berlin") from None
    return Schedule(text, weekdays, sorted(times), zone)


def next_slot(schedule: Schedule, now: dt.datetime, taken: set[dt.datetime], *, lead: dt.timedelta = LEAD,
              where: str = "channel.schedule") -> dt.datetime:
    taken_utc = {t.astimezone(dt.timezone.utc).replace(second=0, microsecond=0) for t in taken}
    for slot in schedule.slots(now + lead):
        if slot.replace(second=0, microsecond=0) not in taken_utc:
            return slot
    if schedule.fixed is not None:
        raise ConfigError(f"{where}: the fixed time {schedule.text} is in the past or already used",
                          hint="set a future time or a repeating schedule such as 'daily 15:00 UTC'")
    raise ConfigError(f"{where}: no free slot in '{schedule.text}' within a year")


def rfc3339(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
