"""The full-text index follows the articles: new ones, edits, migration 0010 over stored
articles (in batches), and ``db reindex``; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import Settings
from monitor.fts import Word, all_of
from monitor.model import Article, Entry, TextSource
from monitor.search import Request, run
from monitor.store import entries as entry_store
from monitor.store import search
from monitor.store.db import Database, connect, migrations_dir
from monitor.store.feeds import sync_feeds

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TEXTS = {
    "three": "Three men were arrested after the convoy raid near the border crossing.",
    "ferry": "Ферри: забастовка паромщиков продолжается, сообщает ОБСЕ.",
    "nato": "Außenminister der NATO beraten über die Ukraine-Hilfe.",
}


def database(db_url: str) -> Database:
    db = connect(db_url)
    db.migrate()
    settings = Settings.model_validate({"feed": [{"name": "f", "url": "http://127.0.0.1/f.xml"}]})
    sync_feeds(db, settings, NOW)
    return db


def store(
    db: Database,
    key: str,
    title: str,
    text: str,
    known: entry_store.KnownArticle | None = None,
    now: datetime = NOW,
) -> None:
    entry = Entry(key=key, link=f"http://127.0.0.1/{key}", title=title, summary="", published=None)
    article = Article(entry.link, title, text, TextSource.PAGE, sitename="Demo Wire")
    outcome = entry_store.Outcome(
        entry=entry,
        url_key=f"127.0.0.1/{key}",
        article=article,
        known=known,
        is_edited_entry=known is not None,
    )
    entry_store.record_entry(db, feed_id=1, outcome=outcome, now=now)


def indexed_under(db: Database, *words: str) -> list[int]:
    """The articles the index lists under all these words (no other filter)."""
    with db.session() as s:
        match = search.resolve(s, all_of(Word(w) for w in words))
        return search.candidates(
            s, match, search.Filters(is_alerted=False), before=None, floor=None, limit=100
        )


def test_new_and_edited_articles_are_indexed(db_url: str) -> None:
    db = database(db_url)
    for key, text in TEXTS.items():
        store(db, key, key.title(), text)
    assert indexed_under(db, "arrested", "convoy") == [1]
    assert indexed_under(db, "обсе") == [2]
    assert indexed_under(db, "aussenminister", "ukraine") == [3]  # ß casefolds to ss
    assert indexed_under(db, "demo", "wire") == [3, 2, 1]  # the source is indexed too

    known = entry_store.find_article(db, "127.0.0.1/three")
    assert known is not None
    store(db, "three", "Four arrests", "Four men were detained after the convoy raid.", known)
    assert indexed_under(db, "detained") == [1]
    assert indexed_under(db, "arrested") == []  # the old words are gone
    assert indexed_under(db, "convoy") == [1]  # and the words both versions have stay
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 0)"
            )
    db.close()


def test_stored_times_rise_with_article_ids(db_url: str) -> None:
    """A worker that read its clock before another but stores after it (feeds are read in
    parallel) stores its article at the other's time: --since finds both."""
    db = database(db_url)
    store(db, "three", "Three", TEXTS["three"], now=NOW)
    store(db, "ferry", "Ferry", TEXTS["ferry"], now=NOW - timedelta(seconds=1))
    page = run(db, Request("Three OR Ферри", is_alerted=False, since=NOW, seconds=600))
    assert [(r.stored.id, r.stored.stored_at) for r in page.results] == [(2, NOW), (1, NOW)]
    db.close()


def test_the_migration_and_reindex_index_stored_articles(db_url: str, tmp_path: Path) -> None:
    db = database(db_url)
    for key, text in TEXTS.items():
        store(db, key, key.title(), text)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    with db.engine.begin() as conn:
        assert not db.engine.dialect.has_table(conn, search.TABLE)
    db.migrate()  # migration 0010 indexes what is stored
    assert indexed_under(db, "demo") == [3, 2, 1]
    assert indexed_under(db, "паромщиков") == [2]

    with db.engine.begin() as conn:  # in batches smaller than the history
        search.drop(conn)
        search.create(conn)
        assert search.build(conn, batch=2) == 3
        search.create_lookup(conn)
    assert indexed_under(db, "demo") == [3, 2, 1]

    config = tmp_path / "newsmon.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "db", "reindex"])
    assert result.exit_code == 0 and "rebuilt: 3 articles" in result.stdout
    assert indexed_under(db, "border", "crossing") == [1]
    db.close()
