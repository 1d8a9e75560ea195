"""The full-text index of stored articles: written with each article, read by search.

Both databases keep an article's words in order with their positions, so that a phrase
is asked of the index as a phrase. The words (monitor.match.fulltext.index_text) and the
questions asked of it (monitor.match.fulltext: fts5_question, tsquery_question) are given
to this module, which only runs them.

SQLite: a contentless FTS5 table ``search_index`` (rowid = article id), tokenised by
unicode61 with diacritics removed and ``_`` inside words; a phrase is ``"a b"``. It keeps
no copy of the words, so an edit removes the old ones by naming them (computed again
from the old title and text). Every word is kept, however long the article.

PostgreSQL: a table ``search_index`` (article id, a tsvector of the same words in the
'simple' configuration) with a GIN index; a phrase is ``'a' <-> 'b'``. A tsvector keeps
at most 255 positions of a word and no position past 16,383, and must stay under 1 MB:
an article beyond those limits (or of more than ``PG_MAX_BYTES`` of words) is kept as
its distinct words without positions (the first ``PG_MAX_BYTES`` of them), marked with
the lexeme ``#long``, which no word can produce; a phrase is asked as
``('a' <-> 'b' | '#long' & 'a' & 'b')``, so such an article is checked exactly instead of
being missed.

The store writes a row in the transaction that stores or edits an article; migrations
0010 and 0012 and ``newsmon db reindex`` (``rebuild``) index the stored articles in
batches. The table is not among the SQLAlchemy models (its shape differs by database):
alembic/env.py leaves it out of the comparison.

Candidates come newest article first (id order), a page at a time, with the filters the
database can apply (dates, feed, the alert's watchlist, term, channel and status);
monitor.history.search checks each exactly. On PostgreSQL, a rare word's candidates are named all
at once by one lookup in the GIN index (``listed``), and the planner's statistics tell
how many articles to expect (``estimate``); monitor.history.search chooses how to walk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.orm import Session

from monitor.store.db import Database
from monitor.store.tables import Article, Delivery, MatchRow, UtcDateTime

__all__ = [
    "LONG",
    "PG_MAX_BYTES",
    "TABLE",
    "Filters",
    "Probe",
    "Words",
    "build",
    "candidates",
    "create",
    "create_lookup",
    "dialect",
    "distinct",
    "drop",
    "first_since",
    "id_range",
    "index_article",
    "Estimate",
    "estimate",
    "is_unused",
    "listed",
    "probe",
    "rebuild",
    "reindex",
]

log = logging.getLogger(__name__)

TABLE = "search_index"
LONG = "#long"  # PostgreSQL: the lexeme of an article kept without positions
# PostgreSQL: the most text given to to_tsvector; its tsvector then holds at most 3 bytes
# per byte of text (positions included), under PostgreSQL's limit of 1 MB
PG_MAX_BYTES = 300_000
_TOKENIZE = "unicode61 remove_diacritics 2 tokenchars '_'"
# an article's words, from its title, text, site name and URL: as the index keeps them,
# space-separated (monitor.match.fulltext.index_text)
Words = Callable[[str, str, str | None, str | None], str]
_FORGET = text(f"INSERT INTO {TABLE} ({TABLE}, rowid, terms) VALUES ('delete', :id, :terms)")
_UPSERT = {
    "sqlite": text(f"INSERT INTO {TABLE} (rowid, terms) VALUES (:id, :terms)"),
    # positions kept unless PostgreSQL had to drop some (a word's 256th occurrence, any
    # past position 16,383): then the words alone, marked
    "postgresql": text(
        f"INSERT INTO {TABLE} (article_id, doc) "
        "SELECT :id, CASE WHEN :positioned AND NOT EXISTS ("
        "SELECT 1 FROM unnest(v.doc) AS u WHERE cardinality(u.positions) >= 255 "
        "OR u.positions[cardinality(u.positions)] >= 16383) "
        f"THEN v.doc ELSE strip(v.doc) || '{LONG}'::tsvector END "
        "FROM (SELECT to_tsvector('simple', :terms) AS doc) AS v "
        "ON CONFLICT (article_id) DO UPDATE SET doc = excluded.doc"
    ),
}


# ------------------------------------------------------------------ schema and writing


def create(conn: Connection) -> None:
    """The empty index (its lookup structure comes with ``create_lookup``, after a build)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(terms, content='', columnsize=0, "
            f'tokenize="{_TOKENIZE}")'
        )
    else:
        conn.exec_driver_sql(
            f"CREATE TABLE {TABLE} (article_id INTEGER NOT NULL, doc TSVECTOR NOT NULL, "
            f"CONSTRAINT pk_{TABLE} PRIMARY KEY (article_id), "
            f"CONSTRAINT fk_{TABLE}_article_id_articles FOREIGN KEY (article_id) "
            "REFERENCES articles (id) ON DELETE CASCADE)"
        )


