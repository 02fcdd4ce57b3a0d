"""Timeline: a line with dated events; a marker travels from event to event as the narration
goes, each event's date and label appearing as the marker arrives. Horizontal in landscape,
vertical in portrait.
"""
from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: str = Field(min_length=1, max_length=24, description="the date or time, e.g. '1609' or 'Day 3'")
    label: str = Field(min_length=1, max_length=80, description="what happened")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=120)
    events: list[Event] = Field(min_length=2, max_length=8)


def construct(scene, p: Params, sr) -> None:
    from manim import DOWN, LEFT, RIGHT, UP, Create, Dot, FadeIn, Line, VGroup

    heading = sr.title(p.title)
    n = len(p.events)
    top = (heading.get_bottom()[1] - 0.8) if heading is not None else sr.frame_height / 2 - 0.8
    if sr.portrait:
        x = -sr.frame_width / 2 + 1.2
        start, end = [x, top, 0], [x, -sr.frame_height / 2 + 0.8, 0]
        pts = [[x, top - (top - end[1]) * (i + 0.5) / n, 0] for i in range(n)]
    else:
        y = (top + (-sr.frame_height / 2 + 0.6)) / 2
        start, end = [-sr.frame_width / 2 + 0.8, y, 0], [sr.frame_width / 2 - 0.8, y, 0]
        pts = [[start[0] + (end[0] - start[0]) * (i + 0.5) / n, y, 0] for i in range(n)]
    axis = Line(start, end, color=sr.color("muted"), stroke_width=4)
    ticks = VGroup(*[Dot(pt, radius=0.09, color=sr.color("muted")) for pt in pts])
    items = []
    width = (sr.frame_width - 1.6) / n
    for i, (ev, pt) in enumerate(zip(p.events, pts)):
        when = sr.text(ev.when, size=34, heading=True, color="accent")
        label = sr.text(ev.label, size=24, wrap=24 if sr.portrait else max(8, int(width * 5.5)))
        if sr.portrait:
            grp = VGroup(when, label).arrange(DOWN, buff=0.12, aligned_edge=LEFT).next_to(pt, RIGHT, buff=0.4)
        else:
            if label.width > width * 0.95:
                label.scale_to_fit_width(width * 0.95)
            when.next_to(pt, UP if i % 2 == 0 else DOWN, buff=0.35)
            label.next_to(when, UP if i % 2 == 0 else DOWN, buff=0.15)
            grp = VGroup(when, label)
        items.append(grp)
    marker = Dot(pts[0], radius=0.16, color=sr.color("accent"))

    intro = [Create(axis), FadeIn(ticks)] + ([FadeIn(heading)] if heading is not None else [])
    sr.play(scene, *intro, run_time=min(1.0, sr.duration * 0.15))
    beats = sr.beats(n)
    for i, grp in enumerate(items):
        sr.wait_until(scene, beats[i])
        rt = sr.slot(scene, beats, i, longest=0.9)
        if i == 0:
            sr.play(scene, FadeIn(marker, scale=0.5), FadeIn(grp, shift=RIGHT * 0.2), run_time=rt)
        else:
            sr.play(scene, marker.animate.move_to(pts[i]), ticks[i - 1].animate.set_color(sr.color("accent")),
                    FadeIn(grp, shift=RIGHT * 0.2), run_time=rt)
