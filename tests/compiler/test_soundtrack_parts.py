"""Where the final soundtrack is split into parts (compiler/plan.py `soundtrack_parts`, renderers/audio_parts.py):
between scenes with silence, at chapter marks when the brand has music, into parts of at least PART_MIN_S; one
part (audio.final's single step) for a short video, a scene without a pad, or continuous music."""
from __future__ import annotations

from compiler.plan import PART_MIN_S, soundtrack_parts
from core.spec import Scene
from core.timeline import LEAD_S


def scenes(words: list[int], chapters: tuple[int, ...] = ()) -> list[Scene]:
    return [Scene(narration=" ".join(["word"] * w), chapter=f"Chapter {i}" if i in chapters else None)
            for i, w in enumerate(words)]


def test_split_between_scenes_once_a_part_is_long_enough():
    # 90 words: 36 s + a 0.6 s pad + the lead, guessed; a part closes after two scenes (> 60 s)
    assert soundtrack_parts(scenes([90] * 7), [0.6] * 7, LEAD_S, chapters_only=False) == [(0, 2), (2, 4), (4, 6), (6, 7)]
    # a last part under half the minimum (5 words: 2.8 s) joins the part before
    assert soundtrack_parts(scenes([90] * 4 + [5]), [0.6] * 5, LEAD_S, chapters_only=False) == [(0, 2), (2, 5)]


def test_music_splits_only_at_chapter_marks_and_continuous_music_not_at_all():
    sc = scenes([90] * 8, chapters=(1, 5, 6))
    # not at 1 (the part would be 36.8 s) nor at 6 (the part from 5 would be)
    assert soundtrack_parts(sc, [0.6] * 8, LEAD_S, chapters_only=True) == [(0, 5), (5, 8)]
    assert soundtrack_parts(sc, [0.6] * 8, LEAD_S, chapters_only=True, split=False) == [(0, 8)]


def test_no_split_after_a_scene_without_silence_or_in_a_short_video():
    pads = [0.6] * 6
    pads[1] = 0.0  # no silence after scene 1's narration: no join there
    assert soundtrack_parts(scenes([90] * 6), pads, LEAD_S, chapters_only=False) == [(0, 3), (3, 5), (5, 6)]
    short = scenes([10] * 10)  # 10 x 4.8 s
    assert sum(len(s.narration.split()) / 2.5 + 0.8 for s in short) < PART_MIN_S
    assert soundtrack_parts(short, [0.6] * 10, LEAD_S, chapters_only=False) == [(0, 10)]
    assert soundtrack_parts(scenes([90] * 6), [0.6] * 6, 0.05, chapters_only=False) == [(0, 6)]  # no silent lead
