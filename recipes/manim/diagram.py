"""Labelled diagram: boxes joined by labelled arrows, revealed node by node across the narration
(an arrow appears as soon as both of its ends are on screen).

Layouts: `row` (left to right), `column` (top to bottom), `circle`, or `manual` with `at: [x, y]`
per node in -1..1 of the half frame (x right, y up).
"""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="name used by edges")
    label: str = Field(min_length=1, max_length=60)
    at: tuple[float, float] | None = Field(None, description="manual layout: [x, y] in -1..1")


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    to: str
    label: str = Field("", max_length=40)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=120)
    nodes: list[Node] = Field(min_length=1, max_length=10)
    edges: list[Edge] = Field(default_factory=list)
    layout: Literal["row", "column", "circle", "manual"] = "row"

    @model_validator(mode="after")
    def _references(self) -> "Params":
        ids = [n.id for n in self.nodes]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"node ids must be unique: {sorted(dup)[0]!r} appears twice")
        for k, e in enumerate(self.edges):
            for end in (e.source, e.to):
                if end not in ids:
                    raise ValueError(f"edges[{k}] refers to unknown node {end!r} (nodes: {', '.join(ids)})")
        if self.layout == "manual":
            missing = [n.id for n in self.nodes if n.at is None]
            if missing:
                raise ValueError(f"layout manual needs `at: [x, y]` on every node (missing on {missing[0]!r})")
        return self


def construct(scene, p: Params, sr) -> None:
    import math

    import numpy as np
    from manim import UP, Arrow, FadeIn, GrowArrow, RoundedRectangle, VGroup

    heading = sr.title(p.title)
    n = len(p.nodes)
    top = (heading.get_bottom()[1] - 0.4) if heading is not None else sr.frame_height / 2 - 0.4
    bottom = -sr.frame_height / 2 + 0.4
    cy, half_h, half_w = (top + bottom) / 2, (top - bottom) / 2, sr.frame_width / 2 - 0.5
    layout = p.layout
    if layout == "row" and sr.portrait:
        layout = "column"
    box_w = min(3.4, (2 * half_w / n) * 0.55) if layout == "row" else min(3.4, sr.frame_width * 0.36)
    box_h = min(1.3, (2 * half_h / n) * 0.7) if layout == "column" else 1.3
    # centres stay far enough inside the frame that whole boxes fit
    span_x, span_y = max(0.0, half_w - box_w / 2), max(0.0, half_h - box_h / 2)
    if layout == "row":
        pos = [(-half_w + 2 * half_w * (i + 0.5) / n, cy) for i in range(n)]
    elif layout == "column":
        pos = [(0.0, top - 2 * half_h * (i + 0.5) / n) for i in range(n)]
    elif layout == "circle":
        pos = [(span_x * 0.85 * math.cos(math.pi / 2 - 2 * math.pi * i / n),
                cy + span_y * 0.85 * math.sin(math.pi / 2 - 2 * math.pi * i / n)) for i in range(n)]
    else:
        pos = [(nd.at[0] * span_x, cy + nd.at[1] * span_y) for nd in p.nodes]

    boxes = {}
    for nd, (x, y) in zip(p.nodes, pos):
        label = sr.text(nd.label, size=28, wrap=max(8, int(box_w * 5)), max_width=box_w * 0.86)
        if label.height > box_h * 0.8:
            label.scale_to_fit_height(box_h * 0.8)
        rect = RoundedRectangle(width=box_w, height=box_h, corner_radius=0.18, stroke_color=sr.color("accent"),
                                stroke_width=4, fill_color=sr.color("surface"), fill_opacity=1)
        boxes[nd.id] = VGroup(rect, label.move_to(rect)).move_to([x, y, 0])

    def border(center, direction):
        dx, dy = abs(direction[0]) or 1e-9, abs(direction[1]) or 1e-9
        return center + direction * min(box_w / 2 / dx, box_h / 2 / dy)

    arrows = []
    for e in p.edges:
        a, b = boxes[e.source].get_center(), boxes[e.to].get_center()
        d = (b - a) / (np.linalg.norm(b - a) or 1)
        arrow = Arrow(border(a, d) + d * 0.08, border(b, -d) - d * 0.08, buff=0, color=sr.color("text"),
                      stroke_width=5, max_tip_length_to_length_ratio=0.3)
        tag = None
        if e.label:
            normal = np.array([-d[1], d[0], 0])
            if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
                normal = -normal  # labels sit above (or right of) their arrow
            tag = sr.text(e.label, size=22, color="muted", max_width=max(1.0, arrow.get_length() * 0.95))
            tag.move_to(arrow.get_center() + normal * (0.2 + (tag.height if abs(d[0]) > abs(d[1]) else tag.width) / 2))
        arrows.append((e, arrow, tag))

    if heading is not None:
        sr.play(scene, FadeIn(heading), run_time=min(0.8, sr.lead + 0.5))
    beats = sr.beats(n)
    shown: set[str] = set()
    for i, nd in enumerate(p.nodes):
        sr.wait_until(scene, beats[i])
        shown.add(nd.id)
        anims = [FadeIn(boxes[nd.id], scale=0.9)]
        for e, arrow, tag in arrows:
            if nd.id in (e.source, e.to) and {e.source, e.to} <= shown:
                anims.append(GrowArrow(arrow))
                if tag is not None:
                    anims.append(FadeIn(tag, shift=UP * 0.1))
        sr.play(scene, *anims, run_time=sr.slot(scene, beats, i, longest=0.9))
