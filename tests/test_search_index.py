"""The full-text index follows the articles: new ones, edits, migrations 0010 and 0012 over
stored articles (in batches), and ``db reindex``; on SQLite and PostgreSQL. Phrases are
asked of the index as phrases, long articles included, and search finds what matching
finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text as sql

from helpers.db import migrate_to
from monitor.cli import cli
from monitor.config.settings import Settings
from monitor.history.search import Request, compile_search, question, run
from monitor.match.fulltext import Expr, Phrase, Word, all_of, index_text, prefilter
from monitor.match.watchlists import find_matches
from monitor.model import Article, Entry, TextSource
from monitor.pipeline.entry import index_words
from monitor.pipeline.polls import sync_feeds
from monitor.store import entries as entry_store
from monitor.store import search
from monitor.store.backfill import read_articles
from monitor.store.db import Database, connect

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
        words=index_words(article, known),
    )
    entry_store.record_entry(db, feed_id=1, outcome=outcome, now=now)


def indexed_under(db: Database, *words: str) -> list[int]:
    """The articles the index lists under all these words (no other filter)."""
    return indexed_as(db, all_of(Word(w) for w in words))


def indexed_as(db: Database, expr: Expr | None) -> list[int]:
    with db.session() as s:
        match = question(s, expr)
        return search.candidates(
            s, match, search.Filters(is_alerted=False), before=None, floor=None, limit=100
        )


def phrase(words: str) -> Phrase:
    return Phrase(tuple(words.split()))


def searched(db: Database, query: str) -> list[int]:
    """What ``alerts search --articles`` finds, all of it."""
    page = run(db, Request(query, is_alerted=False, limit=1000, seconds=600))
    assert not page.is_cut
    return [r.stored.id for r in page.results]


def matched(db: Database, query: str) -> list[int]:
    """What matching finds in every stored article, without the index, newest first."""
    compiled = compile_search(query)
    stored = read_articles(db, limit=10_000)
    return sorted((a.id for a in stored if find_matches(compiled, a.article)), reverse=True)


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
    assert indexed_as(db, phrase("were detained")) == [1]
    assert indexed_as(db, phrase("were arrested")) == []
    assert indexed_as(db, phrase("the convoy raid")) == [1]
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
    migrate_to(db, "0005", is_down=True)
    with db.engine.begin() as conn:
        assert not db.engine.dialect.has_table(conn, search.TABLE)
    db.migrate()  # migrations 0010 and 0012 index what is stored
    assert indexed_under(db, "demo") == [3, 2, 1]
    assert indexed_under(db, "паромщиков") == [2]
    assert indexed_as(db, phrase("the border crossing")) == [1]

    with db.engine.begin() as conn:  # in batches smaller than the history
        search.drop(conn)
        search.create(conn)
        assert search.build(conn, index_text, batch=2) == 3
        search.create_lookup(conn)
    assert indexed_under(db, "demo") == [3, 2, 1]

    config = tmp_path / "newsmon.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "db", "reindex"])
    assert result.exit_code == 0 and "rebuilt: 3 articles" in result.stdout
    assert indexed_under(db, "border", "crossing") == [1]
    assert indexed_as(db, phrase("забастовка паромщиков")) == [2]
    db.close()


def test_migration_0012_keeps_positions_and_goes_back(db_url: str) -> None:
    """Upgraded, the index holds the words in order; downgraded, each word once (0010's
    form): on SQLite "the border" (the second "the") is then no phrase and "near border"
    is; on PostgreSQL there are no positions."""
    db = database(db_url)
    for key, body in TEXTS.items():
        store(db, key, key.title(), body)
    migrate_to(db, "0009_leases", is_down=True)
    assert indexed_as(db, phrase("the border")) == []
    assert indexed_under(db, "паромщиков", "обсе") == [2]
    if db.engine.dialect.name == "sqlite":
        assert indexed_as(db, phrase("near border")) == [1]
    else:
        with db.session() as s:
            assert s.scalar(sql("SELECT bool_and(doc = strip(doc)) FROM search_index"))
    db.migrate()
    assert indexed_as(db, phrase("the border")) == [1]
    assert indexed_as(db, phrase("near border")) == []
    db.close()


PHRASES = {
    "adjacent": "Talks on arms control resumed in Geneva.",
    "apart": "The arms race left no control over the budget.",
    "reversed": "Control arms, the sign said.",
    "punctuated": "Arms, control and trust were the themes.",
    "hyphenated": "An arms-control treaty expired.",
    "cyrillic": "Переговоры о контроле над вооружениями возобновились: контроль вооружений.",
    "underscore": "The file foo_bar baz was found next to baz foo_bar.",
}


@pytest.mark.parametrize(
    "query",
    [
        '"arms control"',
        "arms-control",
        '"control arms"',
        '"контроль вооружений"',
        '"контроле над вооружениями"',
        '"foo_bar baz"',
        '"baz foo"',
        '"arms control" OR "control arms"',
        '"arms control" NEAR/5 treaty',
        '"arms contr*"',
        'title:"arms control"',
    ],
)
def test_phrases_find_what_matching_finds(db_url: str, query: str) -> None:
    db = database(db_url)
    for key, body in PHRASES.items():
        store(db, key, key.title(), body)
    assert searched(db, query) == matched(db, query)
    db.close()


def test_the_index_asks_for_words_next_to_each_other(db_url: str) -> None:
    db = database(db_url)
    for key, body in PHRASES.items():
        store(db, key, key.title(), body)
    ids = {key: i + 1 for i, key in enumerate(PHRASES)}

    def through(query: str) -> set[str]:
        found = set(indexed_as(db, prefilter(compile_search(query))))
        return {key for key, i in ids.items() if i in found}

    # next to each other, across punctuation too: matching then tells "arms, control" apart
    assert through('"arms control"') == {"adjacent", "punctuated", "hyphenated"}
    assert matched(db, '"arms control"') == [ids["adjacent"]]
    assert matched(db, "arms-control") == [ids["hyphenated"]]
    assert through('"control arms"') == {"reversed"}
    assert through('"контроль вооружений"') == {"cyrillic"}
    assert through('"foo_bar baz"') == {"underscore"}
    # "baz foo_bar" holds no word "foo"; PostgreSQL splits foo_bar in two, and lets it through
    is_pg = db.engine.dialect.name == "postgresql"
    assert through('"baz foo"') == ({"underscore"} if is_pg else set())
    assert matched(db, '"baz foo"') == []
    assert through('"arms contr*"') == {"adjacent", "apart", "reversed", "punctuated"} | {
        "hyphenated"
    }  # a prefix in the phrase: its words, anywhere
    db.close()


def _long(kind: str) -> str:
    """A text beyond what a PostgreSQL tsvector holds positions for, with "arms control"
    (and "arms x control") where those limits bite."""
    if kind == "words":  # positions past 16,383
        return " ".join(f"w{i}" for i in range(17_000)) + " arms x control. Arms control."
    if kind == "repeats":  # a word's 256th and later occurrences
        return "arms race " * 300 + "and arms x control. Arms control."
    assert kind == "bytes"  # over PG_MAX_BYTES of text: the words alone, the first ones
    return "Arms control. Arms x control. " + "filler " * (search.PG_MAX_BYTES // 7 + 10)


@pytest.mark.parametrize("kind", ["words", "repeats", "bytes"])
def test_a_phrase_in_a_long_article_is_found(db_url: str, kind: str) -> None:
    """On PostgreSQL such an article is kept without positions and marked; a phrase then
    asks for its words there, and matching decides. SQLite keeps every position."""
    db = database(db_url)
    store(db, "short", "Short", "Arms x control, and the arms control talks.")
    store(db, "long", "Long", _long(kind))
    store(db, "apart", "Apart", _long(kind).replace("Arms control", "Arms y control"))
    assert searched(db, '"arms control"') == matched(db, '"arms control"') == [2, 1]
    assert searched(db, '"x control"') == matched(db, '"x control"') == [3, 2, 1]
    assert searched(db, '"arms x"') == [3, 2, 1]
    if db.engine.dialect.name == "postgresql":
        with db.session() as s:
            marked = s.scalars(
                sql(
                    "SELECT article_id FROM search_index WHERE doc @@ CAST(:q AS tsquery) "
                    "ORDER BY article_id"
                ),
                {"q": f"'{search.LONG}'"},
            ).all()
        assert marked == [2, 3]
    db.close()


def test_the_planner_tells_common_words_from_rare_ones(db_url: str) -> None:
    """PostgreSQL's statistics of the index (after ANALYZE) say which words are common:
    search walks those and lists the rest (monitor.history.search._Walk)."""
    db = database(db_url)
    for i in range(40):
        store(db, f"a{i}", f"Story {i}", "Common words here" + (" and a rarity" if i == 7 else ""))
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"ANALYZE {search.TABLE}")
    with db.session() as s:
        common = search.estimate(s, "'common'")
        rare = search.estimate(s, "'rarity'")
        listed = search.listed(s, "'rarity'", before=100, floor=0, cap=5)
        too_many = search.listed(s, "'common'", before=100, floor=0, cap=5)
    if db.engine.dialect.name == "sqlite":
        assert common is None and rare is None and listed is None and too_many is None
    else:
        assert common is not None and common.is_common
        assert rare is not None and not rare.is_common
        assert listed == [8] and too_many is None
    db.close()
