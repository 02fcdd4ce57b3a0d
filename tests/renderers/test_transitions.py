"""Crossfades: spliced in by stream copy, the timeline keeps its length, the boundary frame is a
blend, and editing one scene re-runs only its own segment and the crossfades that touch it."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from support import build_all, session, write
from renderers.base import ffprobe

RED, BLUE, GREEN = (220, 30, 30), (30, 30, 220), (30, 200, 30)

VIDEO = """\
title: Fades
format: tiny
transition_s: 0.6
scenes:
  - narration: The red scene comes first.
    visual: {kind: image, file: media/red.png, motion: none}
  - narration: Then blue fades in.
    transition: crossfade
    visual: {kind: image, file: media/blue.png, motion: none}
  - narration: And green fades in last.
    transition: crossfade
    visual: {kind: image, file: media/green.png, motion: none}
  - narration: A hard cut ends it.
    visual: {kind: image, file: media/red.png, motion: none}
"""


@pytest.fixture
def fades(mini):
    media = mini / "videos/test/media"
    for name, rgb in (("red", RED), ("blue", BLUE), ("green", GREEN)):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x%02x%02x%02x:s=320x180" % rgb,
                        "-frames:v", "1", str(media / f"{name}.png")], check=True)
    write(mini / "videos/test/fades.yaml", VIDEO)
    for v in ("alpha", "beta"):
        (mini / f"videos/test/{v}.yaml").unlink()
    return mini


def frames_rgb(path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 180, 320, 3)


def mean(frame) -> np.ndarray:
    return frame.reshape(-1, 3).mean(axis=0)


def test_plan_has_a_step_per_crossfade_and_splits_only_the_touched_edges(fades):
    plan = session(fades).plan()
    steps = plan.steps
    assert sorted(s for s in steps if "/transition/" in s) == ["test/fades/tiny/transition/01", "test/fades/tiny/transition/02"]
    t1 = steps["test/fades/tiny/transition/01"]
    assert t1.deps() == ["test/fades/tiny/segment/00", "test/fades/tiny/segment/01"]
    assert (t1.params["tail"], t1.params["head"]) == (3, 3)  # 0.6 s at 10 fps, centred on the boundary
    splits = [(steps[f"test/fades/tiny/segment/{i:02d}"].params["split_head"],
               steps[f"test/fades/tiny/segment/{i:02d}"].params["split_tail"]) for i in range(4)]
    assert splits == [(0, 3), (3, 3), (3, 0), (0, 0)]
    assemble = steps["test/fades/tiny/assemble"]
    assert assemble.params["crossfades"] == [{"at": 1, "tail": 3, "head": 3}, {"at": 2, "tail": 3, "head": 3}]
    assert [r.step for r in assemble.inputs["transitions"]] == ["test/fades/tiny/transition/01", "test/fades/tiny/transition/02"]
    # the crossfaded segments reach the assembly already cut (a cached segment.cut step each); the last one whole
    assert assemble.params["bodies"] is True
    assert [r.step for r in assemble.inputs["videos"]] == ["test/fades/tiny/cut/00", "test/fades/tiny/cut/01",
                                                          "test/fades/tiny/cut/02", "test/fades/tiny/segment/03"]
    assert [(steps[f"test/fades/tiny/cut/{i:02d}"].params["head"], steps[f"test/fades/tiny/cut/{i:02d}"].params["tail"])
            for i in range(3)] == [(0, 3), (3, 3), (3, 0)]
    assert steps["test/fades/tiny/cut/01"].deps() == ["test/fades/tiny/segment/01"]


def test_transition_layers_brand_recipe_video_scene(fades):
    """The recipe sets crossfade for every boundary; a scene's own `cut` wins over it."""
    write(fades / "recipes/explainer.yaml", "formats: [tiny]\ndefaults: {transition: crossfade}\n")
    text = VIDEO.replace("    transition: crossfade\n", "").replace("  - narration: A hard cut ends it.\n",
                                                               "  - narration: A hard cut ends it.\n    transition: cut\n")
    write(fades / "videos/test/fades.yaml", text)
    steps = session(fades).plan().steps
    assert sorted(s for s in steps if "/transition/" in s) == ["test/fades/tiny/transition/01", "test/fades/tiny/transition/02"]


