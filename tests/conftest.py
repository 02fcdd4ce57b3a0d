"""Shared fixtures: a tiny but complete project (espeak voice, 320x180 @ 10 fps) built from real tools."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from support import ALPHA, BETA, BRAND, FORMATS, REPO, write


@pytest.fixture(scope="session")
def _mini_base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mini-base")
    shutil.copytree(REPO / "recipes" / "templates", root / "recipes" / "templates")
    write(root / "recipes" / "formats.yaml", FORMATS)
    write(root / "recipes" / "explainer.yaml", "formats: [tiny]\n")
    write(root / "brands" / "test.yaml", BRAND)
    (root / "brands" / "media").mkdir(parents=True)
    shutil.copy(REPO / "brands" / "media" / "cosmos-logo.svg", root / "brands" / "media" / "logo.svg")
    media = root / "videos" / "test" / "media"
    media.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=400x300:d=1", "-frames:v", "1",
                    str(media / "pic.png")], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=240x160:r=10:d=1", "-pix_fmt", "yuv420p",
                    str(media / "clip.mp4")], check=True)
    write(root / "videos" / "test" / "alpha.yaml", ALPHA)
    write(root / "videos" / "test" / "beta.yaml", BETA)
    return root


@pytest.fixture
def mini(tmp_path, _mini_base) -> Path:
    """A fresh copy of the tiny project in its own folder (own cache/ and build/)."""
    root = tmp_path / "proj"
    shutil.copytree(_mini_base, root)
    return root
