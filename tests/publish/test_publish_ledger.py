"""The ledger on SQLite and PostgreSQL: migrations match the models, upserts, locks, aware datetimes."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config
from sqlalchemy import select

from publish.errors import Busy
from publish.ledger import MIGRATIONS, Ledger, upsert
from publish.models import AnalyticsDaily, Base, Hold, Lock


def test_migrations_create_exactly_the_models(db_url):
    ledger = Ledger.open(db_url)
    with ledger.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        assert compare_metadata(ctx, Base.metadata) == []
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        assert ctx.get_current_revision() == ScriptDirectory.from_config(cfg).get_current_head()
    Ledger.open(db_url)  # opening again is a no-op upgrade


def test_upsert_and_aware_datetimes(db_url):
    ledger = Ledger.open(db_url)
    day = dt.date(2026, 11, 20)
    row = {"youtube_video_id": "v1", "day": day, "unit": "b/s", "views": 1, "estimated_minutes_watched": 1.5,
           "average_view_duration_s": 3.0, "average_view_percentage": 10.0, "likes": 0, "subscribers_gained": 0,
           "fetched_at": dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))}
    with ledger.session() as s:
        upsert(s, AnalyticsDaily, [row], ["youtube_video_id", "day"])
    with ledger.session() as s:
        upsert(s, AnalyticsDaily, [{**row, "views": 7}], ["youtube_video_id", "day"])
    with ledger.session() as s:
        got = s.scalars(select(AnalyticsDaily)).one()
        assert got.views == 7
        assert got.fetched_at == dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc)
        assert got.fetched_at.tzinfo is not None
    with pytest.raises(Exception, match="naive datetime"):
        with ledger.session() as s:
            s.add(Hold(scope="x", until=dt.datetime(2026, 1, 1), reason="r"))


def test_locks_exclude_and_stale_leases_are_taken_over(db_url):
    ledger = Ledger.open(db_url)
    with ledger.lock("publish:a/b"):
        with pytest.raises(Busy, match="another process"):
            with ledger.lock("publish:a/b"):
                pass
        with ledger.lock("publish:a/c"):  # other units are not blocked
            pass
    # a lease left by a process that no longer exists
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    with ledger.session() as s:
        s.add(Lock(name="publish:a/b", owner=f"{socket.gethostname()}:{dead.stdout.strip()}:x",
                   heartbeat=dt.datetime.now(dt.timezone.utc)))
    with ledger.lock("publish:a/b"):
        pass
    # a lease of a live process on another host expires only by time
    with ledger.session() as s:
        s.add(Lock(name="publish:a/b", owner=f"elsewhere:{os.getpid()}:x",
                   heartbeat=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))
    with ledger.lock("publish:a/b"):
        pass
    with ledger.session() as s:
        assert s.scalars(select(Lock)).all() == []


def test_default_ledger_lives_in_dot_showrunner_and_is_git_ignored(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOWRUNNER_DB_URL", raising=False)
    ledger = Ledger.open(root=tmp_path)
    assert ledger.display_url == f"sqlite:///{tmp_path / '.showrunner' / 'ledger.db'}"
    assert (tmp_path / ".showrunner" / ".gitignore").read_text().strip().endswith("*")


def test_postgres_url_password_is_never_displayed(pg_url):
    ledger = Ledger.open(pg_url.replace("postgres@", "postgres:hunter2@"))
    assert "hunter2" not in ledger.display_url and "***" in ledger.display_url
