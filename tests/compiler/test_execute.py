"""End to end on the tiny project: outputs, incremental rebuilds, explain, failures, kill -9."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import REPO, build_all, session
from core.store import file_digest
from renderers.assemble_ffmpeg import measure_loudness
from renderers.base import ffprobe

OUT_FILES = {"video.mp4", "thumbnail.jpg", "captions.srt", "captions.vtt", "metadata.json", "manifest.json",
             "narration.txt", "slides.txt", "images.txt", "clips.txt", "manim.txt", "remotion.txt", "qc.json"}


@pytest.fixture(scope="module")
def built(tmp_path_factory, _mini_base):
    root = tmp_path_factory.mktemp("built") / "proj"
    shutil.copytree(_mini_base, root)
    s, failed, executed = build_all(root)
    assert failed == {}
    return root


@pytest.fixture
def copy_of_built(built, tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(built, root, symlinks=True)
    return root


def output_digests(root: Path) -> dict:
    out = {}
    for f in sorted((root / "build").rglob("*")):
        if f.is_file() and f.name != "manifest.json":
            out[str(f.relative_to(root))] = file_digest(f)
    return out


def test_outputs_are_complete_and_valid(built):
    d = built / "build/test/alpha"
    assert {p.name for p in d.iterdir()} == OUT_FILES
    info = ffprobe(d / "video.mp4")
    v = next(s for s in info["streams"] if s["codec_type"] == "video")
    a = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (v["width"], v["height"], v["r_frame_rate"]) == (320, 180, "10/1")
    assert a["sample_rate"] == "48000"
    tl_duration = json.loads((d / "metadata.json").read_text())["duration_s"]
    assert abs(float(info["format"]["duration"]) - tl_duration) < 0.15
    loud = measure_loudness(d / "video.mp4")
    assert abs(loud["integrated_lufs"] - (-14.0)) <= 1.0
    assert loud["true_peak_dbtp"] <= -1.0
    srt = (d / "captions.srt").read_text()
    assert srt.startswith("1\n00:00:00,200 --> ") and "First scene." in srt
    assert (d / "captions.vtt").read_text().startswith("WEBVTT\n")
    thumb = ffprobe(d / "thumbnail.jpg")["streams"][0]
    assert (thumb["width"], thumb["height"]) == (1280, 720) and (d / "thumbnail.jpg").stat().st_size < 2 * 1024 * 1024
    manifest = json.loads((d / "manifest.json").read_text())
    asset = manifest["assets"]["video.mp4"]
    assert asset["kind"] == "assemble.ffmpeg" and len(asset["key"]) == 64 and "ffmpeg" in asset["tools"]
    assert asset["digest"] == file_digest(d / "video.mp4")
    assert len(manifest["scenes"]) == 3 and manifest["scenes"][0]["start_s"] == 0
    assert all(step["timing"] for step in manifest["steps"].values())
    assert "Second scene shows a picture." in (d / "narration.txt").read_text()
    assert "title: Hello" in (d / "slides.txt").read_text()


def test_noop_rebuild_runs_nothing(copy_of_built):
    s, failed, executed = build_all(copy_of_built)
    assert failed == {} and executed == []
    assert all(s.engine.is_materialized(v) for v in s.plan().videos)


def test_cache_and_build_records_hold_no_machine_paths(copy_of_built):
    """The README's promise: nothing recorded per step or per build says where the project (or the code)
    lives, so a moved project keeps its cache. A declared fallback's reason names its model folder, and
    went into the step's params (key, action manifest, build manifest) as an absolute path."""
    root = copy_of_built
    (root / "brands/media/stills").mkdir()
    shutil.copy(root / "videos/test/media/pic.png", root / "brands/media/stills/lake.png")
    brand = root / "brands/test.yaml"
    brand.write_text(brand.read_text() + "images: {model: ../models/missing, fallback: media, library: media/stills}\n")
    (root / "videos/test/gen.yaml").write_text("title: Gen\nformat: tiny\nscenes:\n  - narration: A lake.\n"
                                               "    visual: {kind: genimage, prompt: a lake}\n")
    s, failed, executed = build_all(root)
    assert failed == {} and "test/gen/genimage/00" in executed
    needles = {str(root.parents[1]), str(root.resolve().parents[1]), str(REPO)}
    records = list((root / "cache/actions").glob("*.json")) + list((root / "build").rglob("manifest.json"))
    records += [f for f in (root / "cache/refs").rglob("*") if f.is_file()]
    assert len(records) > 20
    for f in records:
        text = f.read_text()
        assert not any(n in text for n in needles), f"{f.relative_to(root)} names a machine path"
    gen = json.loads((root / "build/test/gen/manifest.json").read_text())
    assert "models/missing not found" in gen["steps"]["test/gen/genimage/00"]["params"]["reason"]


