"""Helpers for the studio tests (fixtures live in conftest.py)."""
from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from core.settings import Settings

TOKEN = "t" * 43


def settings_for(root: Path, tmp_path: Path) -> Settings:
    env = {"SHOWRUNNER_CONFIG_DIR": str(tmp_path / "config"), "HOME": str(tmp_path / "home")}
    return Settings.load(root, env=env)


class FakeBuild:
    """Records the builds the worker asked for; optionally blocks until released."""

    def __init__(self, block: bool = False):
        import threading

        self.calls: list[tuple[str, str]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not block:
            self.release.set()

    def __call__(self, ws, video, profile):
        from compiler.workspace import BuildResult, VideoOutcome

        self.calls.append((video, profile))
        self.started.set()
        self.release.wait(10)
        return BuildResult(videos=[VideoOutcome(video=video, status="built")])


def login(client: TestClient) -> str:
    """Log in with the token; returns the CSRF token."""
    r = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303, r.text
    sid = client.app.state.sessions.session_id(client.cookies.get("studio_session"))
    return client.app.state.sessions.csrf_for(sid)
