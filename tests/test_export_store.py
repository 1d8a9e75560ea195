"""iter_alerts: keyset pages in the order of the alert listing, ties included, filters,
and memory that stays flat however many alerts are exported."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from monitor.config.settings import Settings
from monitor.history.atom import FeedInfo
from monitor.history.export import write_export
from monitor.pipeline.polls import sync_feeds
from monitor.store.alerts import list_alerts
from monitor.store.db import Database, connect
from monitor.store.export import count_alerts, iter_alerts
from monitor.store.tables import Alert, Article, MatchRow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TIE = NOW - timedelta(hours=1)


def seeded(db_url: str, count: int, *, tied: int = 0) -> Database:
    """``count`` alerts, one a minute back from NOW; the ``tied`` newest share one time.
    Every third alert is for the watchlist "even", the rest for "odd"."""
    db = connect(db_url)
    db.migrate()
    settings = Settings.model_validate({"feed": [{"name": "f", "url": "http://127.0.0.1/f.xml"}]})
    sync_feeds(db, settings, NOW)
    times = [TIE if i < tied else NOW - timedelta(minutes=i + 61) for i in range(count)]
    with db.session() as s:
        s.execute(
            insert(Article),
            [
                {
                    "id": i + 1,
                    "url_key": f"127.0.0.1/{i}",
                    "url": f"http://127.0.0.1/{i}",
                    "title": f"Story {i} " + "x" * 2000,
                    "text": "Ryabkov met the OSCE. " * 20,
                    "text_source": "page",
                    "created_at": times[i],
                }
                for i in range(count)
            ],
        )
        s.execute(
            insert(Alert),
            [
                {"id": i + 1, "article_id": i + 1, "feed_id": 1, "created_at": times[i]}
                | {"kind": "new", "watchlists": "even" if i % 3 == 0 else "odd"}
                for i in range(count)
            ],
        )
        s.execute(
            insert(MatchRow),
            [
                {"alert_id": i + 1, "watchlist": "even" if i % 3 == 0 else "odd"}
                | {"term": "Ryabkov", "field": "text", "start": 0, "end": 7}
                | {"snippet": "Ryabkov met the OSCE.", "found": "Ryabkov"}
                for i in range(count)
            ],
        )
    return db


@pytest.fixture
def opened() -> Iterator[list[Database]]:
    """Databases a test opens, closed after it (a PostgreSQL pool left to the garbage
    collector would warn in a later test)."""
    found: list[Database] = []
    yield found
    for db in found:
        db.close()


def test_pages_follow_the_listing_order_through_ties(db_url: str, opened: list[Database]) -> None:
    db = seeded(db_url, 23, tied=12)
    opened.append(db)
    listed = [a.id for a in list_alerts(db, limit=100)]
    assert listed[:12] == list(range(12, 0, -1))  # the tied ones, newest id first
    for batch in (1, 5, 12, 23, 100):
        assert [r.id for r in iter_alerts(db, batch=batch)] == listed, batch
    assert [r.id for r in iter_alerts(db, batch=3, limit=7)] == listed[:7]
    even = [r.id for r in iter_alerts(db, watchlist="even", batch=2)]
    assert even == [a.id for a in list_alerts(db, watchlist="even", limit=100)] and len(even) == 8
    since = NOW - timedelta(minutes=80)
    recent = [r.id for r in iter_alerts(db, since=since, batch=4)]
    assert recent == [a.id for a in list_alerts(db, since=since, limit=100)] and len(recent) == 20
    assert count_alerts(db) == 23 and count_alerts(db, watchlist="even", since=since) == 7
    first = next(iter_alerts(db))
    assert first.watchlists == ("odd",) and first.terms == ("Ryabkov",) and first.feed == "f"
    assert first.source == "127.0.0.1" and first.snippet == "Ryabkov met the OSCE."


def _peak(db: Database, limit: int, target: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        with target.open("w", encoding="utf-8") as out:
            rows = iter_alerts(db, limit=limit, batch=25)
            assert write_export("json", rows, out, FeedInfo("t", "example.org,2026"), NOW) == limit
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_export_grows(
    db_url: str, tmp_path: Path, opened: list[Database]
) -> None:
    db = seeded(db_url, 400)
    opened.append(db)
    _peak(db, 200, tmp_path / "warm.json")  # statement caches, prepared statements
    small = _peak(db, 40, tmp_path / "small.json")
    large = _peak(db, 400, tmp_path / "large.json")
    size = (tmp_path / "large.json").stat().st_size
    assert size > 800_000
    # holding the rows would cost more than their JSON; streaming costs a little per page
    assert large - small < size / 4, (small, large, size)
