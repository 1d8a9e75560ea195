"""The databases every database test runs on: SQLite always, PostgreSQL when
NEWSMON_TEST_DATABASE_URL is set (one database per pytest-xdist worker)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, make_url, text

from monitor.store.db import Database, migrations_dir, set_foreign_keys
from monitor.store.tables import Base


def _worker_database(url: str | None) -> str | None:
    """With pytest-xdist, each worker gets a PostgreSQL database of its own (made here)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


PG_URL = _worker_database(os.environ.get("NEWSMON_TEST_DATABASE_URL"))

# the databases every database test runs on (fixtures' ``params``)
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="set NEWSMON_TEST_DATABASE_URL to also run on PostgreSQL"
        ),
    ),
]


def reset_postgres(url: str) -> None:
    """Drop every table newsmon made, so the next test starts from an empty database."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS search_index"))  # not a model: see store/search
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def migrate_to(db: Database, revision: str, *, is_down: bool = False) -> None:
    """Move the schema to ``revision`` (alembic's upgrade, or downgrade), run as
    Database.migrate runs alembic."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with db.engine.connect() as conn:
        set_foreign_keys(conn, is_on=False)  # SQLite batch migrations copy tables
        with conn.begin():
            cfg.attributes["connection"] = conn
            (command.downgrade if is_down else command.upgrade)(cfg, revision)
        set_foreign_keys(conn, is_on=True)
