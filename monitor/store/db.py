"""Engine, sessions and migrations. SQLite by default (WAL), PostgreSQL by URL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from monitor.errors import DatabaseError, UnavailableError
from monitor.store.dberrors import describe, place, sqlite_path, translate

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "connect", "insert_for", "migrations_dir", "set_foreign_keys"]

_SETUP_LOCK_KEY = 0x6E65777373657475  # "newssetu": migrations and the feed sync
# the newest migration (tests/test_schema.py checks it against alembic/versions): a
# database already there is recognised without importing alembic
SCHEMA_HEAD = "0018_rhythm_basis"
_BUSY_SECONDS = 30.0  # how long a SQLite writer waits for its turn (also busy_timeout)


class Database:
    """An engine and its session factory (made on first use: a command that reads with
    ``connection()`` alone never imports the ORM, and starts sooner).

    SQLite allows one writer at a time; a writer that finds the lock taken sleeps in
    SQLite's busy handler (1, 2, 5, 10 ms and longer) before it tries again. The
    threads of one process therefore take turns on a lock of their own first, which
    wakes the next one as soon as the last commits; other processes still meet at
    SQLite's lock, with its busy timeout."""

    def __init__(self, engine: Engine, *, is_writing: bool = True) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] | None = None
        is_sqlite = engine.dialect.name == "sqlite"
        self._writer = threading.RLock() if is_sqlite and is_writing else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        A database that is down, restarting, locked or full raises DatabaseError; the
        transaction is rolled back, so nothing is half-stored, and the pool replaces
        broken connections (PostgreSQL: checked before use)."""
        with self._turn(), self._transaction() as session:
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection in one transaction, for statements on the tables of
        monitor/store/schema.py; committed, rolled back and translated as ``session``."""
        with self._turn():
            try:
                with self.engine.connect() as conn, conn.begin():
                    yield conn
            except DBAPIError as exc:
                error = translate(exc, self.engine.url)
                if error is not None:
                    raise error from None
                raise

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn to write to SQLite (see the class); nothing elsewhere."""
        if self._writer is None:
            yield
            return
        if not self._writer.acquire(timeout=_BUSY_SECONDS):
            raise UnavailableError(
                f"{place(self.engine.url)} is locked: no write turn within {_BUSY_SECONDS:.0f} s",
                "another part of newsmon holds a long write; newsmon retries",
            )
        try:
            yield
        finally:
            self._writer.release()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        if self._sessions is None:
            from sqlalchemy.orm import sessionmaker

            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except DBAPIError as exc:
                _quiet_rollback(session)
                error = translate(exc, self.engine.url)
                if error is not None:
                    raise error from None
                raise
            except BaseException:
                _quiet_rollback(session)
                raise

    def lock_setup(self, tx: Session | Connection) -> None:
        """Serialise set-up (migrations, the feed sync) among instances that start at
        once on one PostgreSQL database, until ``tx`` ends. SQLite: its write
        transactions are serialised already."""
        if self.engine.dialect.name == "postgresql":
            tx.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK_KEY})

    def migrate(self) -> list[str]:
        """Upgrade the schema to the newest revision (``SCHEMA_HEAD``), in this process;
        return the revisions the database was at before (none: the schema was created).

        Nothing is written (no write lock taken) when the schema is already current,
        so a command that only reads never waits for the daemon's writes."""
        if self._is_current():
            return [SCHEMA_HEAD]
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir()))
        try:
            heads = set(ScriptDirectory.from_config(cfg).get_heads())
            with self.engine.connect() as conn:
                before = sorted(MigrationContext.configure(conn).get_current_heads())
            if set(before) == heads:
                return before
            with self.engine.connect() as conn:
                set_foreign_keys(conn, is_on=False)  # SQLite batch migrations copy tables
                try:
                    with conn.begin():
                        self.lock_setup(conn)  # another instance may be migrating now
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                finally:
                    set_foreign_keys(conn, is_on=True)
        except DBAPIError as exc:
            error = translate(exc, self.engine.url)
            raise error or self._failed("migration failed", exc) from None
        except (SQLAlchemyError, CommandError) as exc:  # alembic: a revision it does not know
            raise self._failed("migration failed", exc) from None
        return before

    def _is_current(self) -> bool:
        """Whether the database is at ``SCHEMA_HEAD``: one read, no alembic."""
        try:
            with self.engine.connect() as conn:
                found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
                return list(found) == [SCHEMA_HEAD]
        except SQLAlchemyError:  # no table yet, or the database is down: the long way
            return False

    def schema_revisions(self) -> tuple[list[str], list[str]]:
        """(the database's revisions, the newest ones this newsmon knows); reads only."""
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir()))
        heads = sorted(ScriptDirectory.from_config(cfg).get_heads())
        try:
            with self.engine.connect() as conn:
                current = sorted(MigrationContext.configure(conn).get_current_heads())
        except DBAPIError as exc:
            error = translate(exc, self.engine.url)
            raise error or self._failed("cannot read the schema version", exc) from None
        except SQLAlchemyError as exc:
            raise self._failed("cannot read the schema version", exc) from None
        return current, heads

    def _failed(self, what: str, exc: Exception) -> DatabaseError:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        if "can't locate revision" in reason.lower():
            return DatabaseError(
                f"{place(self.engine.url)}: {what}: {reason}",
                "the database was upgraded by a newer newsmon: run that version, or point "
                "[database] url at another database",
            )
        return describe(f"{what}: {reason}", self.engine.url, is_outage=False)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def _quiet_rollback(session: Session) -> None:
    with suppress(SQLAlchemyError):  # the connection is gone; the pool discards it
        session.rollback()


@lru_cache(maxsize=2)
def insert_for(dialect: str) -> Callable[..., Any]:
    """The ``insert`` of this dialect (``sqlite`` or ``postgresql``), which has ON CONFLICT.

    Only that dialect's module is imported, when first asked for: PostgreSQL's imports
    the modules of all its drivers (asyncpg, pg8000, psycopg: 85 ms of CPU), which a
    poll on SQLite does without."""
    name = "postgresql" if dialect == "postgresql" else "sqlite"
    made: Callable[..., Any] = import_module(f"sqlalchemy.dialects.{name}").insert
    return made


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


def connect(url: str, *, is_read_only: bool = False, must_exist: bool = False) -> Database:
    """An engine for ``url``. ``is_read_only``: SQLite transactions start deferred, so
    reading never waits for a writer (WAL lets readers and one writer work at once).
    ``must_exist``: a SQLite file that is not there is an error, not created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"not a database URL: {url!r}",
            "use sqlite:///path/to/newsmon.db or postgresql+psycopg://user@host/db",
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)  # None in memory
        if path is not None:
            if must_exist and not path.is_file():
                raise UnavailableError(
                    f"no database file at {path}",
                    "start the daemon, or run `newsmon db upgrade`, to create it",
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"SQLite file {path}: cannot create its directory: {exc.strerror}",
                    "create the directory, owned by the user newsmon runs as, or fix "
                    "[database] url",
                ) from None
        kwargs["connect_args"] = {"timeout": _BUSY_SECONDS, "check_same_thread": False}
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
        _tune_sqlite(engine, is_read_only=is_read_only)
    return Database(engine, is_writing=not is_read_only)


def _tune_sqlite(engine: Engine, *, is_read_only: bool) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so writers queue, not fail
    (readers begin deferred: they never queue behind a writer)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_SECONDS * 1000:.0f}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if is_read_only else "BEGIN IMMEDIATE")