def test_editing_one_narration_reruns_only_what_depends_on_it(copy_of_built):
    root = copy_of_built
    alpha = root / "videos/test/alpha.yaml"
    alpha.write_text(alpha.read_text().replace("Second scene shows a picture.", "The second scene shows a picture now."))
    rows = {r.step: r for r in session(root).explain([])}
    assert rows["test/alpha/narration/01"].status == "miss"
    assert "params.text: Second scene shows a picture. -> The second scene shows a picture now." in rows["test/alpha/narration/01"].why
    assert rows["test/alpha/narration/00"].status == "hit"
    assert rows["test/alpha/tiny/segment/01"].status == "pending"
    assert rows["test/beta/tiny/assemble"].status == "hit"
    # beta's steps, and the brand's narration embeddings and their index its similarity check reads (issue 11)
    assert {r.step for r in session(root).explain(["test/beta"])} == {
        k for k in rows if k.startswith(("test/beta/", "test/_qc/embed/", "test/_qc/embed-index"))}
    s, failed, executed = build_all(root)
    assert failed == {}
    qc = {e for e in executed if "/qc/" in e or "/_qc/" in e}
    assert set(executed) - qc == {"test/alpha/narration/01", "test/alpha/tiny/segment/01", "test/alpha/tiny/timeline",
                                  "test/alpha/tiny/captions", "test/alpha/tiny/audio", "test/alpha/tiny/assemble",
                                  "test/alpha/tiny/metadata", "test/alpha/scriptfiles"}
    # QC re-judges alpha, and beta's similarity to alpha; beta's own narration is not embedded again
    assert {"test/_qc/embed/alpha", "test/_qc/embed-index", "test/alpha/tiny/qc/script", "test/alpha/tiny/qc/policy",
            "test/beta/tiny/qc/policy"} <= qc and "test/_qc/embed/beta" not in qc
    assert "The second scene shows a picture now." in (root / "build/test/alpha/captions.srt").read_text()


def test_runtime_failure_fails_one_video_and_leaves_no_partial_entry(copy_of_built):
    root = copy_of_built
    (root / "videos/test/media/clip.mp4").write_bytes(b"this is not a video")
    beta = root / "videos/test/beta.yaml"
    beta.write_text(beta.read_text().replace("Beta has one slide.", "Beta has one slide, edited."))
    s, failed, executed = build_all(root)
    assert "test/alpha/tiny/segment/02" in failed and "cannot read media file clip.mp4" in failed["test/alpha/tiny/segment/02"]
    assert "test/beta/narration/00" in executed and not any(k.startswith("test/beta") for k in failed)
    key, _ = s.engine.key("test/alpha/tiny/segment/02")
    assert s.store.get_manifest(key) is None and not s.store.manifest_path(key).exists()
    assert list(s.store.tmp.iterdir()) == []


