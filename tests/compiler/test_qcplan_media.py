"""media_checks (compiler/qcplan.py): the audio, picture and caption QC steps of a build, compiled and run on the
tiny project (espeak, 320x180 at 10 fps): a clean build has no findings, a planted silence is found at its place
in the final video, an unchanged build re-runs no QC step and an edit re-checks only the scene it touches."""
from __future__ import annotations

import json
import subprocess
import wave

import numpy as np
import pytest

from core.qc import QCFindings
from support import build_all, session, write


@pytest.fixture(autouse=True)
def with_media_checks(monkeypatch):
    """Compile media_checks into every final video plan (as compile_qc does once wired), idempotently."""
    import compiler.plan as plan_mod
    from compiler import qcplan

    original = plan_mod.Compiler.compile

    def compile(self):
        vp = original(self)
        before = set(self.plan.steps)
        for fo in vp.formats:
            qcplan.media_checks(self, f"{vp.id}/{fo.format}", fo.format, self.project.formats[fo.format],
                                self.lv.script)
        vp.steps += [s for s in self.plan.steps if s not in before and s not in vp.steps]
        return vp

    monkeypatch.setattr(plan_mod.Compiler, "compile", compile)


def output(ws, sid: str, name: str) -> dict:
    engine = ws.engine_for(ws.plan())
    key, _ = engine.key(sid)
    manifest = engine.store.get_manifest(key)
    assert manifest is not None, f"{sid} did not run"
    return json.loads(engine.store.blob_path(manifest["outputs"][name]["digest"]).read_text())


MEDIA_KINDS = ("qc.scene", "qc.master", "qc.captions")


def media_qc(ws, video: str = "") -> list[str]:
    """The media QC step ids (of one video), leaving out the other areas' QC steps."""
    return [s for s, st in ws.plan().steps.items() if st.kind in MEDIA_KINDS and s.startswith(video)]


def findings(ws, sid: str) -> QCFindings:
    return QCFindings.model_validate(output(ws, sid, "findings.json"))


def test_steps_per_scene_final_profile_only(mini):
    ws = session(mini)
    plan = ws.plan()
    qc = {s: st for s, st in plan.steps.items() if st.kind.startswith("qc.")}
    prefix = "test/alpha/tiny/qc"
    assert {f"{prefix}/scene/00", f"{prefix}/scene/01", f"{prefix}/scene/02", f"{prefix}/master",
            f"{prefix}/captions"} <= set(qc)
    # slides and stills are intended stills; the clip is meant to move
    assert [qc[f"{prefix}/scene/{i:02d}"].params["expect_motion"] for i in range(3)] == [False, False, True]
    scene = qc[f"{prefix}/scene/01"]
    assert scene.params["target_wpm"] == pytest.approx(165.0 * 1.3)  # the robot voice's pace at its rate
    assert set(scene.deps()) == {"test/alpha/tiny/segment/01", "test/alpha/narration/01"}  # that scene's only
    master = qc[f"{prefix}/master"]
    assert master.params["loudness_lufs"] == -14.0 and master.params["max_duration_s"] == 600
    assert master.params["music"] is False and "narrations" not in master.inputs
    assert qc[f"{prefix}/captions"].params["max_line_chars"] == 42
    assert not [s for s in ws.plan("preview").steps if "/qc/" in s]


def test_clean_build_has_no_findings_and_rebuild_runs_no_qc(mini):
    ws, failed, ran = build_all(mini)
    assert not failed
    qc_steps = media_qc(ws)
    assert len(qc_steps) == (3 + 2) + (2 + 2) and set(qc_steps) <= set(ran)  # scenes + master + captions
    for sid in qc_steps:
        bad = [f for f in findings(ws, sid).findings if f.severity != "info"]
        assert bad == [], f"false alarm in {sid}: {bad}"
    scores = findings(ws, "test/alpha/tiny/qc/master").scores
    assert scores["audio.integrated_lufs"] == pytest.approx(-14.0, abs=1.0)
    assert scores["picture.fps"] == 10.0
    _, failed, ran = build_all(mini)
    assert not failed and ran == []


def test_planted_silence_found_in_final_time_and_edits_recheck_one_scene(mini):
    # a recorded narration with 6 s of dead air in the middle, as the second scene of a three-scene video
    rate = 48000
    t = np.arange(rate) / rate
    speech = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    samples = np.concatenate([speech, np.zeros(6 * rate), speech])
    media = mini / "videos" / "test" / "media"
    with wave.open(str(media / "gap.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    spec = """\
        title: Gamma Video
        format: tiny
        scenes:
          - narration: Gamma opens with a slide.
            visual: {kind: slide, title: Gamma}
          - narration: Then someone stops talking. And goes on.
            audio: media/gap.wav
            visual: {kind: slide, title: Pause}
          - narration: And it ends with Pneumonoultramicroscopicsilicovolcanoconiosis.
            visual: {kind: clip, file: media/dark.mp4}
        """
    # ... and a clip that goes black 0.3 s in, as the third
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=10:d=0.3", "-f",
                    "lavfi", "-i", "color=black:s=320x180:r=10:d=5", "-filter_complex", "[0:v][1:v]concat=n=2",
                    "-pix_fmt", "yuv420p", str(media / "dark.mp4")], check=True)
    write(mini / "videos" / "test" / "gamma.yaml", spec)
    ws, failed, _ = build_all(mini)
    assert not failed
    timeline = output(ws, "test/gamma/tiny/timeline", "timeline.json")
    master = findings(ws, "test/gamma/tiny/qc/master")
    silence = [f for f in master.findings if f.check == "audio.silence"]
    assert len(silence) == 1, master.findings
    f = silence[0]
    assert f.scene == 1 and f.severity == "error" and f.reason == "audio.pacing"
    # scene 1 starts at the timeline's start_s; then the 0.2 s lead-in and 1 s of speech
    assert f.at_s == pytest.approx(timeline["scenes"][1]["start_s"] + 0.2 + 1.0, abs=0.05)
    assert f.value == pytest.approx(6.0, abs=0.1)
    black = [x for x in master.findings if x.check == "picture.black"]
    assert len(black) == 1 and black[0].scene == 2 and black[0].reason == "visual.glitch"
    assert black[0].at_s == pytest.approx(timeline["scenes"][2]["start_s"] + 0.3, abs=0.11)
    assert black[0].value == pytest.approx(timeline["scenes"][2]["end_s"] - black[0].at_s, abs=0.11)
    assert {x.check for x in master.findings} == {"audio.silence", "picture.black"}
    # the 45-letter word (46 characters with its full stop) cannot be wrapped into 42 characters
    (long,) = findings(ws, "test/gamma/tiny/qc/captions").findings
    assert long.check == "captions.line_length" and long.scene == 2 and long.value == 46
    assert timeline["scenes"][2]["start_s"] <= long.at_s < timeline["scenes"][2]["end_s"]

    # an edit of scene 0's narration re-checks scene 0 (and the whole-video checks), not scenes 1 and 2
    write(mini / "videos" / "test" / "gamma.yaml", spec.replace("Gamma opens with a slide.", "Gamma opens anew."))
    ws, failed, ran = build_all(mini)
    assert not failed
    qc_ran = sorted(set(ran) & set(media_qc(ws, "test/gamma/")))
    assert qc_ran == ["test/gamma/tiny/qc/captions", "test/gamma/tiny/qc/master", "test/gamma/tiny/qc/scene/00"]
