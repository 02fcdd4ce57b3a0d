"""Equation derivation: LaTeX steps written one after another (MathTex), with an optional note
under each step; the final result is boxed in the accent colour.

`mode: transform` morphs each step into the next in place; `mode: stack` writes the steps under
each other and dims the earlier ones. Steps are spread over the narration like bullets.
"""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=120)
    steps: list[str] = Field(min_length=1, max_length=6, description="LaTeX math, one step of the derivation each")
    notes: list[str] = Field(default_factory=list, description="a short caption per step (as many as steps, or none)")
    mode: Literal["transform", "stack"] = "transform"
    box_result: bool = Field(True, description="frame the last step in the accent colour")

    @field_validator("steps")
    @classmethod
    def _balanced(cls, steps: list[str]) -> list[str]:
        for i, s in enumerate(steps):
            depth = 0
            for ch in s.replace(r"\{", "").replace(r"\}", ""):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                if depth < 0:
                    break
            if depth != 0:
                raise ValueError(f"steps[{i}] has unbalanced braces: {s!r}")
            if not s.strip():
                raise ValueError(f"steps[{i}] is empty")
        return steps

    @model_validator(mode="after")
    def _notes_match(self) -> "Params":
        if self.notes and len(self.notes) != len(self.steps):
            raise ValueError(f"give one note per step ({len(self.steps)}) or none, not {len(self.notes)}")
        return self


def construct(scene, p: Params, sr) -> None:
    from manim import DOWN, UP, Create, FadeIn, FadeOut, SurroundingRectangle, TransformMatchingShapes, VGroup, Write

    heading = sr.title(p.title)
    size = 64 if not sr.portrait else 50
    maths = [sr.tex(s, param=f"params.steps[{i}]", size=size) for i, s in enumerate(p.steps)]
    limit = sr.frame_width * 0.84
    for m in maths:
        if m.width > limit:
            m.scale_to_fit_width(limit)
    notes = [sr.text(n, size=30, color="muted", wrap=28 if sr.portrait else 50) for n in p.notes]
    if p.mode == "stack":
        stack = VGroup(*maths).arrange(DOWN, buff=0.45)
        room = sr.frame_height - (2.4 if heading is not None else 1.2) - (1.0 if notes else 0)
        if stack.height > room:
            stack.scale_to_fit_height(room)
        stack.move_to(DOWN * 0.2)
    else:
        for m in maths:
            m.move_to(UP * 0.2)
    for n in notes:
        n.move_to([0, -sr.frame_height / 2 + 1.1, 0])

    if heading is not None:
        sr.play(scene, Write(heading), run_time=min(1.0, sr.lead + 0.6))
    beats = sr.beats(len(maths))
    shown = None
    for i, m in enumerate(maths):
        sr.wait_until(scene, beats[i])
        rt = sr.slot(scene, beats, i, longest=1.4)
        anims = []
        if shown is None or p.mode == "stack":
            anims.append(Write(m))
            if p.mode == "stack" and shown is not None:
                anims.append(shown.animate.set_color(sr.color("muted")))
        else:
            anims.append(TransformMatchingShapes(shown, m))
        if notes:
            anims.append(FadeIn(notes[i], shift=UP * 0.2))
            if i > 0:
                anims.append(FadeOut(notes[i - 1]))
        sr.play(scene, *anims, run_time=rt)
        shown = m
    if p.box_result and shown is not None:
        box = SurroundingRectangle(shown, color=sr.color("accent"), buff=0.25, corner_radius=0.12, stroke_width=6)
        sr.play(scene, Create(box), run_time=min(0.8, max(0.1, sr.remaining(scene) * 0.3)))
