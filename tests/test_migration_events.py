"""Migration 0015 on a database with stories and alerts: every story its own event,
claims kept, so nothing alerts again; every row of a 0014 history (copies, near-duplicate
keys, claims, matches, deliveries sent and pending) comes through the upgrade as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

from helpers.db import migrate_to
from monitor.model import Article, Entry, Match, TextSource
from monitor.pipeline.entry import index_words
from monitor.store import entries as entry_store
from monitor.store.alerts import list_alerts
from monitor.store.db import connect
from monitor.store.entries import Outcome
from monitor.store.events import EventQuery
from monitor.store.stories import Identity
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


# what a 0014 database of a running daemon holds, table by table, as plain rows
HISTORY = {
    "feeds": [
        {"id": 1, "name": "wire", "url": "http://wire.invalid/feed"},
        {"id": 2, "name": "daily", "url": "http://daily.invalid/feed"},
    ],
    "stories": [
        {"id": 1, "title": TITLE, "first_seen_at": NOW, "last_seen_at": NOW + timedelta(hours=2)},
        {"id": 2, "title": "Harbour strike ends", "first_seen_at": NOW, "last_seen_at": NOW},
        {"id": 3, "title": "Weather", "first_seen_at": NOW, "last_seen_at": NOW},
    ],
    "articles": [  # article 2 is the daily's copy of the wire's article 1
        {"id": 1, "url_key": "http://wire.invalid/1", "story_id": 1, "title": TITLE},
        {"id": 2, "url_key": "http://daily.invalid/9", "story_id": 1, "title": TITLE},
        {"id": 3, "url_key": "http://wire.invalid/2", "story_id": 2, "title": "Harbour"},
        {"id": 4, "url_key": "http://wire.invalid/3", "story_id": 3, "title": "Weather"},
    ],
    "entries": [
        {"id": n, "feed_id": 2 if n == 2 else 1, "key": f"g{n}", "article_id": n, "title": "t"}
        for n in (1, 2, 3, 4)
    ],
    "story_keys": [{"key": k, "article_id": a} for a in (1, 2) for k in (11, 12, 13)],
    "alerts": [
        {"id": 1, "article_id": 1, "story_id": 1, "feed_id": 1, "watchlists": "ukraine"},
        {"id": 2, "article_id": 3, "story_id": 2, "feed_id": 1, "watchlists": "harbour"},
    ],
    "story_claims": [
        {"story_id": 1, "watchlist": "ukraine", "alert_id": 1},
        {"story_id": 2, "watchlist": "harbour", "alert_id": 2},
    ],
    "matches": [
        {"id": 1, "alert_id": 1, "watchlist": "ukraine", "term": "Ukraine", "snippet": "s"},
        {"id": 2, "alert_id": 2, "watchlist": "harbour", "term": "harbour", "snippet": "s"},
    ],
    "deliveries": [
        {"id": 1, "alert_id": 1, "channel": "chat", "status": "sent", "sent_at": NOW},
        {"id": 2, "alert_id": 2, "channel": "chat", "status": "pending", "sent_at": None},
    ],
}
DEFAULTS = {  # the columns every row of a table needs besides its own
    "feeds": {"is_enabled": True, "interval": 600, "created_at": NOW, "next_check_at": NOW}
    | {"last_status": "ok", "error_count": 0, "is_backlog_absorbed": True},
    "articles": {"url": None, "text": TEXT, "text_source": "page", "created_at": NOW}
    | {"revision": 0},
    "entries": {"seen_at": NOW, "is_backlog": False},
    "alerts": {"created_at": NOW, "kind": "new"},
    "story_claims": {"created_at": NOW},
    "matches": {"field": "text", "start": 0, "end": 4, "found": "x"},
    "deliveries": {"attempts": 1, "created_at": NOW, "next_attempt_at": NOW},
}


def _rows(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every table of HISTORY, its columns there, in key order."""
    found = {}
    for table, rows in HISTORY.items():
        columns = ", ".join(f'"{c}"' for c in rows[0])
        found[table] = [
            tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM {table} ORDER BY 1, 2"))
        ]
    return found


def test_upgrade_keeps_a_history_of_copies_claims_matches_and_deliveries(db_url: str) -> None:
    db = connect(db_url)
    migrate_to(db, "0014_encoding")
    with db.engine.begin() as conn:
        for table, rows in HISTORY.items():
            full = [DEFAULTS.get(table, {}) | row for row in rows]
            columns = list(full[0])
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join(f":{c}" for c in columns)
            conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), full)
        if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for table in ("feeds", "stories", "articles", "entries", "alerts", "matches"):
                conn.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
        before = _rows(conn)
    db.close()

    db = connect(db_url)
    db.migrate()
    with db.engine.connect() as conn:
        assert _rows(conn) == before  # every row of every table, as it was
        stories = conn.execute(
            text("SELECT id, event_id, reported_at, last_seen_at FROM stories ORDER BY id")
        ).all()
        grown = conn.execute(text("SELECT grown_to FROM story_claims")).scalars().all()
    assert [s.event_id for s in stories] == [1, 2, 3]  # each story an event of its own
    assert [s.reported_at for s in stories] == [s.last_seen_at for s in stories]
    assert grown == [0, 0]
    alerts = {a.id: a for a in list_alerts(db)}
    assert alerts[1].story is not None and len(alerts[1].story.members) == 2  # both copies
    assert [m.term for m in alerts[1].matches] == ["Ukraine"]
    assert [d.status for d in alerts[2].deliveries] == ["pending"]

    # an AMP page of the wire's article, naming it as canonical: a member of the old
    # story, whose claim stops it alerting again
    at = NOW + timedelta(hours=3)
    counts = events.terms(TITLE, TEXT, "en")
    amp = "http://wire.invalid/amp/1"
    article = Article(amp, TITLE, TEXT, TextSource.PAGE, published=at)
    outcome = Outcome(
        entry=Entry("amp-1", amp, TITLE, "", at),
        url_key=amp,
        article=article,
        words=index_words(article),
        matches=[Match("ukraine", "Ukraine", "title", 0, 7, TITLE, "Ukraine")],
        identity=Identity("http://wire.invalid/1", [], lambda found: None, NOW),
        event=EventQuery(
            list(counts), at, 2 * 86400.0, events.weigher(counts, at), events.picker(at, 0.225)
        ),
    )
    assert entry_store.record_entry(db, feed_id=2, outcome=outcome, now=at) == []
    assert len(list_alerts(db)) == 2
    story = {a.id: a for a in list_alerts(db)}[1].story
    assert story is not None and len(story.members) == 3  # the AMP page joined it
    db.close()
