"""remotion.bundle + remotion.clip: real Remotion (webpack bundle, system Chromium, the npm
compositor) on a tiny composition; the clip is as long as the scene and in the brand colours."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from core.errors import StepError
from support import REPO, build_all, session, write
from helpers import run_renderer
from renderers.base import ffprobe
from renderers.remotion_clip import RemotionClip

REMOTION = REPO / "recipes" / "remotion"
MISSING = [p for p in ("remotion", "@remotion/renderer", "@remotion/bundler", "@remotion/compositor-linux-x64-gnu")
           if not (REMOTION / "node_modules" / p / "package.json").is_file()]
needs_remotion = pytest.mark.skipif(
    bool(MISSING) or shutil.which("node") is None or shutil.which("chromium") is None,
    reason=f"Remotion is not installed (missing: {', '.join(MISSING) or 'node/chromium'}); "
           "run: npm install --prefix recipes/remotion")

VIDEO = """\
title: Remotion
format: tiny
scenes:
  - narration: A title card made with React. It holds to the end.
    visual: {kind: remotion, composition: TitleCard, props: {title: Dark skies, subtitle: a Remotion test}}
  - narration: Two items. One. Two.
    visual: {kind: remotion, composition: KineticList, props: {title: List, items: [one, two]}}
"""


@pytest.fixture
def remotion_project(mini):
    dst = mini / "recipes" / "remotion"
    shutil.copytree(REMOTION / "src", dst / "src")
    for name in ("package.json", "package-lock.json", "tsconfig.json", "render.mjs"):
        shutil.copy(REMOTION / name, dst / name)
    if (REMOTION / "node_modules").is_dir():
        os.symlink(REMOTION / "node_modules", dst / "node_modules")
    write(mini / "videos/test/rem.yaml", VIDEO)
    for v in ("alpha", "beta"):
        (mini / f"videos/test/{v}.yaml").unlink()
    return mini


def test_plan_shares_one_bundle_keyed_by_every_source(remotion_project):
    steps = session(remotion_project).plan().steps
    bundle = steps["test/rem/remotion/bundle"]
    files = [r.file for r in bundle.inputs["sources"]]
    assert "recipes/remotion/src/Root.tsx" in files and "recipes/remotion/package-lock.json" in files
    for i in (0, 1):
        clip = steps[f"test/rem/tiny/remotion/{i:02d}"]
        assert clip.inputs["bundle"].step == "test/rem/remotion/bundle"
        assert clip.params["palette"]["accent"] == "#ff8800" and (clip.params["width"], clip.params["fps"]) == (320, 10)


def test_unknown_composition_is_a_spec_error(remotion_project):
    write(remotion_project / "videos/test/rem.yaml", VIDEO.replace("composition: KineticList", "composition: Kinetic"))
    errors = session(remotion_project).plan().errors["test/rem"]
    assert "videos/test/rem.yaml:7:43: scenes[1].visual.composition: unknown Remotion composition 'Kinetic'" in errors


def test_reserved_props_are_refused(tmp_path):
    timings = tmp_path / "t.json"
    timings.write_text(json.dumps({"duration_s": 1.0, "sentences": []}))
    with pytest.raises(StepError, match="'fps' is set by Showrunner"):
        run_renderer(RemotionClip, tmp_path, {"composition": "TitleCard", "props": {"fps": 60}, "width": 320, "height": 180,
                                              "fps": 10, "pad": 0.2, "lead": 0.2, "palette": {}, "fonts": {}},
                     {"bundle": tmp_path / "none.tar.gz", "script": REMOTION / "render.mjs", "timings": timings})


@needs_remotion
def test_remotion_renders_the_scene_length_in_brand_colours(remotion_project):
    s, failed, executed = build_all(remotion_project)
    assert failed == {}
    assert executed.count("test/rem/remotion/bundle") == 1  # one bundle for both scenes
    for i in (0, 1):
        sid = f"test/rem/tiny/remotion/{i:02d}"
        key, _ = s.engine.key(sid)
        manifest = s.store.get_manifest(key)
        clip = s.store.blob_path(manifest["outputs"]["clip.mp4"]["digest"])
        video = next(st for st in ffprobe(clip)["streams"] if st["codec_type"] == "video")
        assert (int(video["width"]), int(video["height"])) == (320, 180)
        assert int(video["nb_frames"]) == manifest["facts"]["frames"]
        assert manifest["fingerprint"]["@remotion/renderer"] and "Chromium" in manifest["fingerprint"]["chromium"]
    # the title card ends with the accent bar on the brand background
    key, _ = s.engine.key("test/rem/tiny/remotion/00")
    clip = s.store.blob_path(s.store.get_manifest(key)["outputs"]["clip.mp4"]["digest"])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-sseof", "-0.3", "-i", str(clip), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frame = np.frombuffer(raw, np.uint8).reshape(180, 320, 3).astype(int)
    bg = (np.abs(frame - np.array((0x10, 0x20, 0x30))).max(axis=2) <= 8).mean()
    orange = ((frame[..., 0] - frame[..., 2] > 60) & (frame[..., 0] >= frame[..., 1])).sum()
    assert bg > 0.6 and orange >= 40, (bg, orange)
    assert (remotion_project / "build/test/rem/video.mp4").is_file()
