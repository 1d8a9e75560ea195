"""SQLite writers of one process take turns on a lock of their own (monitor.store.db):
many threads writing at once all commit, and a turn that does not come in time is a
clear, retryable error rather than a hang."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.errors import UnavailableError
from monitor.store import db as db_module
from monitor.store.db import connect
from monitor.store.feeds import add_feed
from monitor.store.tables import Feed

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_threads_writing_at_once_all_commit(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path / 'n.db'}")
    db.migrate()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(thread: int) -> None:
        try:
            start.wait(timeout=30)
            for n in range(40):
                add_feed(db, f"t{thread}-{n}", f"http://t{thread}.invalid/{n}", NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Feed)) == 8 * 40
    db.close()


def test_a_write_turn_that_does_not_come_is_an_error_then_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "_BUSY_SECONDS", 0.2)
    db = connect(f"sqlite:///{tmp_path / 'n.db'}")
    db.migrate()
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.session() as s:
            s.execute(select(1))
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)
    with pytest.raises(UnavailableError, match="no write turn within") as caught:
        add_feed(db, "late", "http://late.invalid/", NOW)
    assert "retries" in (caught.value.hint or "")
    release.set()
    holder.join(30)
    add_feed(db, "late", "http://late.invalid/", NOW + timedelta(seconds=1))  # its turn now
    with db.session() as s:
        assert s.scalar(select(Feed.name)) == "late"
    db.close()


def test_read_only_connections_take_no_turn(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    writer = connect(f"sqlite:///{path}")
    writer.migrate()
    add_feed(writer, "one", "http://one.invalid/", NOW)
    reader = connect(f"sqlite:///{path}", is_read_only=True)
    with writer.session() as s:  # a writer's turn is held while the reader reads
        s.execute(select(1))
        with reader.session() as r:
            assert r.scalar(select(Feed.name)) == "one"
    reader.close()
    writer.close()
