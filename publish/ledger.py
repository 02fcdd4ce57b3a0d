"""The publish ledger: one database (SQLite file by default, PostgreSQL by URL), migrated on open.

Default: `sqlite:///<project>/.showrunner/ledger.db`; `SHOWRUNNER_DB_URL` overrides it, e.g.
`postgresql+psycopg://user@host/db` (both decided by `core.settings.Settings`). The URL is never printed
with its password.
"""
from __future__ import annotations

import os
import socket
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, delete, event, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import LEDGER_DIR, Settings
from .errors import Busy
from .models import Lock, utcnow

MIGRATIONS = Path(__file__).with_name("migrations")


def _prepare_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:":
        return
    folder = Path(path).parent
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if folder.name == LEDGER_DIR and not ignore.exists():
        # The ledger holds resumable-session URIs; keep the whole folder out of git.
        ignore.write_text("# created by showrunner: the publish ledger stays out of git\n*\n")


_HEAD: list[str] = []


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    if not _HEAD:
        from alembic.script import ScriptDirectory

        _HEAD.append(ScriptDirectory.from_config(_alembic_config()).get_current_head())
    return _HEAD[0]


def migrate(engine: Engine) -> None:
    """`alembic upgrade head` on the given engine, programmatically (the app does this on open).

    A database already at head is recognised with one query, without loading the migration
    environment, so opening the ledger stays cheap.
    """
    from alembic import command
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head_revision():
            return
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Ledger:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, root: Path | None = None) -> "Ledger":
        url = url or Settings.load(root).db_url
        if url.startswith("sqlite"):
            _prepare_sqlite_dir(url)
            engine = create_engine(url, connect_args={"timeout": 30})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        else:
            engine = create_engine(url, pool_pre_ping=True)
        migrate(engine)
        return cls(engine)

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any exception."""
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------- locks ---

    @contextmanager
    def lock(self, name: str, *, ttl_s: float = 600.0) -> Iterator["LockLease"]:
        lease = LockLease(self, name, ttl_s)
        lease.acquire()
        try:
            yield lease
        finally:
            lease.release()


def _owner_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LockLease:
    """A lease in the `locks` table: stale when its owner process is gone or it stopped heartbeating."""

    def __init__(self, ledger: Ledger, name: str, ttl_s: float):
        self.ledger, self.name, self.ttl_s = ledger, name, ttl_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> None:
        try:
            with self.ledger.session() as s:
                s.add(Lock(name=self.name, owner=self.owner, heartbeat=utcnow()))
            return
        except IntegrityError:
            pass
        with self.ledger.session() as s:
            row = s.get(Lock, self.name)
            if row is None:
                s.add(Lock(name=self.name, owner=self.owner, heartbeat=utcnow()))
                return
            stale = (utcnow() - row.heartbeat).total_seconds() > self.ttl_s or _owner_dead(row.owner)
            if stale:
                taken = s.execute(update(Lock).where(Lock.name == self.name, Lock.owner == row.owner)
                                  .values(owner=self.owner, heartbeat=utcnow())).rowcount
                if taken == 1:
                    return
            since = row.heartbeat.astimezone().strftime("%H:%M:%S")
            raise Busy(f"another process ({row.owner.rsplit(':', 1)[0]}) is publishing this unit "
                       f"(last sign of life {since})",
                       hint=f"wait for it to finish; a lease left by a crashed process expires after "
                            f"{int(self.ttl_s // 60)} minutes")

    def heartbeat(self) -> None:
        with self.ledger.session() as s:
            s.execute(update(Lock).where(Lock.name == self.name, Lock.owner == self.owner)
                      .values(heartbeat=utcnow()))

    def release(self) -> None:
        with self.ledger.session() as s:
            s.execute(delete(Lock).where(Lock.name == self.name, Lock.owner == self.owner))


# ------------------------------------------------------------- upserts ----

def _insert_for(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover
        raise NotImplementedError(f"the ledger supports SQLite and PostgreSQL, not {dialect}")
    return insert


def insert_ignore(session: Session, model, row: dict) -> None:
    """INSERT ... ON CONFLICT DO NOTHING."""
    session.execute(_insert_for(session)(model).values(row).on_conflict_do_nothing())


def upsert(session: Session, model, rows: list[dict], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE for SQLite and PostgreSQL."""
    if not rows:
        return
    stmt = _insert_for(session)(model).values(rows)
    columns = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in columns})
    session.execute(stmt)

