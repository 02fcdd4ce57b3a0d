"""Bullet reveal: a title, then one bullet per narration sentence.

Bullet i appears when sentence i starts (when there are at least as many sentences as bullets;
otherwise the bullets are spread over the narration). The newest bullet is drawn in the accent
colour; earlier ones settle to the text colour.
"""
from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=120)
    bullets: list[str] = Field(min_length=1, max_length=8, description="one short line each")
    numbered: bool = Field(False, description="1. 2. 3. instead of dots")
    highlight: bool = Field(True, description="draw the newest bullet in the accent colour")


def construct(scene, p: Params, sr) -> None:
    from manim import DOWN, LEFT, RIGHT, UP, Dot, FadeIn, VGroup, Write

    heading = sr.title(p.title)
    wrap = 24 if sr.portrait else 40
    size = 44 if not sr.portrait else 36
    rows = []
    for i, line in enumerate(p.bullets):
        text = sr.text(line, size=size, wrap=wrap, color="accent" if p.highlight else "text")
        mark = (sr.text(f"{i + 1}.", size=size, heading=True, color="accent") if p.numbered
                else Dot(radius=0.1, color=sr.color("accent")))
        row = VGroup(mark, text).arrange(RIGHT, buff=0.35, aligned_edge=UP)
        mark.shift(DOWN * 0.14 if not p.numbered else 0)
        rows.append(row)
    body = VGroup(*rows).arrange(DOWN, buff=0.6, aligned_edge=LEFT)
    top = (heading.get_bottom()[1] - 0.6) if heading is not None else sr.frame_height / 2 - 0.8
    room = top - (-sr.frame_height / 2 + 0.6)
    if body.height > room:
        body.scale_to_fit_height(room)
    margin = 0.9 if not sr.portrait else 0.6
    if body.width > sr.frame_width - 2 * margin:
        body.scale_to_fit_width(sr.frame_width - 2 * margin)
    body.to_edge(LEFT, buff=margin)
    body.move_to([body.get_center()[0], top - body.height / 2, 0])

    if heading is not None:
        sr.play(scene, Write(heading), run_time=min(1.0, sr.lead + 0.6))
    beats = sr.beats(len(rows))
    for i, row in enumerate(rows):
        sr.wait_until(scene, beats[i])
        anims = [FadeIn(row, shift=RIGHT * 0.3)]
        if p.highlight and i > 0:
            anims.append(rows[i - 1][1].animate.set_color(sr.color("text")))
        sr.play(scene, *anims, run_time=sr.slot(scene, beats, i, longest=0.8))
