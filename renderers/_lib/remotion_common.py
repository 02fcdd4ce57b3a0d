"""Shared by the Remotion renderers: the node runner, its errors, tool versions, bundle archives."""
from __future__ import annotations

import functools
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Callable

from core.errors import StepError

from ..base import stop_process

INSTALL_HINT = "install the Remotion packages: npm install --prefix recipes/remotion (scripts/install.sh does it)"


def node_exe() -> str:
    exe = shutil.which("node")
    if not exe:
        raise StepError("node is not installed; Remotion scenes need Node.js 18 or newer", hint="apt-get install nodejs npm")
    return exe


def check_installed(project_dir: Path) -> None:
    for pkg in ("@remotion/renderer", "@remotion/bundler", "remotion"):
        if not (project_dir / "node_modules" / pkg / "package.json").is_file():
            raise StepError(f"the npm package {pkg} is missing from {project_dir.name}/node_modules", hint=INSTALL_HINT)


@functools.lru_cache(maxsize=None)
def remotion_versions(project_dir: str) -> dict:
    out = {"node": subprocess.run([node_exe(), "--version"], capture_output=True, text=True).stdout.strip()}
    base = Path(project_dir) / "node_modules"
    for pkg in ("remotion", "@remotion/renderer", "@remotion/bundler", "@remotion/compositor-linux-x64-gnu"):
        try:
            out[pkg] = json.loads((base / pkg / "package.json").read_text())["version"]
        except (FileNotFoundError, KeyError, json.JSONDecodeError):
            out[pkg] = "missing"
    return out


def run_node(script: Path, job: dict, scratch: Path, what: str, progress: Callable[[float, str], None],
             timeout_s: float = 3600) -> list[str]:
    """Run `node render.mjs job.json`; progress lines go to `progress`; errors become StepError."""
    check_installed(script.parent)
    job_file = scratch / "job.json"
    job_file.write_text(json.dumps(job))
    env = {**os.environ, "REMOTION_DISABLE_TELEMETRY": "1", "NODE_ENV": "production"}
    log = scratch / "stderr.txt"  # a file, not a pipe: webpack's warnings cannot block on a full pipe
    with open(log, "w") as errfh:
        proc = subprocess.Popen([node_exe(), str(script), str(job_file)], cwd=script.parent, stdout=subprocess.PIPE,
                                stderr=errfh, text=True, env=env)
    assert proc.stdout is not None
    watchdog = threading.Timer(timeout_s, stop_process, (proc,))
    watchdog.start()
    lines = []
    try:
        for line in proc.stdout:
            if line.startswith("progress "):
                try:
                    progress(min(1.0, float(line.split()[1])), what)
                except ValueError:
                    pass
            else:
                lines.append(line.rstrip())
        proc.wait()
    finally:
        watchdog.cancel()
    err = log.read_text(errors="replace")
    if proc.returncode in (-signal.SIGTERM, -signal.SIGKILL):
        raise StepError(f"{what} did not finish within {timeout_s:.0f} s and was stopped")
    if proc.returncode != 0:
        for line in reversed(err.splitlines()):
            if line.startswith("SHOWRUNNER-ERROR "):
                info = json.loads(line[len("SHOWRUNNER-ERROR "):])
                stage = {"bundle": "bundling", "select": "selecting the composition"}.get(info["stage"], "rendering")
                raise StepError(f"{what} failed while {stage}: {info['message']}",
                                hint="see recipes/remotion/ and docs/visuals-manim-remotion.md")
        tail = "\n".join(err.strip().splitlines()[-8:])
        raise StepError(f"{what} failed (exit status {proc.returncode}): {tail or 'no output'}", hint=INSTALL_HINT)
    return lines



def pack(folder: Path, out: Path) -> int:
    """A reproducible tar.gz of `folder` (sorted names, zero times and owners)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = tarfile.TarInfo(str(path.relative_to(folder)))
            info.size = path.stat().st_size
            info.mode = 0o644
            with open(path, "rb") as fh:
                tar.addfile(info, fh)
    import gzip

    with open(out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
    return len(buf.getvalue())


def unpack(archive: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
