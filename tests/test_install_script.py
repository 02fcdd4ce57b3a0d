"""scripts/install.sh on both platforms it supports: lint-clean, and a dry run that prints the plan and changes
nothing. macOS cannot be run here, so its path is exercised with SHOWRUNNER_OS=Darwin and a fake `brew` that
reports nothing installed."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install.sh"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (scripts/install.sh adds it)")
def test_scripts_are_shellcheck_clean():
    proc = subprocess.run(["shellcheck", str(SCRIPT), str(ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def _copy(tmp_path: Path) -> Path:
    """A project folder with the installer and pyproject, but no .venv and no node_modules."""
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, tmp_path / "scripts" / "install.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "recipes" / "remotion").mkdir(parents=True)
    shutil.copy(ROOT / "recipes" / "remotion" / "package.json", tmp_path / "recipes" / "remotion" / "package.json")
    return tmp_path


def _snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_macos_dry_run_plans_homebrew_and_the_default_torch_wheel(tmp_path):
    project = _copy(tmp_path / "project")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "brew-calls"
    brew = bin_dir / "brew"  # a Homebrew that has nothing installed and records what it is asked
    brew.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\nexit 1\n")
    brew.chmod(0o755)
    before = _snapshot(project)
    env = {**os.environ, "SHOWRUNNER_OS": "Darwin", "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", str(project / "scripts" / "install.sh"), "--dry-run"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "would run: " + str(brew) + " install ffmpeg espeak-ng cairo pango" in out
    assert "install --cask chromium basictex" in out
    assert "tlmgr install" in out and "dvisvgm" in out
    assert "default macOS wheel" in out and "(CPU)" not in out
    assert "would run: npm install --prefix recipes/remotion" in out
    assert "dry run for Darwin: nothing was changed" in out
    assert _snapshot(project) == before  # no .venv, no stamp, no node_modules
    asked = calls.read_text().split("\n")
    assert all(line.startswith("list ") for line in asked if line)  # brew was only asked what is installed


def test_linux_dry_run_changes_nothing(tmp_path):
    project = _copy(tmp_path / "project")
    before = _snapshot(project)
    proc = subprocess.run(["bash", str(project / "scripts" / "install.sh"), "--dry-run"], capture_output=True,
                          text=True, env={**os.environ, "SHOWRUNNER_OS": "Linux"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "==> creating .venv" in proc.stdout and " -m venv .venv" in proc.stdout
    assert "pip install torch==2.13.0 (CPU)" in proc.stdout
    assert "dry run for Linux: nothing was changed" in proc.stdout
    assert _snapshot(project) == before


def test_unknown_platform_and_option_are_refused(tmp_path):
    project = _copy(tmp_path / "project")
    proc = subprocess.run(["bash", str(project / "scripts" / "install.sh"), "--dry-run"], capture_output=True,
                          text=True, env={**os.environ, "SHOWRUNNER_OS": "Plan9"}, timeout=60)
    assert proc.returncode == 1 and "not Plan9" in proc.stderr
    proc = subprocess.run(["bash", str(project / "scripts" / "install.sh"), "--yes"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "--dry-run" in proc.stderr
