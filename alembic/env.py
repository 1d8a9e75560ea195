"""Alembic environment.

The daemon and the tests hand in a connection; `alembic` by hand builds one from the URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from monitor.store.search import TABLE as SEARCH_TABLE
from monitor.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _is_modelled(name: str | None, type_: str, _parents: object) -> bool:
    """The full-text index differs by database and is not a model: leave it (and SQLite's
    FTS5 tables behind it) out of the comparison."""
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_TABLE))


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=_is_modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("NEWSMON_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(str(url))
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
