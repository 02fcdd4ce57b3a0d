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


def test_an_edit_rebuilds_its_part_of_the_soundtrack_only(mini, monkeypatch):
    """Through the engine: a video whose soundtrack is in two parts (a chapter mark, music), one scene's narration
    edited to a longer one. Its part is mixed and encoded again, the join and the assembly run; the other part's
    steps are cached (content digests: the gain did not move, that part's samples did not change) even though the
    edit moved everything after it in time."""
    import json
    import subprocess

    import compiler.plan
    from support import executed, session, write

    monkeypatch.setattr(compiler.plan, "PART_MIN_S", 3.0)
    for name in ("alpha", "beta"):
        (mini / f"videos/test/{name}.yaml").unlink()
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=330:d=3", "-c:a", "libvorbis",
                    str(mini / "videos/test/media/music.ogg")], check=True)
    spec = """\
        title: Gamma Video
        format: tiny
        music: {file: media/music.ogg, volume_db: -18, duck_db: 10}
        scenes:
          - chapter: Start
            narration: The first chapter opens with a slide.
            visual: {kind: slide, title: One}
          - narration: It goes on for a second scene.
            visual: {kind: slide, title: Two}
          - chapter: Next
            narration: A new chapter starts here, with music from the top.
            visual: {kind: slide, title: Three}
          - narration: And the video ends.
            visual: {kind: slide, title: Four}
        """
    write(mini / "videos/test/gamma.yaml", spec)
    s = session(mini)
    assert s.build().ok
    audio = "test/gamma/tiny/audio"
    assert s.plan().steps[audio].kind == "audio.join"
    facts = json.loads((mini / "build/test/gamma/manifest.json").read_text())["steps"][audio]["facts"]
    assert facts["parts"] == 2 and facts["scenes"] == 4 and facts["av_offset_ms"] <= 10.67

    def edited(narration: str) -> tuple[set[str], dict]:  # the steps a rebuild ran, the soundtrack's facts
        write(mini / "videos/test/gamma.yaml", spec.replace("It goes on for a second scene.", narration))
        s = session(mini)
        assert s.build().ok
        return set(executed(s)), json.loads((mini / "build/test/gamma/manifest.json").read_text())["steps"][audio]["facts"]

    # an edit that keeps the whole's loudness on its 0.2 dB step: the other part is not touched at all
    ran, facts2 = edited("It goes on for a second, longer scene.")
    assert {f"{audio}/part/00", f"{audio}/encode/00", audio, "test/gamma/tiny/assemble"} <= ran
    assert not {f"{audio}/part/01", f"{audio}/encode/01"} & ran
    assert facts2["duration_s"] > facts["duration_s"] and facts2["gain_db"] == facts["gain_db"]
    # an edit that moves it a step (a quarter of this short video made louder): every part is levelled and coded
    # again at the new gain, from the mixes (the other part's is cached)
    ran, facts3 = edited("It goes on, a good deal longer, for a second scene.")
    assert facts3["gain_db"] != facts["gain_db"]
    assert {f"{audio}/encode/00", f"{audio}/encode/01"} <= ran and f"{audio}/part/01" not in ran
