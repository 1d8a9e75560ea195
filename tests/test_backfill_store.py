"""record_backfill: one transaction per article; new alert, added matches, no duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from monitor.config.settings import Settings
from monitor.model import Article, Entry, Match, TextSource
from monitor.pipeline.entry import index_words
from monitor.pipeline.polls import sync_feeds
from monitor.store import entries as entry_store
from monitor.store.alerts import get_alert
from monitor.store.backfill import count_articles, read_articles, record_backfill
from monitor.store.db import Database, connect
from monitor.store.tables import Delivery

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def database(db_url: str) -> Database:
    db = connect(db_url)
    db.migrate()
    settings = Settings.model_validate({"feed": [{"name": "f", "url": "http://127.0.0.1/f.xml"}]})
    sync_feeds(db, settings, NOW)
    return db


def store_article(db: Database, key: str, matches: list[Match]) -> int:
    entry = Entry(key=key, link=f"http://127.0.0.1/{key}", title=key, summary="", published=None)
    article = Article(entry.link, key, "Ryabkov met the OSCE.", TextSource.PAGE)
    outcome = entry_store.Outcome(
        entry=entry,
        url_key=f"127.0.0.1/{key}",
        article=article,
        matches=matches,
        routes={m.watchlist: ["desk"] for m in matches},
        words=index_words(article),
    )
    entry_store.record_entry(db, feed_id=1, outcome=outcome, now=NOW)
    (stored,) = [a for a in read_articles(db) if a.article.title == key]
    return stored.id


def hit(watchlist: str, start: int) -> Match:
    return Match(watchlist, "Ryabkov", "text", start, start + 7, "Ryabkov met the OSCE.", "Ryabkov")


def deliveries(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count(Delivery.id))) or 0)


def test_new_alert_without_outbox_rows_unless_notify(db_url: str) -> None:
    db = database(db_url)
    quiet = store_article(db, "quiet", [])
    loud = store_article(db, "loud", [])
    assert count_articles(db) == 2 and deliveries(db) == 0
    done = record_backfill(db, quiet, [hit("ryabkov", 0)], ["desk"], False, NOW)
    assert done is not None and done.is_new_alert and done.added == 1 and done.queued == 0
    alert = get_alert(db, done.alert_id)
    assert (
        alert is not None
        and alert.feed == "f"
        and [m.watchlist for m in alert.matches] == ["ryabkov"]
    )
    assert deliveries(db) == 0
    done = record_backfill(db, loud, [hit("ryabkov", 0)], ["desk", "chat"], True, NOW)
    assert done is not None and done.queued == 2 and deliveries(db) == 2
    db.close()


def test_a_story_alerts_each_watchlist_once(db_url: str) -> None:
    db = database(db_url)
    article_id = store_article(db, "seen", [hit("osce", 16)])
    assert deliveries(db) == 1  # the daemon's own alert, routed to desk
    first = record_backfill(db, article_id, [hit("ryabkov", 0)], ["desk", "chat"], False, NOW)
    assert first is not None and first.is_new_alert and first.added == 1 and first.queued == 0
    # the story has alerted both watchlists now: a second run, even notifying, adds nothing
    assert record_backfill(db, article_id, [hit("ryabkov", 0)], ["desk"], True, NOW) is None
    assert record_backfill(db, article_id, [hit("osce", 16)], ["desk"], True, NOW) is None
    alert = get_alert(db, first.alert_id)
    assert alert is not None and [m.watchlist for m in alert.matches] == ["ryabkov"]
    assert deliveries(db) == 1
    assert record_backfill(db, article_id, [], ["desk"], True, NOW) is None
    db.close()


def test_read_articles_pages_and_filters_by_time(db_url: str) -> None:
    db = database(db_url)
    ids = [store_article(db, f"a{i}", []) for i in range(5)]
    pages = []
    last = 0
    while batch := read_articles(db, after_id=last, limit=2):
        pages.append([a.id for a in batch])
        last = batch[-1].id
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]
    assert read_articles(db, since=datetime(2030, 1, 1, tzinfo=UTC)) == []
    assert count_articles(db, datetime(2000, 1, 1, tzinfo=UTC)) == 5
    db.close()
