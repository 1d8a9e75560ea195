"""Migration 0002 on a database that already has alerts: nothing alerts again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from helpers.db import migrate_to
from monitor.model import Article, Entry, Match, TextSource
from monitor.pipeline.entry import index_words
from monitor.store import entries as entry_store
from monitor.store.alerts import list_alerts
from monitor.store.db import connect
from monitor.store.entries import Outcome, find_article


def test_upgrade_gives_old_alerts_their_stories_and_claims(db_url: str) -> None:
    db = connect(db_url)
    migrate_to(db, "0001")
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO feeds (name, url, is_enabled, interval, created_at, "
                "next_check_at, last_status, error_count, is_backlog_absorbed) VALUES "
                "('wire', 'http://wire.invalid/feed', true, 600, :now, :now, 'ok', 0, true)"
            ),
            {"now": now},
        )
        for n, watchlist in ((1, "osce"), (2, "nato")):
            conn.execute(
                text(
                    "INSERT INTO articles (url_key, url, title, text, text_source, "
                    "created_at) VALUES (:key, :url, :title, 'old text', 'page', :now)"
                ),
                {
                    "key": f"http://wire.invalid/{n}",
                    "url": f"http://wire.invalid/{n}",
                    "title": f"Old {n}",
                    "now": now,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO alerts (article_id, feed_id, created_at) "
                    "SELECT id, 1, :now FROM articles WHERE url_key = :key"
                ),
                {"key": f"http://wire.invalid/{n}", "now": now},
            )
            conn.execute(
                text(
                    'INSERT INTO matches (alert_id, watchlist, term, field, start, "end", '
                    "snippet, found) SELECT a.id, :w, :term, 'text', 0, 4, 's', :found "
                    "FROM alerts a JOIN articles r ON r.id = a.article_id WHERE r.url_key = :key"
                ),
                {
                    "w": watchlist,
                    "term": watchlist,
                    "found": watchlist,
                    "key": f"http://wire.invalid/{n}",
                },
            )
    db.migrate()

    alerts = {a.id: a for a in list_alerts(db)}
    assert {i: a.watchlists for i, a in alerts.items()} == {1: ["osce"], 2: ["nato"]}
    assert alerts[1].story is not None and alerts[2].story is not None
    assert alerts[1].story.id != alerts[2].story.id
    assert [m.title for m in alerts[1].story.members] == ["Old 1"]

    # the old article is edited and now also matches nato: only nato alerts
    known = find_article(db, "http://wire.invalid/1")
    assert known is not None and known.story_id == alerts[1].story.id
    edited = Article("http://wire.invalid/1", "Old 1, updated", "new text", TextSource.PAGE)
    outcome = Outcome(
        entry=Entry("e1", "http://wire.invalid/1", "Old 1, updated", "", None),
        url_key="http://wire.invalid/1",
        article=edited,
        words=index_words(edited, known),
        matches=[
            Match("osce", "OSCE", "text", 0, 4, "s", "OSCE"),
            Match("nato", "NATO", "text", 5, 9, "s", "NATO"),
        ],
        routes={"osce": ["desk"], "nato": ["desk"]},
        known=known,
    )
    new = entry_store.record_entry(db, feed_id=1, outcome=outcome, now=datetime.now(UTC))
    assert len(new) == 1
    assert list_alerts(db)[0].watchlists == ["nato"]

    # and a new story gets an id past the backfilled ones (PostgreSQL sequence moved on)
    new = Article("http://wire.invalid/3", "New", "other text", TextSource.PAGE)
    fresh = Outcome(
        entry=Entry("e3", "http://wire.invalid/3", "New", "", None),
        url_key="http://wire.invalid/3",
        article=new,
        words=index_words(new),
        matches=[Match("osce", "OSCE", "text", 0, 4, "s", "OSCE")],
    )
    assert len(entry_store.record_entry(db, feed_id=1, outcome=fresh, now=datetime.now(UTC))) == 1

    migrate_to(db, "0001", is_down=True)  # and back: one alert per article again
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alerts")).scalar_one() == 3
    db.close()