def create_lookup(conn: Connection) -> None:
    """PostgreSQL's GIN index, built once the rows are in (faster than row by row), and
    the statistics the planner needs to know common words from rare ones."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE INDEX ix_{TABLE}_doc ON {TABLE} USING gin (doc)")
        conn.exec_driver_sql(f"ANALYZE {TABLE}")


def drop(conn: Connection) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


def index_article(conn: Connection, article_id: int, terms: str, *, was: str | None = None) -> None:
    """Index one article's words (``terms``) in the caller's transaction; after an edit,
    ``was`` is the words it was indexed under."""
    if was is not None and conn.dialect.name == "sqlite":
        conn.execute(_FORGET, {"id": article_id, "terms": was})
    conn.execute(_UPSERT[conn.dialect.name], _row(conn.dialect.name, article_id, terms))


def _row(dialect: str, article_id: int, terms: str) -> dict[str, Any]:
    if dialect == "sqlite":
        return {"id": article_id, "terms": terms}
    if len(terms) <= PG_MAX_BYTES and len(terms.encode()) <= PG_MAX_BYTES:
        return {"id": article_id, "terms": terms, "positioned": True}
    return {"id": article_id, "terms": distinct(terms, PG_MAX_BYTES), "positioned": False}


def distinct(terms: str, max_bytes: int) -> str:
    """The distinct words of ``terms``, first come first, as many as fit in
    ``max_bytes`` (UTF-8, with the spaces)."""
    seen: dict[str, None] = {}
    size = -1
    for word in terms.split():
        if word not in seen:
            size += len(word.encode()) + 1
            if size > max_bytes:
                break
            seen[word] = None
    return " ".join(seen)


def reindex(db: Database, words: Words, progress: Callable[[int], None] | None = None) -> int:
    """``rebuild`` in one transaction of its own: until it commits, SQLite readers see the
    old index and PostgreSQL ones wait; writers (the daemon storing articles) wait."""
    with db.engine.begin() as conn:
        return rebuild(conn, words, progress=progress)


def rebuild(
    conn: Connection, words: Words, *, progress: Callable[[int], None] | None = None
) -> int:
    """The index made anew from every stored article; returns how many."""
    drop(conn)
    create(conn)
    done = build(conn, words, batch=1000, progress=progress)
    create_lookup(conn)
    return done


def build(
    conn: Connection,
    words: Words,
    *,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index every stored article into an empty index, ``batch`` at a time."""
    done = last = 0
    dialect = conn.dialect.name
    statement = _UPSERT[dialect]
    while True:
        rows = conn.execute(
            select(Article.id, Article.title, Article.text, Article.sitename, Article.url)
            .where(Article.id > last)
            .order_by(Article.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        conn.execute(
            statement,
            [_row(dialect, r.id, words(r.title, r.text, r.sitename, r.url)) for r in rows],
        )
        done += len(rows)
        last = rows[-1].id
        if progress is not None:
            progress(len(rows))
        elif done % (batch * 20) == 0:
            log.info("search index: %d articles indexed", done)


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Filters:
    """What the database narrows candidates by (the exact check does the rest)."""

    feed_id: int | None = None
    watchlist: str | None = None
    term: str | None = None
    channel: str | None = None
    status: str | None = None
    language: str | None = None  # declared by the page; articles that declare none pass
    since: datetime | None = None  # when the article was stored
    until: datetime | None = None
    is_alerted: bool = True  # only articles that raised an alert

    @property
    def wants_alert(self) -> bool:
        alert_side = (self.watchlist, self.term, self.channel, self.status)
        return self.is_alerted or any(v is not None for v in alert_side)


def dialect(s: Session) -> str:
    """Which database answers: ``sqlite`` or ``postgresql``."""
    return s.get_bind().dialect.name


@dataclass(frozen=True)
class Probe:
    """How PostgreSQL's parser takes a word or phrase: its lexemes (none: it cannot be
    looked up), as a phrase query, and how many nodes that query has."""

    lexemes: tuple[str, ...]
    phrase: str | None
    nodes: int


_PROBE = text(
    "SELECT u.w, tsvector_to_array(v.doc), q.phrase::text, numnode(q.phrase) "
    "FROM unnest(CAST(:words AS text[])) AS u(w) "
    "CROSS JOIN LATERAL (SELECT to_tsvector('simple', u.w) AS doc) AS v "
    "CROSS JOIN LATERAL (SELECT CASE WHEN length(v.doc) > 0 "
    "THEN phraseto_tsquery('simple', u.w) END AS phrase) AS q"
)


def probe(s: Session, texts: Sequence[str]) -> dict[str, Probe]:
    """PostgreSQL: the words and phrases as its parser splits them (foo_bar: foo, bar),
    and as a phrase."""
    found = s.execute(_PROBE, {"words": list(texts)})
    return {w: Probe(tuple(lexemes), phrase, nodes) for w, lexemes, phrase, nodes in found}


# for this transaction; plans made for one way are not reused for the other (psycopg
# prepares a statement run often, and a prepared plan outlives a change of settings)
_PLAN = text(
    "SELECT set_config('enable_indexscan', :walk, true), "
    "set_config('enable_bitmapscan', :look, true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true), "
    # parallel workers take longer to start than these queries take to run
    "set_config('max_parallel_workers_per_gather', '0', true)"
)


def first_since(s: Session, since: datetime) -> int | None:
    """The id of the first article stored at or after ``since`` (ids and stored times rise
    together: monitor.store.entries.record_entry)."""
    query = (
        select(Article.id).where(Article.created_at >= since).order_by(Article.created_at).limit(1)
    )
    return s.scalar(query)


def id_range(s: Session, since: datetime | None, until: datetime | None) -> tuple[int, int] | None:
    """[low, high): the article ids stored from ``since`` and before ``until``, found
    through the time index (ids grow with time); None when no article is in between."""
    top = s.scalar(select(func.max(Article.id)))
    if top is None:
        return None
    low = first_since(s, since) if since is not None else 0
    high = first_since(s, until) if until is not None else None
    if low is None:
        return None
    high = top + 1 if high is None else high
    return (low, high) if low < high else None


def is_unused(s: Session, f: Filters) -> bool:
    """Whether a filter names a watchlist, channel or delivery state that no alert has
    (answered from an index, where walking the candidates would find that out slowly)."""
    checks = []
    if f.watchlist is not None:
        checks.append(select(MatchRow.id).where(MatchRow.watchlist == f.watchlist))
    if f.channel is not None:
        checks.append(select(Delivery.id).where(Delivery.channel == f.channel))
    if f.status is not None:
        checks.append(select(Delivery.id).where(Delivery.status == f.status))
    return any(s.scalar(check.limit(1)) is None for check in checks)


def listed(s: Session, match: str, *, before: int, floor: int, cap: int) -> list[int] | None:
    """Every article id from ``floor`` to below ``before`` that the index (``match``, a
    question in its syntax) lets through, newest first, when there are at most ``cap``
    of them; None when there are more, or on SQLite.

    PostgreSQL answers from one lookup in the GIN index (positions are checked on the
    rows it names), whatever the range: the way to find the few articles of a rare word
    or phrase in a long history. Looking each of ``candidates``' windows up costs that
    lookup again for every window (the id range is checked on the rows, after it), and
    walking the ids costs in proportion to the range. Past ``cap`` the caller walks."""
    if s.get_bind().dialect.name != "postgresql":
        return None
    s.execute(_PLAN, {"walk": "off", "look": "on"})
    statement = text(
        f"/* list */ SELECT x.article_id FROM {TABLE} AS x "
        "WHERE x.doc @@ CAST(:match AS tsquery) "
        "AND x.article_id < :before AND x.article_id >= :floor LIMIT :cap"
    )
    params = {"match": match, "before": before, "floor": floor, "cap": cap + 1}
    found = [int(i) for i in s.execute(statement, params).scalars()]
    return sorted(found, reverse=True) if len(found) <= cap else None


@dataclass(frozen=True)
class Estimate:
    """What PostgreSQL's planner expects, from its statistics of the column (ANALYZE: the
    most common words and their frequencies): how many articles the index lets through,
    and how many it assumes for a word it has no statistics for (half as many as the
    rarest word it has them for, at most 1 in 200)."""

    articles: float
    unknown: float

    @property
    def is_common(self) -> bool:
        """The statistics know these words to be common (not merely not rare)."""
        return self.articles >= 10 * self.unknown


_STATS = text(
    "SELECT c.reltuples, s.most_common_elem_freqs FROM pg_class AS c "
    "LEFT JOIN pg_stats AS s ON s.schemaname = current_schema() "
    f"AND s.tablename = '{TABLE}' AND s.attname = 'doc' "
    f"WHERE c.oid = CAST('{TABLE}' AS regclass)"
)


def estimate(s: Session, match: str) -> Estimate | None:
    """The planner's expectations for ``match`` (a tsquery); None on SQLite."""
    if s.get_bind().dialect.name != "postgresql":
        return None
    plan = s.execute(
        text(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {TABLE} AS x WHERE x.doc @@ CAST(:m AS tsquery)"
        ),
        {"m": match},
    ).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    rows, freqs = s.execute(_STATS).one()
    # a tsvector's word frequencies end with the lowest and the highest of them
    lowest = float(freqs[-2]) if freqs and len(freqs) > 2 else 0.01
    unknown = max(float(rows), 1.0) * min(0.005, lowest / 2)
    return Estimate(float(plan[0]["Plan"]["Plan Rows"]), unknown)


def candidates(
    s: Session,
    match: str | None,
    filters: Filters,
    *,
    before: int | None,
    floor: int | None,
    limit: int,
    is_dense: bool = True,
    among: list[int] | None = None,
) -> list[int]:
    """Ids of articles, newest first, below ``before`` and from ``floor`` on, that the
    index (``match``, a question in its syntax) and the filters let through; ``among``:
    only these (from ``listed``, already through the index: give no ``match``).

    ``is_dense``: many articles in the range are expected to pass. PostgreSQL then walks
    the ids in order, testing each article's words, which finds the newest few of a
    common word at once; otherwise it looks the words up in the GIN index. Its planner
    cannot tell these apart well enough (it takes a word it has no statistics for to be
    in half as many articles as the rarest word it has statistics for, and testing an
    article's words to cost nothing), so the caller says which (monitor.history.search)."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql" and match is not None:
        walk, look = ("on", "off") if is_dense else ("off", "on")
        s.execute(_PLAN, {"walk": walk, "look": look})
    params: dict[str, Any] = {"limit": limit}
    if match is None:
        key, source = "a.id", "articles AS a"
    elif dialect == "sqlite":
        key, source = f"{TABLE}.rowid", TABLE
        where = [f"{TABLE} MATCH :match"]
    else:
        key, source = "x.article_id", f"{TABLE} AS x"
        where = ["x.doc @@ CAST(:match AS tsquery)"]
    if match is None:
        where = []
    else:
        params["match"] = match
        if filters.since or filters.until or filters.language:
            join = "CROSS JOIN" if dialect == "sqlite" else "JOIN"  # keep the index first
            source += f" {join} articles AS a ON a.id = {key}"
    if among is not None:
        where.append(f"{key} IN ({', '.join(str(int(i)) for i in among) or 'NULL'})")
    where += _conditions(key, filters, params, before, floor, "+" if dialect == "sqlite" else "")
    sql = f"SELECT {key} FROM {source}"
    if dialect == "postgresql" and match is not None:
        sql = f"/* {'walk' if is_dense else 'look up'} */ " + sql
    if where:
        sql += " WHERE " + " AND ".join(where)
    statement = text(sql + f" ORDER BY {key} DESC LIMIT :limit").bindparams(
        *(bindparam(n, type_=UtcDateTime()) for n in ("since", "until") if n in params)
    )
    return [int(i) for i in s.execute(statement, params).scalars()]


def _conditions(
    key: str, f: Filters, params: dict[str, Any], before: int | None, floor: int | None, no_ix: str
) -> list[str]:
    """The filters as SQL. On SQLite, ``no_ix`` ("+") keeps a filter column from being
    used as the index of a per-candidate lookup (the planner, without statistics, would
    otherwise walk every failed delivery or every entry of a feed for each candidate)."""
    where = []
    if before is not None:
        where.append(f"{key} < :before")
        params["before"] = before
    if floor is not None:
        where.append(f"{key} >= :floor")
        params["floor"] = floor
    if f.since is not None:
        where.append("a.created_at >= :since")
        params["since"] = f.since
    if f.until is not None:
        where.append("a.created_at < :until")
        params["until"] = f.until
    if f.language is not None:
        where.append(
            "(a.language IS NULL OR lower(a.language) = :language "
            "OR lower(a.language) LIKE :language_tag)"
        )
        params.update(language=f.language, language_tag=f.language + "-%")
    if f.feed_id is not None:
        where.append(
            f"EXISTS (SELECT 1 FROM entries AS e WHERE e.article_id = {key} "
            f"AND {no_ix}e.feed_id = :feed_id)"
        )
        params["feed_id"] = f.feed_id
    if f.wants_alert:
        where.append(
            f"EXISTS (SELECT 1 FROM alerts AS al WHERE al.article_id = {key}"
            + "".join(" AND " + c for c in _alert_conditions(f, params, no_ix))
            + ")"
        )
    return where


def _alert_conditions(f: Filters, params: dict[str, Any], no_ix: str) -> list[str]:
    found = []
    on_match = [(c, v) for c, v in (("watchlist", f.watchlist), ("term", f.term)) if v is not None]
    if on_match:
        found.append(
            "EXISTS (SELECT 1 FROM matches AS m WHERE m.alert_id = al.id"
            + "".join(f" AND {no_ix}m.{c} = :{c}" for c, _ in on_match)
            + ")"
        )
        params.update(on_match)
    on_delivery = [(c, v) for c, v in (("channel", f.channel), ("status", f.status)) if v]
    if on_delivery:
        found.append(
            "EXISTS (SELECT 1 FROM deliveries AS d WHERE d.alert_id = al.id"
            + "".join(f" AND {no_ix}d.{c} = :{c}" for c, _ in on_delivery)
            + ")"
        )
        params.update(on_delivery)
    return found
