"""Server-side SVG charts: views per day, the retention curve with its scene boundaries, sparklines.

Pure functions (data in, markup out), no JavaScript and no inline `style` (the CSP allows neither): colours are
presentation attributes and classes that web/static/app.css styles. Every chart is an `<svg role="img">` with a
`<title>` and a `<desc>` that says in words what the lines show, and labelled axes. Each chart is drawn for one
pixel size (`width` x `height`, 1:1 with the viewBox) so text stays readable: the pages draw a wide and a narrow
version and CSS shows the one that fits (1280 px and 390 px screens).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from itertools import count
from typing import Sequence

from markupsafe import Markup, escape

LINE = "#ff8a3d"
AXIS = "#9aa3b2"
GRID = "#2a2f3a"
BOUNDARY = "#4ea1ff"
WEAK = "#e5484d"
_ids = count(1)


@dataclass(frozen=True)
class Box:
    """The plot area inside the SVG: left/top margins and the plotted width and height."""

    width: int
    height: int
    left: int = 48
    right: int = 14
    top: int = 14
    bottom: int = 40

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def x(self, frac: float) -> float:
        return self.left + max(0.0, min(1.0, frac)) * self.plot_w

    def y(self, frac: float) -> float:
        return self.top + (1.0 - max(0.0, min(1.0, frac))) * self.plot_h


def num(v: float) -> str:
    """Coordinates with one decimal, no trailing zeros ("12.5", "40")."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def nice_max(v: float) -> float:
    """A round axis maximum at or above v (1, 2, 2.5, 5 x 10^n)."""
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def fmt_count(v: float) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:g}M"
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def fmt_clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


def _open(box: Box, title: str, desc: str, cls: str) -> list[str]:
    n = next(_ids)
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" role="img" width="{box.width}" '
            f'height="{box.height}" viewBox="0 0 {box.width} {box.height}" aria-labelledby="ct{n} cd{n}">',
            f'<title id="ct{n}">{escape(title)}</title>', f'<desc id="cd{n}">{escape(desc)}</desc>']


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{num(x)},{num(y)}" for i, (x, y) in enumerate(points))


def _y_axis(box: Box, top: float, fmt, label: str, ticks: int = 4) -> list[str]:
    out = []
    for i in range(ticks + 1):
        frac = i / ticks
        y = box.y(frac)
        out.append(f'<line x1="{box.left}" x2="{num(box.left + box.plot_w)}" y1="{num(y)}" y2="{num(y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{box.left - 6}" y="{num(y + 4)}" text-anchor="end" fill="{AXIS}" '
                   f'font-size="12">{escape(fmt(top * frac))}</text>')
    cy = box.top + box.plot_h / 2
    out.append(f'<text x="12" y="{num(cy)}" transform="rotate(-90 12 {num(cy)})" text-anchor="middle" '
               f'fill="{AXIS}" font-size="12">{escape(label)}</text>')
    return out


def _x_label(box: Box, label: str) -> str:
    return (f'<text x="{num(box.left + box.plot_w / 2)}" y="{box.height - 4}" text-anchor="middle" fill="{AXIS}" '
            f'font-size="12">{escape(label)}</text>')