def test_doit_build_and_uptodate(copy_of_built):
    env = {**os.environ, "SHOWRUNNER_ROOT": str(copy_of_built), "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "doit", "-f", str(REPO / "dodo.py"), "--dir", str(copy_of_built)]
    res = subprocess.run(cmd + ["build"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    # up to date: nothing ran; one summary line per video, not a line per task
    lines = res.stdout.splitlines()
    # 27 steps make the two videos, 20 judge them (issue 11: a qc.scene per scene, qc.master, qc.captions,
    # qc.text, qc.script, qc.policy and qc.verdict per video, the brand's 2 narration embeddings and their index)
    assert lines[0] == "build: 47 step(s) for 2 video(s)" and lines[1:3] == ["built    test/alpha", "built    test/beta"]
    assert lines[3].startswith("2 video(s) built; 0 step(s) ran, 47 cached, in ") and len(lines) == 4, res.stdout
    res = subprocess.run(cmd + ["-v", "2", "build:test/beta"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "step(s) for 1 video(s)" in res.stdout and "built    test/beta" in res.stdout
    assert "-- build:test/beta/tiny/assemble" in res.stdout or "  hit   test/beta/tiny/assemble" in res.stdout
    # one built video named: every step of its closure is counted, those shared with test/alpha included
    total = int(re.search(r"build: (\d+) step", res.stdout).group(1))
    assert re.search(rf"0 step\(s\) ran, {total} cached", res.stdout), res.stdout
    res = subprocess.run(cmd + ["list", "--all"], env=env, capture_output=True, text=True, timeout=60)
    assert "build:test/beta" in res.stdout
    # a built video is one doit task (its steps are reported as hits); an edited one gets a task per step, and
    # every step of the plan is counted once, ran or cached (a new title changes beta alone: the brand's shared
    # similarity index reads narrations only)
    beta = copy_of_built / "videos/test/beta.yaml"
    beta.write_text(beta.read_text().replace("title: Beta Video", "title: Beta Video, Renamed"))
    res = subprocess.run(cmd + ["build"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    total = int(re.match(r"build: (\d+) step", lines[0]).group(1))
    ran, cached = map(int, re.search(r"(\d+) step\(s\) ran, (\d+) cached", lines[-1]).groups())
    assert ran > 0 and ran + cached == total, res.stdout
    assert "built    test/alpha  (unchanged)" in res.stdout and "built    test/beta" in res.stdout


def run_build(root: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "compiler", "--root", str(root), "build"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def test_kill_9_at_any_moment_then_rebuild_matches_a_clean_build(built, tmp_path):
    clean = output_digests(built)
    root = tmp_path / "proj"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns("cache", "build"))
    for delay in (0.8, 2.0, 3.5, 5.0, 7.0):
        proc = run_build(root)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # every manifest in the store must point at complete blobs
        from core.store import Store
        store = Store(root / "cache")
        for mf in store.actions.glob("*.json"):
            data = json.loads(mf.read_text())
            for rec in data["outputs"].values():
                assert file_digest(store.blob_path(rec["digest"])) == rec["digest"]
    proc = run_build(root)
    assert proc.wait(timeout=300) == 0
    assert output_digests(root) == clean


def test_gc_drops_what_no_spec_needs_and_keeps_the_rest(copy_of_built, capsys):
    from compiler.cli import gc

    root = copy_of_built
    beta = root / "videos/test/beta.yaml"
    beta.write_text(beta.read_text().replace("And a second slide to finish.", "And a final slide."))
    s, failed, executed = build_all(root)
    assert failed == {} and "test/beta/narration/01" in executed
    before = len(list(s.store.actions.glob("*.json")))
    assert gc(root=root) == 0
    assert "removed" in capsys.readouterr().out
    after = len(list(s.store.actions.glob("*.json")))
    assert after < before
    s2, failed, executed = build_all(root)  # everything the specs need is still there
    assert failed == {} and executed == []


def test_gc_refuses_while_a_spec_is_broken(copy_of_built):
    from compiler.cli import gc

    (copy_of_built / "videos/test/beta.yaml").write_text("scenes: [{narration: hi, voice: nobody}]\n")
    assert gc(root=copy_of_built) == 1


def test_real_narration_longer_than_the_format_fails_clearly(mini):
    from support import write

    brand = mini / "brands/test.yaml"
    # the estimate is fooled (a voice claiming 400 words per minute), the real audio is not
    brand.write_text(brand.read_text().replace("robot: {engine: espeak, rate: 1.3, sentence_pause: 0.1}",
                                               "robot: {engine: espeak, rate: 1.0, sentence_pause: 0.1, words_per_minute: 400}"))
    long = " ".join(f"Sentence number {i} is here." for i in range(14))
    write(mini / "videos/test/gamma.yaml", f"format: tinyshort\nscenes:\n  - narration: {long}\n")
    s = session(mini)
    assert "test/gamma" in s.plan().videos
    failed = s.engine.build(s.plan().videos["test/gamma"].steps)
    msg = failed["test/gamma/tinyshort/timeline"]
    assert "over the 20 s limit of format 'tinyshort'" in msg and "videos/test/gamma.yaml" in msg


def test_cli_build_prints_a_summary_not_a_log(copy_of_built, capsys):
    """Not on a terminal: the plan line, a line per video and the totals, whatever the number of steps."""
    from compiler.cli import build

    root = copy_of_built
    alpha = root / "videos/test/alpha.yaml"
    alpha.write_text(alpha.read_text().replace("First scene. It has two sentences.", "First scene, edited."))
    assert build([], root=root) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("build: ") and "step(s) for 2 video(s)" in lines[0]
    assert "built    test/alpha  -> build/test/alpha" in lines and "built    test/beta  -> build/test/beta" in lines
    assert "2 output folder(s) written, 0 video(s) failed;" in lines[-1] and "cached" in lines[-1]
    assert len(lines) <= 6, out  # at most a progress line or two besides
    assert err == ""
