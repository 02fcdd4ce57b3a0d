"""The plan is pure, printable JSON; snapshot it (UPDATE_SNAPSHOTS=1 rewrites the snapshot)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from support import session, write

SNAP = Path(__file__).parent / "snapshots" / "mini_plan.json"


def test_plan_snapshot(mini):
    plan = json.loads(session(mini).plan().model_dump_json())
    text = json.dumps(plan, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") or not SNAP.exists():
        SNAP.write_text(text)
        assert os.environ.get("UPDATE_SNAPSHOTS"), "snapshot was missing and has been written; re-run the tests"
    assert text == SNAP.read_text(), "plan changed: review the diff and re-run with UPDATE_SNAPSHOTS=1 if intended"


def test_plan_shape(mini):
    s = session(mini)
    vp = s.plan().videos["test/alpha"]
    assert [f.format for f in vp.formats] == ["tiny"] and vp.formats[0].dir == "build/test/alpha"
    seg = s.plan().steps["test/alpha/tiny/segment/00"]
    assert seg.deps() == ["test/alpha/narration/00", "test/alpha/tiny/slide/00"]
    assert sorted(s.plan().steps["test/alpha/tiny/assemble"].deps()) == sorted(
        [f"test/alpha/tiny/segment/{i:02d}" for i in range(3)] + ["test/alpha/tiny/audio"])
    # the soundtrack is made from the narration, beside the segments (audio_final.py), not after them
    assert sorted(s.plan().steps["test/alpha/tiny/audio"].deps()) == [f"test/alpha/narration/{i:02d}" for i in range(3)]
    assert s.plan().steps["test/alpha/narration/00"].kind == "tts.espeak"
    # an image scene feeds the source file straight into its segment
    assert s.plan().steps["test/alpha/tiny/segment/01"].inputs["visual"].file == "videos/test/media/pic.png"


def test_two_formats_from_one_spec(mini):
    write(mini / "videos/test/both.yaml", "format: [tiny, tinyshort]\nscenes: [{narration: Hello both.}]\n")
    vp = session(mini).plan().videos["test/both"]
    assert [(f.format, f.dir) for f in vp.formats] == [("tiny", "build/test/both"), ("tinyshort", "build/test/both/tinyshort")]
    s = session(mini)
    # narration is shared between formats, segments are not
    assert s.plan().steps["test/both/tinyshort/segment/00"].inputs["audio"].step == "test/both/narration/00"
    assert s.plan().steps["test/both/tinyshort/segment/00"].params["burn_captions"] is True