def views_chart(days: Sequence[tuple[dt.date, int]], *, width: int, height: int, title: str) -> Markup:
    """Views per day as a line (dots when there are few days), y from 0 to a round maximum."""
    box = Box(width, height)
    total = sum(v for _, v in days)
    if days:
        peak_day, peak = max(days, key=lambda d: d[1])
        desc = (f"Views per day from {days[0][0]} to {days[-1][0]}: {total} in all, "
                f"most on {peak_day} ({peak}).")
    else:
        desc = "No daily numbers yet."
    out = _open(box, title, desc, "chart-views")
    top = nice_max(max((v for _, v in days), default=0))
    out += _y_axis(box, top, fmt_count, "views")
    n = len(days)
    pts = [(box.x(i / (n - 1)) if n > 1 else box.x(0.5), box.y(v / top)) for i, (_, v) in enumerate(days)]
    if pts:
        area = _path([(pts[0][0], box.y(0)), *pts, (pts[-1][0], box.y(0))]) + " Z"
        out.append(f'<path d="{area}" fill="{LINE}" fill-opacity="0.12" stroke="none"/>')
        out.append(f'<path class="line" d="{_path(pts)}" fill="none" stroke="{LINE}" stroke-width="2.5" '
                   f'stroke-linejoin="round"/>')
        if n <= 31:
            for (x, y), (day, v) in zip(pts, days):
                out.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{LINE}"><title>{day}: {v} views'
                           f'</title></circle>')
    # x ticks: first, last and a few in between, as short dates
    want = max(2, min(n, int(box.plot_w // 70)))
    shown = sorted({round(i * (n - 1) / (want - 1)) for i in range(want)}) if n > 1 else ([0] if n else [])
    for i in shown:
        x = pts[i][0]
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        out.append(f'<text x="{num(x)}" y="{num(box.y(0) + 16)}" text-anchor="{anchor}" fill="{AXIS}" '
                   f'font-size="12">{days[i][0].strftime("%b %d").replace(" 0", " ")}</text>')
    out.append(_x_label(box, "day (Pacific time, as YouTube counts)"))
    out.append("</svg>")
    return Markup("\n".join(out))


def time_step(duration: float, ticks: int) -> float:
    """A round tick step in seconds giving at most `ticks` intervals over `duration`."""
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration / step <= ticks:
            return float(step)
    return 3600.0 * math.ceil(duration / 3600 / ticks)


@dataclass(frozen=True)
class Boundary:
    """A scene on the retention chart: its number, start and end in seconds, a seek link, weak or not."""

    index: int
    start_s: float
    end_s: float
    href: str = ""
    weak: bool = False


def boundary_x(box: Box, t: float, duration: float) -> float:
    return box.x(t / duration) if duration > 0 else box.left


def retention_chart(points: Sequence[tuple[float, float]], scenes: Sequence[Boundary], duration: float, *,
                    width: int, height: int, title: str) -> Markup:
    """Audience retention (watch ratio, y) over the video's time (x, seconds), with a dashed line at each scene
    boundary, the scene numbers on top, the weakest scenes shaded, and each scene band a link that seeks the
    Video page's player to it. `points`: (elapsed ratio 0..1, audience watch ratio)."""
    box = Box(width, height, top=26)
    peak = max((r for _, r in points), default=1.0)
    top = max(1.0, math.ceil(peak * 4) / 4)  # watch ratio can exceed 1 (rewatched parts)
    weak = [s for s in scenes if s.weak]
    desc = (f"Share of viewers still watching at each point of the {fmt_clock(duration)} video, "
            f"{len(scenes)} scene(s) marked by vertical lines.")
    if points:
        desc += f" It starts at {points[0][1]:.0%} and ends at {points[-1][1]:.0%}."
    if weak:
        desc += " Weakest: " + ", ".join(f"scene {s.index + 1}" for s in weak) + " (shaded)."
    out = _open(box, title, desc, "chart-retention")
    for s in scenes:  # bands under everything: shaded when weak, each a link to the scene
        x0, x1 = boundary_x(box, s.start_s, duration), boundary_x(box, s.end_s, duration)
        rect = (f'<rect class="band{" weak" if s.weak else ""}" x="{num(x0)}" y="{box.top}" width="{num(x1 - x0)}" '
                f'height="{num(box.plot_h)}" fill="{WEAK if s.weak else BOUNDARY}" '
                f'fill-opacity="{0.16 if s.weak else 0}"><title>scene {s.index + 1}: {fmt_clock(s.start_s)}'
                f'–{fmt_clock(s.end_s)}</title></rect>')
        out.append(f'<a href="{escape(s.href)}">{rect}</a>' if s.href else rect)
    out += _y_axis(box, top, lambda v: f"{v:.0%}", "still watching")
    for i, s in enumerate(scenes):
        x = boundary_x(box, s.start_s, duration)
        if i > 0:
            out.append(f'<line class="scene-boundary" data-t="{s.start_s:.3f}" x1="{num(x)}" x2="{num(x)}" '
                       f'y1="{box.top - 12}" y2="{num(box.y(0))}" stroke="{BOUNDARY}" stroke-width="1.5" '
                       f'stroke-dasharray="4 3"/>')
        mid = (x + boundary_x(box, s.end_s, duration)) / 2
        if boundary_x(box, s.end_s, duration) - x >= 14:  # a label only where it fits
            out.append(f'<text x="{num(mid)}" y="{box.top - 8}" text-anchor="middle" font-size="11" '
                       f'fill="{WEAK if s.weak else BOUNDARY}">{s.index + 1}</text>')
    pts = [(box.x(r), box.y(w / top)) for r, w in points]
    if pts:
        out.append(f'<path class="line" d="{_path(pts)}" fill="none" stroke="{LINE}" stroke-width="2.5" '
                   f'stroke-linejoin="round"/>')
    step = time_step(duration, max(2, min(6, int(box.plot_w // 80))))
    n = int(duration / step + 1e-9) if duration > 0 else 0
    for i in range(n + 1):
        t = i * step
        x = boundary_x(box, t, duration)
        anchor = "start" if i == 0 else "end" if x > box.left + box.plot_w - 20 else "middle"
        label = fmt_clock(t) if step >= 1 else f"{t:g}s"
        out.append(f'<text x="{num(x)}" y="{num(box.y(0) + 16)}" text-anchor="{anchor}" '
                   f'fill="{AXIS}" font-size="12">{label}</text>')
    out.append(_x_label(box, "time in the video (numbers on top: scenes)"))
    out.append("</svg>")
    return Markup("\n".join(out))


def sparkline(points: Sequence[tuple[float, float]], *, width: int = 160, height: int = 40, title: str) -> Markup:
    """A small retention curve without axes (0 at the bottom, max(1, peak) at the top)."""
    box = Box(width, height, left=2, right=2, top=3, bottom=3)
    top = max(1.0, max((w for _, w in points), default=1.0))
    if points:
        desc = f"Retention from {points[0][1]:.0%} at the start to {points[-1][1]:.0%} at the end."
    else:
        desc = "No retention data yet."
    out = _open(box, title, desc, "spark")
    out[0] = out[0].replace("<svg ", '<svg preserveAspectRatio="none" ', 1)  # stretches to the card's width
    out.append(f'<line x1="{box.left}" x2="{num(box.left + box.plot_w)}" y1="{num(box.y(0))}" y2="{num(box.y(0))}" '
               f'stroke="{GRID}" stroke-width="1" vector-effect="non-scaling-stroke"/>')
    pts = [(box.x(r), box.y(w / top)) for r, w in points]
    if pts:
        out.append(f'<path d="{_path(pts)}" fill="none" stroke="{LINE}" stroke-width="2" stroke-linejoin="round" '
                   f'vector-effect="non-scaling-stroke"/>')
    out.append("</svg>")
    return Markup("\n".join(out))
