"""Alembic environment for the publish ledger.

The app calls `alembic upgrade head` programmatically with an open connection
(`config.attributes["connection"]`); from a shell, `alembic -x url=sqlite:///... upgrade head`
with `script_location` pointing here works too.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from publish.models import Base

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
