"""Migration 0015 on a database with stories and alerts: every story its own event,
claims kept, so nothing alerts again; a later report of the event joins silently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from helpers.db import migrate_to
from monitor.model import Article, Entry, Match, TextSource
from monitor.pipeline.entry import index_words
from monitor.store import entries as entry_store
from monitor.store.alerts import list_alerts
from monitor.store.db import connect
from monitor.store.entries import Outcome
from monitor.store.events import EventQuery
from monitor.stories import events

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TITLE = "Geneva talks on Ukraine end without agreement"
TEXT = (
    "Russian and US negotiators ended two days of talks in Geneva on Tuesday without an "
    "agreement, Deputy Foreign Minister Sergei Ryabkov told reporters."
)


def _fill_0014(db_url: str) -> None:
    db = connect(db_url)
    migrate_to(db, "0014_encoding")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO feeds (name, url, is_enabled, interval, created_at, "
                "next_check_at, last_status, error_count, is_backlog_absorbed) VALUES "
                "('wire', 'http://wire.invalid/feed', true, 600, :now, :now, 'ok', 0, true)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO stories (title, first_seen_at, last_seen_at) "
                "VALUES (:title, :now, :now)"
            ),
            {"title": TITLE, "now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO articles (url_key, url, title, text, text_source, created_at, "
                "story_id, revision) SELECT 'http://wire.invalid/1', 'http://wire.invalid/1', "
                ":title, :text, 'page', :now, id, 0 FROM stories"
            ),
            {"title": TITLE, "text": TEXT, "now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO alerts (article_id, story_id, feed_id, created_at, kind, "
                "watchlists) SELECT id, story_id, 1, :now, 'new', 'ukraine' FROM articles"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO story_claims (story_id, watchlist, alert_id, created_at) "
                "SELECT story_id, 'ukraine', id, :now FROM alerts"
            ),
            {"now": NOW},
        )
    db.close()


def test_upgrade_keeps_stories_claims_and_alerts(db_url: str) -> None:
    _fill_0014(db_url)
    db = connect(db_url)
    db.migrate()
    with db.engine.connect() as conn:
        story = conn.execute(text("SELECT id, event_id, reported_at FROM stories")).one()
        claim = conn.execute(text("SELECT story_id, grown_to FROM story_claims")).one()
    assert story.event_id == story.id and story.reported_at is not None
    assert tuple(claim) == (story.id, 0)
    alerts = list_alerts(db)
    assert [a.watchlists for a in alerts] == [["ukraine"]]
    assert alerts[0].story is not None and alerts[0].story.id == story.id

    # a new article with its own URL and story: a new event, so it alerts
    counts = events.terms(TITLE, TEXT, "en")
    at = NOW + timedelta(hours=1)
    query = EventQuery(
        list(counts), at, 2 * 86400.0, events.weigher(counts, at), events.picker(at, 0.225)
    )
    article = Article("http://other.invalid/2", TITLE, TEXT, TextSource.PAGE, published=at)
    outcome = Outcome(
        entry=Entry("e2", "http://other.invalid/2", TITLE, "", at),
        url_key="http://other.invalid/2",
        article=article,
        words=index_words(article),
        matches=[Match("ukraine", "Ukraine", "title", 0, 7, TITLE, "Ukraine")],
        event=query,
    )
    created = entry_store.record_entry(db, feed_id=1, outcome=outcome, now=at)
    assert len(created) == 1  # old articles have no profile: not a candidate
    assert len(list_alerts(db)) == 2
    db.close()
