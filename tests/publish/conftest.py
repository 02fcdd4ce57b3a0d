"""Fixtures for the publish tests: a fake YouTube on 127.0.0.1, a project root with brands and builds,
tokens outside the root, and the ledger on SQLite or PostgreSQL.
"""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fake_youtube, without a tests/publish/__init__.py

from fake_youtube import FakeYouTube  # noqa: E402

from publish import youtube  # noqa: E402
from publish_support import (BRAND_COSMOS, BRAND_GARDEN, COSMOS, GARDEN, PG_BASE, SECRETS, World,  # noqa: E402
                             write_token)

# ------------------------------------------------------------ media ----

def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """A small real mp4 (several 256 KiB chunks), a second, different one, and a 1280x720 JPEG."""
    d = tmp_path_factory.mktemp("media")
    _ffmpeg("-f", "lavfi", "-i", "nullsrc=s=320x240:d=2:r=25,geq=random(1)*255:128:128", "-f", "lavfi", "-i",
            "sine=d=2", "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "32", "-pix_fmt", "yuv420p",
            str(d / "a.mp4"))  # noise compresses badly: about 1.1 MB, five 256 KiB chunks
    _ffmpeg("-f", "lavfi", "-i", "testsrc=d=1:s=320x240", "-f", "lavfi", "-i", "sine=d=1", "-shortest",
            str(d / "b.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "color=c=navy:s=1280x720", "-frames:v", "1", str(d / "thumb.jpg"))
    _ffmpeg("-f", "lavfi", "-i", "color=c=orange:s=1280x720", "-frames:v", "1", str(d / "thumb2.jpg"))
    return {"a": d / "a.mp4", "b": d / "b.mp4", "thumb": d / "thumb.jpg", "thumb2": d / "thumb2.jpg"}


# -------------------------------------------------------- the ledger ----

@pytest.fixture
def pg_url():
    """A fresh schema in the local PostgreSQL, dropped afterwards; skipped only if the server is unreachable."""
    try:
        import psycopg

        conn = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3,
                               autocommit=True)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (user postgres, db test) is unreachable: {exc}")
    schema = f"sr_test_{uuid.uuid4().hex[:10]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger-param.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def fake():
    f = FakeYouTube(client_secret=SECRETS["client_secret"]).start()
    f.add_channel(COSMOS, "Cosmos Daily", refresh_token=SECRETS["cosmos_refresh"], playlists=["PLcosmos1", "PLcosmos2"])
    f.add_channel(GARDEN, "Garden Hours", refresh_token=SECRETS["garden_refresh"])
    yield f
    f.stop()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Backoff delays requested by the code; nothing actually sleeps."""
    delays: list[float] = []
    monkeypatch.setattr(youtube, "RETRY", youtube.RETRY.replace(sleep=delays.append))
    return delays


@pytest.fixture
def world(tmp_path, fake, media, monkeypatch, sleeps) -> World:
    root = tmp_path / "repo"
    (root / "brands").mkdir(parents=True)
    (root / "recipes").mkdir()  # with brands/, what makes a folder a project (core.settings.find_root)
    (root / "brands" / "cosmos.yaml").write_text(BRAND_COSMOS)
    (root / "brands" / "garden.yaml").write_text(BRAND_GARDEN)
    config = tmp_path / "home" / ".config" / "showrunner"
    for k in ("SHOWRUNNER_ROOT", "SHOWRUNNER_CACHE", "SHOWRUNNER_DB_URL", "SHOWRUNNER_QUOTA_LIMITS", "SHOWRUNNER_CLOUD_PROJECT", "SHOWRUNNER_UPLOAD_CHUNK_MIB"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("SHOWRUNNER_CONFIG_DIR", str(config))
    monkeypatch.setenv("SHOWRUNNER_CLIENT_SECRETS", str(config / "client_secret.json"))
    monkeypatch.setenv("SHOWRUNNER_YOUTUBE_ROOT_URL", fake.url)
    monkeypatch.setenv("SHOWRUNNER_ANALYTICS_ROOT_URL", fake.url)
    monkeypatch.setenv("SHOWRUNNER_TOKEN_URI", fake.url + "token")
    monkeypatch.setenv("SHOWRUNNER_HTTP_TIMEOUT", "5")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_token(config, "cosmos", fake, refresh=SECRETS["cosmos_refresh"], channel=COSMOS, title="Cosmos Daily")
    write_token(config, "garden", fake, refresh=SECRETS["garden_refresh"], channel=GARDEN, title="Garden Hours")
    return World(root=root, fake=fake, media=media, config=config)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/publish" in str(item.fspath) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(60))



@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """Everything here talks to 127.0.0.1 only; a proxy from the environment must not be used."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def _close_ledgers(monkeypatch):
    """Dispose every ledger a test opens, so no database connection outlives its test."""
    from publish.ledger import Ledger

    opened: list[Ledger] = []
    real = Ledger.open.__func__

    def tracking(cls, *args, **kwargs):
        ledger = real(cls, *args, **kwargs)
        opened.append(ledger)
        return ledger

    monkeypatch.setattr(Ledger, "open", classmethod(tracking))
    yield
    for ledger in opened:
        ledger.close()