def test_crossfades_keep_the_timeline_and_blend_at_the_boundary(fades):
    s, failed, executed = build_all(fades)
    assert failed == {}
    out = fades / "build/test/fades"
    timeline = json.loads((out / "manifest.json").read_text())
    info = ffprobe(out / "video.mp4")
    video = next(st for st in info["streams"] if st["codec_type"] == "video")
    audio = next(st for st in info["streams"] if st["codec_type"] == "audio")
    frames = frames_rgb(out / "video.mp4")
    total = round(timeline["duration_s"] * 10)
    assert len(frames) == total and int(video["nb_frames"]) == total
    assert abs(float(video["duration"]) - timeline["duration_s"]) < 0.02
    assert abs(float(audio["duration"]) - timeline["duration_s"]) < 0.03
    captions = (out / "captions.srt").read_text()
    assert "Then blue fades in." in captions

    for k, (a, b) in ((1, (RED, BLUE)), (2, (BLUE, GREEN))):
        start = round(timeline["scenes"][k]["start_s"] * 10)
        # outside the crossfade: pure colours; at the boundary: half and half
        assert np.abs(mean(frames[start - 4]) - a).max() < 12
        assert np.abs(mean(frames[start + 3]) - b).max() < 12
        mid = mean(frames[start])
        expect = (np.array(a) + np.array(b)) / 2
        assert np.abs(mid - expect).max() < 40, (k, mid, expect)
        assert np.abs(mid - a).max() > 50 and np.abs(mid - b).max() > 50
        # it moves from A to B over the crossfade
        reds = [np.abs(mean(frames[start + d]) - a).sum() for d in range(-3, 3)]
        assert reds == sorted(reds)
    # the last boundary is a cut: green, then red on the very next frame
    start = round(timeline["scenes"][3]["start_s"] * 10)
    assert np.abs(mean(frames[start - 1]) - GREEN).max() < 12 and np.abs(mean(frames[start]) - RED).max() < 12


def test_editing_one_scene_reruns_its_segment_and_adjacent_crossfades_only(fades):
    _, failed, _ = build_all(fades)
    assert failed == {}
    spec = fades / "videos/test/fades.yaml"
    spec.write_text(spec.read_text().replace("Then blue fades in.", "Then the blue scene fades in slowly."))
    s, failed, executed = build_all(fades)
    assert failed == {}
    media = {e for e in executed if "/segment/" in e or "/transition/" in e or "/cut/" in e or e.endswith("/assemble")}
    assert media == {"test/fades/tiny/segment/01", "test/fades/tiny/transition/01", "test/fades/tiny/transition/02",
                     "test/fades/tiny/cut/01", "test/fades/tiny/assemble"}
    assert "test/fades/narration/01" in executed and "test/fades/narration/00" not in executed
    video = fades / "build/test/fades/video.mp4"
    timeline = json.loads((fades / "build/test/fades/manifest.json").read_text())
    assert int(next(st for st in ffprobe(video)["streams"] if st["codec_type"] == "video")["nb_frames"]) == \
        round(timeline["duration_s"] * 10)


def test_a_crossfade_longer_than_a_scene_fails_clearly(fades):
    write(fades / "videos/test/fades.yaml", VIDEO.replace("transition_s: 0.6", "transition_s: 3.0"))
    _, failed, _ = build_all(fades)
    messages = [m for m in failed.values() if not m.startswith("skipped")]
    assert messages and all("longer than the scene" in m for m in messages), messages


def test_cut_steps_give_the_bytes_of_the_assembly_cutting_the_segments_itself(fades, tmp_path):
    """The assembly joins segment.cut outputs (`bodies`); given the whole segments instead, it cuts them itself
    as before: the final video's bytes are the same either way."""
    from helpers import run_renderer
    from renderers.assemble_ffmpeg import FfmpegAssemble

    s, failed, _ = build_all(fades)
    assert failed == {}
    plan, engine = s.plan(), s.engine

    def blob(sid, name):
        m = engine.manifest(engine.key(sid)[0])
        return engine.store.blob_path(m["outputs"][name]["digest"]), m.get("facts", {})

    step = plan.steps["test/fades/tiny/assemble"]
    segments = [blob(f"test/fades/tiny/segment/{i:02d}", "video.mp4") for i in range(4)]
    transitions = [blob(r.step, "video.mp4")[0] for r in step.inputs["transitions"]]
    audio, audio_facts = blob(step.inputs["audio"].step, "audio.m4a")
    params = {**step.params, "bodies": False}
    out, _ = run_renderer(FfmpegAssemble, tmp_path, params,
                          {"videos": [p for p, _ in segments], "audio": audio, "transitions": transitions},
                          input_facts={"videos": [f for _, f in segments], "audio": audio_facts})
    assert (out / "video.mp4").read_bytes() == (fades / "build/test/fades/video.mp4").read_bytes()
