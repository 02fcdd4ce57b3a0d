"""Title card: a big title written on, an accent bar, an optional kicker above and subtitle below.

The title is written during the first sentence; the subtitle arrives with the second sentence
(or a third of the way through), then the card holds to the end of the scene.
"""
from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=120, description="the big line")
    subtitle: str = Field("", max_length=200, description="smaller line under the accent bar")
    kicker: str = Field("", max_length=60, description="small label above the title, e.g. 'Chapter 2'")


def construct(scene, p: Params, sr) -> None:
    from manim import DOWN, LEFT, ORIGIN, RIGHT, FadeIn, GrowFromEdge, Line, VGroup, Write

    title = sr.text(p.title, size=80 if not sr.portrait else 64, heading=True, wrap=18 if sr.portrait else 28)
    kicker = sr.text(p.kicker.upper(), size=28, color="muted") if p.kicker else None
    bar = Line(ORIGIN, RIGHT * min(title.width, 3.5), color=sr.color("accent"), stroke_width=12)
    subtitle = sr.text(p.subtitle, size=38, color="muted", wrap=30 if sr.portrait else 48) if p.subtitle else None
    group = VGroup(*[m for m in (kicker, title, bar, subtitle) if m is not None])
    group.arrange(DOWN, buff=0.4, aligned_edge=LEFT).move_to(ORIGIN)
    if group.height > sr.frame_height * 0.85:
        group.scale_to_fit_height(sr.frame_height * 0.85)

    beats = sr.beats(2, spread=0.34)
    if kicker is not None:
        sr.play(scene, FadeIn(kicker, shift=DOWN * 0.2), run_time=0.4)
    sr.play(scene, Write(title), run_time=min(1.6, sr.duration * 0.3))
    sr.play(scene, GrowFromEdge(bar, LEFT), run_time=0.5)
    if subtitle is not None:
        sr.wait_until(scene, beats[1])
        sr.play(scene, FadeIn(subtitle, shift=LEFT * 0.3), run_time=0.8)
