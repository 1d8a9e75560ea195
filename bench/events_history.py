"""A synthetic year of event-story history, written in bulk (for bench/events_scale.py).

``History(db, days, seed).fill(size)`` writes ``size`` articles published evenly over
``days`` up to ``NOW`` into an empty database, with what the daemon would have stored
for each: its story, its feed entry (feed 1), its event profile and index rows, and the
document counts (``term_counts``) of every term. Profiles are computed for a whole
batch at once with numpy, in the daemon's format (monitor/stories/events.py: sublinear
TF-IDF, the ``KEPT`` heaviest at unit length, the ``INDEXED`` heaviest as index keys).
The rows go straight to the driver: executemany on SQLite, COPY on PostgreSQL, with the
secondary indexes dropped while filling and built again at the end.

An article is ``WORDS`` words drawn from a Zipf vocabulary (``VOCABULARY`` words,
exponent 1.1: about 80 distinct) and ``NAMES`` names from a much larger space, counted
``BOOST`` times as the daemon counts names. Two in five join an event reported in the
last half day: they keep 60 % of a recent report's words and 5 of its names. Weights use
the document frequencies the vocabulary implies, so the index keys are rare words and
names, as with real text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text

from monitor.store.db import Database
from monitor.stories import events

__all__ = ["NOW", "History", "draw"]

NOW = datetime(2026, 12, 1, tzinfo=UTC)
VOCABULARY = 500_000
WORDS = 150
EXPONENT = 1.1
NAMES = 8
NAME_SPACE = 2_000_000  # names and figures: most are rare
BATCH = 20_000
JOINING = 0.4  # share of reports that join an event of the last half day
KEPT_WORDS, KEPT_NAMES = 90, 5  # what a joining report keeps of the report it follows

_RANKS = np.arange(1, VOCABULARY + 1, dtype=np.float64)
_ZETA = float(np.sum(_RANKS**-EXPONENT))


def draw(rng: np.random.Generator) -> dict[int, float]:
    """One article's term counts: words (keys 1..VOCABULARY), then names (above)."""
    keys, weights = _draws(rng, 1)
    counts: dict[int, float] = {}
    for k, w in zip(keys[0].tolist(), weights[0].tolist(), strict=True):
        counts[k] = counts.get(k, 0.0) + w
    return counts


