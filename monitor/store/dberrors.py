"""Database errors as the operator needs them: which database (the SQLite file, or the
PostgreSQL host, port, database and user; never the password), what went wrong, and a
hint that fits the cause (a missing directory, permissions, a read-only file system, a
file that is not a database, a lock, a full disk, a server that is down, a login that
fails, a schema that is behind).

Causes that pass by themselves (a lock, a full disk, a server restarting) become an
UnavailableError, which newsmon retries; the others a DatabaseError, which needs a fix.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from monitor.errors import DatabaseError, UnavailableError

__all__ = ["describe", "first_cause", "place", "sqlite_path", "translate"]

_NOT_A_DATABASE = ("file is not a database", "file is encrypted")
_FILE_TROUBLE = ("unable to open database file", "readonly database", "disk i/o error")
_SCHEMA_BEHIND = ("no such table", "no such column", "does not exist")  # PostgreSQL: relation
_LOGIN = ("password authentication failed", "no pg_hba.conf entry", "role ")


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser().absolute()


def place(url: URL) -> str:
    """``SQLite file /var/lib/newsmon/newsmon.db`` or ``PostgreSQL newsmon@db:5432/news``."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {sqlite_path(url) or 'in memory'}"
    host = f"{url.host or 'localhost'}:{url.port or 5432}"
    user = f"{url.username}@" if url.username else ""
    name = "PostgreSQL" if url.get_backend_name() == "postgresql" else url.get_backend_name()
    return f"{name} {user}{host}/{url.database or ''}"


def first_cause(exc: DBAPIError) -> DBAPIError:
    """The database error that started it: after SQLite's "database or disk is full" has
    rolled the transaction back, releasing a savepoint fails too, and hides the cause."""
    found, seen = exc, exc.__context__
    while seen is not None:
        if isinstance(seen, DBAPIError):
            found = seen
        seen = seen.__context__
    return found


def translate(exc: DBAPIError, url: URL) -> DatabaseError | None:
    """newsmon's error for ``exc``; None for an error the code itself handles (a unique
    key taken, say), which is raised as it is."""
    exc = first_cause(exc)
    reason = " ".join(str(exc.orig).split())[:300]
    low = reason.lower()
    is_outage = isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
    known = _NOT_A_DATABASE + _FILE_TROUBLE + _SCHEMA_BEHIND + ("locked", "busy", "full")
    if not is_outage and not any(word in low for word in known):
        return None
    return describe(reason, url, is_outage=is_outage)


def describe(reason: str, url: URL, *, is_outage: bool = True) -> DatabaseError:
    where, low, path = place(url), reason.lower(), sqlite_path(url)
    message = f"{where}: {reason}"
    if "locked" in low or "busy" in low:
        return UnavailableError(message, "another program holds a write lock; newsmon retries")
    if "full" in low:
        return UnavailableError(
            message, "free disk space for the database; newsmon retries and loses nothing"
        )
    if any(word in low for word in _NOT_A_DATABASE):
        return DatabaseError(
            f"{where} is not a SQLite database ({reason})",
            "point [database] url at newsmon's database file; a file that is something "
            "else, move away, and newsmon creates a new database there",
        )
    if path is not None and any(word in low for word in _FILE_TROUBLE):
        return _file_error(path, message)
    if any(word in low for word in _LOGIN):
        return DatabaseError(
            message,
            "check the user and password in [database] url (or ~/.pgpass) and the "
            "server's pg_hba.conf",
        )
    if "database" in low and "does not exist" in low:
        return DatabaseError(message, f"create it (createdb {url.database}), or fix [database] url")
    if any(word in low for word in _SCHEMA_BEHIND):
        return DatabaseError(message, "the schema is behind this newsmon: run `newsmon db upgrade`")
    if not is_outage:
        return DatabaseError(message, "check [database] url")
    if path is not None:
        return UnavailableError(message, "newsmon retries; check the file and its disk")
    return UnavailableError(message, "newsmon retries; check that the database server is up")


def _file_error(path: Path, message: str) -> DatabaseError:
    """Why SQLite cannot open or write ``path``, looked up on the file system."""
    folder = path.parent
    if path.is_dir():
        return DatabaseError(
            message + " (a directory)",
            f"point [database] url at a file, e.g. sqlite:///{path / 'newsmon.db'}",
        )
    if not folder.is_dir():
        return DatabaseError(
            message + f" (the directory {folder} does not exist)",
            "create it, owned by the user newsmon runs as, or fix [database] url",
        )
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return DatabaseError(
            message + f" (the file system of {folder} is read-only)",
            "put the database on a writable file system (under systemd: StateDirectory= or "
            "ReadWritePaths=)",
        )
    files = [folder, *(p for p in (path,) if p.exists())]
    if not all(os.access(p, os.R_OK | os.W_OK) for p in files):
        return DatabaseError(
            message + f" (the user {_user()} cannot read and write it)",
            f"give {_user()} read and write access to {path} and to {folder} (SQLite "
            "writes -wal and -shm files beside the database)",
        )
    return UnavailableError(message, "newsmon retries; check the disk (`dmesg`) and the file")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
