"""Bar or line chart from data: bars grow (or the line draws) across the narration, value labels
follow, and the highlighted items turn to the accent colour at the end.

Values must be >= 0 (the axis starts at zero). `y_max` fixes the top of the axis; by default it
is the largest value rounded up to a tidy number.
"""
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=120)
    type: Literal["bar", "line"] = "bar"
    labels: list[str] = Field(min_length=1, max_length=16, description="one label per value (x axis)")
    values: list[float] = Field(min_length=1, max_length=16)
    y_label: str = Field("", max_length=60, description="what the values measure")
    y_max: float | None = Field(None, gt=0)
    highlight: list[int] = Field(default_factory=list, description="indices (from 0) drawn in the accent colour")
    value_labels: bool = Field(True, description="print each value above its bar or point")
    format: str = Field("{:g}", description="Python format for value labels, e.g. '{:.1f}' or '{:,.0f} km'")

    @field_validator("values")
    @classmethod
    def _non_negative(cls, values: list[float]) -> list[float]:
        bad = [i for i, v in enumerate(values) if v < 0 or not math.isfinite(v)]
        if bad:
            raise ValueError(f"values must be finite and >= 0 (values[{bad[0]}] is {values[bad[0]]})")
        return values

    @field_validator("format")
    @classmethod
    def _format_works(cls, fmt: str) -> str:
        try:
            fmt.format(1.5)
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"format {fmt!r} cannot format a number: {exc}") from None
        return fmt

    @model_validator(mode="after")
    def _shapes(self) -> "Params":
        if len(self.labels) != len(self.values):
            raise ValueError(f"labels ({len(self.labels)}) and values ({len(self.values)}) must have the same length")
        out = [i for i in self.highlight if not 0 <= i < len(self.values)]
        if out:
            raise ValueError(f"highlight index {out[0]} is out of range (0..{len(self.values) - 1})")
        if self.y_max is not None and self.y_max < max(self.values):
            raise ValueError(f"y_max {self.y_max:g} is below the largest value {max(self.values):g}")
        return self


def nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


def construct(scene, p: Params, sr) -> None:
    from manim import DOWN, LEFT, RIGHT, UP, Create, Dot, FadeIn, GrowFromEdge, Line, Rectangle, VGroup, VMobject

    heading = sr.title(p.title)
    n = len(p.values)
    top_y = (heading.get_bottom()[1] - 1.2) if heading is not None else sr.frame_height / 2 - 1.1
    bottom_y = -sr.frame_height / 2 + (1.2 if n <= 8 or not sr.portrait else 1.6)
    left_x, right_x = -sr.frame_width / 2 + 1.4, sr.frame_width / 2 - 0.6
    y_max = p.y_max or nice_max(max(p.values) * 1.08)  # headroom for the value labels
    h = top_y - bottom_y
    ypos = lambda v: bottom_y + h * v / y_max  # noqa: E731
    slot = (right_x - left_x) / n
    xs = [left_x + slot * (i + 0.5) for i in range(n)]

    grid = VGroup()
    for k in range(5):
        v = y_max * k / 4
        line = Line([left_x, ypos(v), 0], [right_x, ypos(v), 0], color=sr.color("muted"),
                    stroke_width=1 if k else 3, stroke_opacity=0.4 if k else 0.9)
        tick = sr.text(p.format.format(v), size=20, color="muted").next_to(line, LEFT, buff=0.15)
        grid.add(line, tick)
    label_size = 24 if n <= 8 else 18
    names = VGroup(*[sr.text(lab, size=label_size, max_width=slot * 0.95).move_to([x, bottom_y - 0.35, 0])
                     for x, lab in zip(xs, p.labels)])
    axis_title = sr.text(p.y_label, size=22, color="muted") if p.y_label else None
    if axis_title is not None:
        axis_title.next_to([left_x, top_y, 0], UP, buff=0.3).align_to([left_x - 0.8, 0, 0], LEFT)

    base = sr.color("muted") if p.highlight else sr.color("accent")
    marks, values = [], []
    if p.type == "bar":
        for x, v in zip(xs, p.values):
            bar = Rectangle(width=slot * 0.62, height=max(1e-3, ypos(v) - bottom_y), stroke_width=0,
                            fill_color=base, fill_opacity=0.95)
            bar.move_to([x, bottom_y + bar.height / 2, 0])
            marks.append(bar)
    else:
        points = [[x, ypos(v), 0] for x, v in zip(xs, p.values)]
        marks = [Dot(pt, radius=0.08, color=base) for pt in points]
        path = VMobject(color=sr.color("accent"), stroke_width=6).set_points_as_corners(points)
    if p.value_labels:
        for m, v in zip(marks, p.values):
            values.append(sr.text(p.format.format(v), size=22, color="text").next_to(m, UP, buff=0.12))

    intro = [Create(grid), FadeIn(names)] + ([FadeIn(axis_title)] if axis_title is not None else [])
    if heading is not None:
        intro.append(FadeIn(heading))
    sr.play(scene, *intro, run_time=min(1.0, sr.duration * 0.15))
    # the data arrives over the first 60% of the narration, then the highlights
    beats = sr.beats(n, spread=0.6) if n <= len(sr.sentences) else [
        sr.lead + sr.narration_s * 0.6 * i / max(1, n - 1) for i in range(n)]
    if p.type == "line":
        sr.play(scene, Create(path), *[FadeIn(d) for d in marks],
                run_time=max(0.3, beats[-1] - scene.time + 0.6))
        if values:
            sr.play(scene, *[FadeIn(t) for t in values], run_time=0.5)
    else:
        per = max(1.0 / sr.fps, min(0.7, (beats[-1] - beats[0]) / max(1, n - 1) if n > 1 else 0.7))
        for i, bar in enumerate(marks):
            sr.wait_until(scene, beats[i])
            anims = [GrowFromEdge(bar, DOWN)] + ([FadeIn(values[i], shift=UP * 0.1)] if values else [])
            sr.play(scene, *anims, run_time=per)
    if p.highlight:
        sr.wait_until(scene, sr.lead + sr.narration_s * 0.7)
        sr.play(scene, *[marks[i].animate.set_color(sr.color("accent")) for i in p.highlight],
                *[values[i].animate.set_color(sr.color("accent")) for i in p.highlight if values], run_time=0.6)
