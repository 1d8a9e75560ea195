"""Engine, sessions and migrations. SQLite by default (WAL), PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import DatabaseError

__all__ = ["Database", "connect", "migrations_dir", "set_foreign_keys"]


class Database:
    """An engine and its session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except OperationalError as exc:
                session.rollback()
                raise DatabaseError(f"{type(exc.orig).__name__}: {exc.orig}"[:300]) from None
            except BaseException:
                session.rollback()
                raise

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision, in this process."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir()))
        try:
            with self.engine.connect() as conn:
                set_foreign_keys(conn, is_on=False)  # SQLite batch migrations copy tables
                try:
                    with conn.begin():
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                finally:
                    set_foreign_keys(conn, is_on=True)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"migration failed: {exc}"[:400]) from None

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def set_foreign_keys(conn: Connection, *, is_on: bool) -> None:
    """SQLite: switch foreign-key enforcement, outside any transaction (no-op elsewhere)."""
    if conn.dialect.name == "sqlite":
        raw: Any = conn.connection.dbapi_connection
        raw.execute(f"PRAGMA foreign_keys={'ON' if is_on else 'OFF'}")


def migrations_dir() -> Path:
    """``alembic/`` in a checkout, ``monitor/_migrations`` in an installed wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_migrations", here.parent / "alembic"):
        if (candidate / "env.py").exists():
            return candidate
    raise DatabaseError("the migrations folder is missing", "reinstall newsmon")


def connect(url: str) -> Database:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"not a database URL: {url!r}",
            "use sqlite:///path/to/newsmon.db or postgresql+psycopg://user@host/db",
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    elif parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(
            f"no driver for {parsed.drivername}: {exc}", "pip install 'newsmon[postgres]'"
        ) from None
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return Database(engine)


def _tune_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so writers queue, not fail."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