def _draws(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    words = np.minimum(rng.zipf(EXPONENT, (rows, WORDS)), VOCABULARY)
    names = rng.integers(VOCABULARY + 1, VOCABULARY + NAME_SPACE + 1, (rows, NAMES))
    keys = np.concatenate([words, names], axis=1).astype(np.int64)
    weights = np.concatenate([np.ones((rows, WORDS)), np.full((rows, NAMES), events.BOOST)], 1)
    return keys, weights


def _share(keys: np.ndarray) -> np.ndarray:
    """The share of articles that hold each term (what the vocabulary implies)."""
    word = np.minimum(keys, VOCABULARY).astype(np.float64)
    share = 1.0 - (1.0 - word**-EXPONENT / _ZETA) ** WORDS
    return np.where(keys > VOCABULARY, NAMES / NAME_SPACE, share)


def _profiles(
    keys: np.ndarray, weights: np.ndarray, total: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the kept keys and unit weights, heaviest first, and how many there are;
    and every row's distinct keys, together."""
    order = np.argsort(keys, axis=1, kind="stable")
    keys, weights = np.take_along_axis(keys, order, 1), np.take_along_axis(weights, order, 1)
    is_last = np.ones(keys.shape, dtype=bool)  # the last of each run of one key
    is_last[:, :-1] = keys[:, 1:] != keys[:, :-1]
    summed = np.cumsum(weights, axis=1)
    ends = np.where(is_last, np.arange(keys.shape[1]), -1)
    previous = np.full(keys.shape, -1)  # the previous run's last position
    previous[:, 1:] = np.maximum.accumulate(ends, axis=1)[:, :-1]
    before = np.where(previous >= 0, np.take_along_axis(summed, np.maximum(previous, 0), 1), 0)
    tf = np.where(is_last, summed - before, 0.0)
    df = _share(keys) * total
    idf = np.log((1.0 + total) / (1.0 + df) + 1.0)
    raw = np.where(tf > 0, (1.0 + np.log(np.maximum(tf, 1e-9))) * idf, 0.0)
    top = np.argsort(-raw, axis=1, kind="stable")[:, : events.KEPT]
    kept, weight = np.take_along_axis(keys, top, 1), np.take_along_axis(raw, top, 1)
    weight /= np.linalg.norm(weight, axis=1, keepdims=True)
    return kept, weight, np.minimum(is_last.sum(axis=1), events.KEPT), keys[is_last]


class History:
    """Fills an empty, migrated database (but for feed 1, the bench's)."""

    def __init__(self, db: Database, days: float, seed: int) -> None:
        self.db, self.days, self.rng = db, days, np.random.default_rng(seed)
        self.is_pg = db.engine.dialect.name == "postgresql"

    def fill(self, size: int) -> None:
        step = self.days * 86400.0 / size
        reach = max(1, int(43200 / step))  # reports in half a day
        documents = np.zeros(VOCABULARY + NAME_SPACE + 1, dtype=np.int64)
        event = np.zeros(size + 1, dtype=np.int64)  # article n's event (story ids = n)
        last_keys = np.zeros((0, WORDS + NAMES), dtype=np.int64)
        indexes = self._drop_indexes()
        raw = self.db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None
            if not self.is_pg:
                conn.execute("PRAGMA synchronous=OFF")
                conn.execute("PRAGMA foreign_keys=OFF")
                conn.execute("PRAGMA cache_size=-500000")
            for low in range(1, size + 1, BATCH):
                high = min(size + 1, low + BATCH)
                keys, weights = _draws(self.rng, high - low)
                both = np.concatenate([last_keys, keys])  # earlier rows: the previous batch
                offset = len(last_keys)
                for i, n in enumerate(range(low, high)):
                    event[n] = n
                    if n > 1 and self.rng.random() < JOINING:
                        base = max(1, n - int(self.rng.integers(1, reach + 1)))
                        if base >= low - offset:
                            event[n] = event[base]
                            row = both[base - low + offset]
                            keys[i, :KEPT_WORDS] = row[:KEPT_WORDS]
                            keys[i, WORDS : WORDS + KEPT_NAMES] = row[WORDS : WORDS + KEPT_NAMES]
                            both[offset + i] = keys[i]
                kept, weight, count, distinct = _profiles(keys, weights, size)
                documents += np.bincount(distinct, minlength=len(documents))
                self._write(conn, self._rows(low, high, step, event, kept, weight, count))
                last_keys = keys
            documents[0] = size
            present = np.flatnonzero(documents)
            counts = zip(present.tolist(), documents[present].tolist(), strict=True)
            self._write(conn, {"term_counts": list(counts)})
        finally:
            raw.close()
        self._build_indexes(indexes)

    def _rows(
        self,
        low: int,
        high: int,
        step: float,
        event: np.ndarray,
        kept: np.ndarray,
        weight: np.ndarray,
        count: np.ndarray,
    ) -> dict[str, list[tuple[Any, ...]]]:
        rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _COLUMNS}
        size = len(event) - 1
        for i, n in enumerate(range(low, high)):
            at = NOW - timedelta(seconds=(size - n) * step)
            stamp: Any = at if self.is_pg else at.strftime("%Y-%m-%d %H:%M:%S.%f")
            link = f"http://h{n % 60}.invalid/{n}"
            e = int(event[n])
            rows["stories"].append((n, f"a{n}", stamp, stamp, e, stamp))
            rows["articles"].append((n, link, link, f"a{n}", "", "page", stamp, stamp, n, 0))
            rows["entries"].append((1, f"g{n}", n, f"a{n}", link, stamp, stamp, False))
            k = kept[i, : count[i]]
            blob = k.astype("<i8").tobytes() + weight[i, : count[i]].astype("<f4").tobytes()
            rows["event_profiles"].append((n, e, stamp, blob))
            rows["event_terms"] += [(t, n, stamp, e) for t in k[: events.INDEXED].tolist()]
        rows["event_terms"].sort()
        return rows

    def _write(self, conn: Any, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        if not self.is_pg:
            conn.execute("BEGIN")  # the store's connections autocommit otherwise
        for table, columns in _COLUMNS.items():
            if rows.get(table):
                self._copy(conn, table, columns, rows[table])
        conn.commit()

    def _copy(self, conn: Any, table: str, columns: Sequence[str], rows: list[Any]) -> None:
        names = ", ".join(columns)
        if self.is_pg:
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if table in ("stories", "articles", "entries"):
                conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            return
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def _drop_indexes(self) -> list[str]:
        """Drop the filled tables' secondary indexes; the statements that build them."""
        tables = list(_COLUMNS)
        if self.is_pg:
            query = text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(:t) "
                "AND i.indexdef NOT LIKE 'CREATE UNIQUE%'"
            )
        else:
            query = text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' "
                "AND tbl_name IN (SELECT value FROM json_each(:t))"
            )
        with self.db.engine.begin() as conn:
            found = {"t": tables if self.is_pg else json.dumps(tables)}
            indexes = [(str(name), str(sql)) for name, sql in conn.execute(query, found)]
            for name, _ in indexes:
                conn.execute(text(f'DROP INDEX "{name}"'))
        return [sql for _, sql in indexes]

    def _build_indexes(self, statements: list[str]) -> None:
        """Build them again; on PostgreSQL also ANALYZE, as autovacuum would have by now
        (the daemon never analyzes a SQLite database: neither does this)."""
        with self.db.engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql))
            if self.is_pg:
                conn.execute(text("ANALYZE"))


_COLUMNS: dict[str, tuple[str, ...]] = {
    "stories": ("id", "title", "first_seen_at", "last_seen_at", "event_id", "reported_at"),
    "articles": ("id", "url_key", "url", "title", "text", "text_source", "created_at")
    + ("published_at", "story_id", "revision"),
    "entries": ("feed_id", "key", "article_id", "title", "link", "published_at", "seen_at")
    + ("is_backlog",),
    "event_profiles": ("article_id", "event_id", "at", "profile"),
    "event_terms": ("term", "article_id", "at", "event_id"),
    "term_counts": ("term", "documents"),
}
