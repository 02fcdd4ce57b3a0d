"""Studio fixtures: an app over a copy of the tiny project, with a fake or a real build function."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
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


@pytest.fixture
def make_client(tmp_path):
    """make_client(root, build_fn=None, watch=False, host=...) -> a started TestClient (lifespan run)."""
    clients = []

    def make(root: Path, build_fn=None, *, watch: bool = False, host: str = "127.0.0.1", scan: bool = True,
             token: str | None = TOKEN, real: bool = False):
        from server.app import create_app

        app = create_app(settings_for(root, tmp_path), token=token, watch=watch, host=host,
                         build_fn=None if real else (build_fn or FakeBuild()), scan=scan)
        client = TestClient(app, base_url="http://127.0.0.1:8000")
        client.__enter__()
        clients.append(client)
        if scan:
            assert app.state.queue.wait_idle(60)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def login(client: TestClient) -> str:
    """Log in with the token; returns the CSRF token."""
    r = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303, r.text
    sid = client.app.state.sessions.session_id(client.cookies.get("studio_session"))
    return client.app.state.sessions.csrf_for(sid)


@pytest.fixture(scope="session")
def built_mini(tmp_path_factory, _mini_base) -> Path:
    """The tiny project with `test/beta` really built once (the one real build of these tests)."""
    root = tmp_path_factory.mktemp("studio-built") / "proj"
    shutil.copytree(_mini_base, root)
    from compiler.workspace import Workspace

    result = Workspace.open(root).build(["test/beta"])
    assert result.outcome("test/beta").status == "built", result.failed_steps
    return root


@pytest.fixture
def built(tmp_path, built_mini) -> Path:
    """A fresh copy of the built project (build/ and cache/ included) per test."""
    root = tmp_path / "proj"
    shutil.copytree(built_mini, root, symlinks=True)
    from compiler.workspace import Workspace

    ws = Workspace.open(root)
    ws.engine.materialize("test/beta")  # the copy broke the hardlinks into the store; all cache hits
    return root
