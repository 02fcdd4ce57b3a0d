"""Studio fixtures: an app over a copy of the tiny project, with a fake or a real build function."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from litestar.testing import TestClient

from studio_support import TOKEN, FakeBuild, settings_for


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
