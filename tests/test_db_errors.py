"""A database newsmon cannot use: the error names the SQLite file (or the PostgreSQL
server, database and user, never the password) and the hint fits the cause. Through the
real command line, on real files and a real port with nothing listening."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import make_url

from helpers.db import PG_URL
from helpers.servers import free_port
from monitor.cli import cli


def run(tmp_path: Path, url: str, *args: str) -> tuple[int, str]:
    config = tmp_path / "newsmon.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def _garbage(path: Path) -> Path:
    path.write_bytes(b"these bytes are not SQLite's" * 200)
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


def _under_a_file(path: Path) -> Path:
    (path.parent / "plain").write_text("x")
    return path.parent / "plain" / "newsmon.db"


def _newer_schema(path: Path) -> Path:
    assert run(path.parent, f"sqlite:///{path}", "db", "upgrade")[0] == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_future'")
    return path


def _unreadable(path: Path) -> Path:
    assert run(path.parent, f"sqlite:///{path}", "db", "upgrade")[0] == 0
    path.chmod(0)
    return path


SQLITE_CASES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    # how the file is spoilt, words of the message, words of the hint
    "not-a-database": (_garbage, "is not a SQLite database", "point [database] url"),
    "a-directory": (_directory, "(a directory)", "point [database] url at a file"),
    "directory-cannot-be-made": (_under_a_file, "cannot create its directory", "create"),
    "newer-schema": (_newer_schema, "0099_future", "a newer newsmon"),
    "unreadable": (_unreadable, "cannot read and write it", "read and write access"),
}


@pytest.mark.parametrize("case", list(SQLITE_CASES), ids=list(SQLITE_CASES))
@pytest.mark.parametrize(
    "command", [["alerts", "list"], ["db", "upgrade"], ["feeds", "list"]], ids=str
)
def test_a_sqlite_file_newsmon_cannot_use_is_named_with_a_fitting_hint(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    spoil, words, hint = SQLITE_CASES[case]
    if case == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads and writes any file")
    path = spoil(tmp_path / "newsmon.db")
    code, err = run(tmp_path, f"sqlite:///{path}", *command)
    assert code == 1
    first, second = err.splitlines()[:2]
    assert first.startswith(f"error: database: SQLite file {path}") and words in first
    assert second.startswith("hint: ") and hint in second
    assert "server" not in err  # SQLite has none to check


def test_a_postgresql_server_that_is_down_is_named_without_the_password(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://newsmon:Hunter2Secret@127.0.0.1:{port}/news"
    code, err = run(tmp_path, url, "alerts", "list")
    assert code == 1
    assert f"error: database: PostgreSQL newsmon@127.0.0.1:{port}/news: " in err
    assert "hint: newsmon retries; check that the database server is up" in err
    assert "Hunter2Secret" not in err


@pytest.mark.skipif(
    PG_URL is None, reason="set NEWSMON_TEST_DATABASE_URL to also run on PostgreSQL"
)
@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"database": "newsmon_no_such_database"}, "createdb newsmon_no_such_database"),
        ({"username": "newsmon_no_such_role"}, "user and password"),
    ],
    ids=["no-database", "no-role"],
)
def test_a_postgresql_login_that_fails_gets_a_fitting_hint(
    tmp_path: Path, change: dict[str, str], hint: str
) -> None:
    assert PG_URL is not None
    url = make_url(PG_URL).set(**change)  # type: ignore[arg-type]
    code, err = run(tmp_path, url.render_as_string(hide_password=False), "alerts", "list")
    assert code == 1
    assert f"PostgreSQL {url.username}@{url.host}:{url.port or 5432}/{url.database}" in err
    assert hint in err and "retries" not in err


@pytest.mark.parametrize("how", ["session", "connection"])
def test_core_reads_and_sessions_name_a_server_that_is_down_alike(how: str) -> None:
    from sqlalchemy import text

    from monitor.errors import DatabaseError
    from monitor.store.db import connect

    port = free_port()
    db = connect(f"postgresql://newsmon:Hunter2Secret@127.0.0.1:{port}/news", is_read_only=True)
    opened = db.session() if how == "session" else db.connection()
    with pytest.raises(DatabaseError) as caught, opened as tx:
        tx.execute(text("SELECT 1"))
    db.close()
    assert f"PostgreSQL newsmon@127.0.0.1:{port}/news" in str(caught.value)
    assert "retries" in caught.value.hint and "Hunter2Secret" not in str(caught.value)
