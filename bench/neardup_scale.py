"""Scale of story assignment: insert-and-lookup time per article, and memory, by history size.

    .venv/bin/python bench/neardup_scale.py                       # 10k and 100k
    .venv/bin/python bench/neardup_scale.py --sizes 10000,100000,1000000
    .venv/bin/python bench/neardup_scale.py --database postgresql://postgres@127.0.0.1/bench

The history is filled with synthetic articles (random words from a Zipf-distributed
vocabulary, about 350 words each) written straight into the tables, keys included. At
each size, ``--measure`` articles go through the daemon's own path: fingerprint the text
(stories.fingerprint), then one ``record_entry`` transaction that inserts the entry and
article, looks up candidates in ``story_keys`` (an indexed query), checks them exactly,
joins or founds a story and inserts the keys. One in ten is an edited copy of a stored
article and must join its story; the script checks that too. "ms/article" and "cpu ms"
are that whole transaction (wall clock and this process's CPU time); "index ms" and
"index cpu" are the index alone (fingerprint, lookup, exact check, key insert, commit).
CPU time is the figure to compare on a shared machine, where wall time includes waiting
for a core. An existing --dir database is reused (filled only up to the next size).

Memory: the index lives in the database, so the process holds no per-article state; the
script prints the process's resident memory and the on-disk size of the database.
Restart: the time to open the database again and answer the first lookup.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import event, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.model import Article, Entry, TextSource  # noqa: E402
from monitor.pipeline.entry import index_words  # noqa: E402
from monitor.store import entries as entry_store  # noqa: E402
from monitor.store import stories  # noqa: E402
from monitor.store.db import Database, connect  # noqa: E402
from monitor.store.entries import Outcome  # noqa: E402
from monitor.store.feeds import add_feed  # noqa: E402
from monitor.store.stories import Identity  # noqa: E402
from monitor.store.tables import Article as ArticleRow  # noqa: E402
from monitor.store.tables import Feed, Story, StoryKey  # noqa: E402
from monitor.stories.copies import fingerprint, story_picker  # noqa: E402
from monitor.stories.minhash import _MULTIPLIERS, SHINGLE, sketch_keys  # noqa: E402

VOCABULARY = 60_000
WORDS = 350
BATCH = 2_000


class Texts:
    """Synthetic article texts: words drawn from a Zipf-like vocabulary."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = np.array([f"w{i:x}" for i in range(VOCABULARY)])
        weights = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.05
        self.p = weights / weights.sum()
        self.crc = np.array([zlib.crc32(w.encode()) for w in self.words], dtype=np.uint64)

    def text(self) -> str:
        picked = self.rng.choice(VOCABULARY, size=WORDS, p=self.p)
        return " ".join(self.words[picked])

    def batch(self, n: int) -> tuple[list[str], list[list[int]]]:
        """``n`` texts and their index keys, the keys computed for the whole batch at once
        (the history only has to be written quickly; the first text of every batch is
        checked against stories.fingerprint, which the measured articles go through)."""
        picked = self.rng.choice(VOCABULARY, size=(n, WORDS), p=self.p)
        bodies = [" ".join(row) for row in self.words[picked]]
        hashed = self.crc[picked]
        runs = np.lib.stride_tricks.sliding_window_view(hashed, SHINGLE, axis=1)
        mixed = (runs * np.array(_MULTIPLIERS, dtype=np.uint64)).sum(axis=2, dtype=np.uint64)
        found = (mixed >> np.uint64(32)) ^ (mixed & np.uint64(0xFFFFFFFF))
        keys = [sketch_keys(np.unique(row).tolist()) for row in found]
        if keys[0] != list(fingerprint(bodies[0]).keys):
            raise SystemExit("bench: batch keys differ from stories.fingerprint")
        return bodies, keys


def edited(text: str, rng: random.Random) -> str:
    """A copy with a new lead sentence, a few words changed and the tail cut."""
    words = text.split()
    for _ in range(6):
        words[rng.randrange(len(words))] = "changed"
    return "breaking update from the wire " + " ".join(words[: int(len(words) * 0.9)])


def fill_process(url: str, start: int, stop: int, now: datetime) -> None:
    """``fill`` in a child process, so the measuring process stays like a daemon's."""
    db = connect(url)
    if db.engine.dialect.name == "sqlite":  # a big page cache for the bulk load only

        @event.listens_for(db.engine, "connect")
        def _cache(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.execute("PRAGMA cache_size=-1500000")  # type: ignore[attr-defined]

    try:
        fill(db, Texts(start), start, stop, now)
    finally:
        db.close()


def fill(db: Database, texts: Texts, start: int, stop: int, now: datetime) -> None:
    """Articles start..stop-1, each its own story, written in bulk with their keys."""
    done = start
    while done < stop:
        n = min(BATCH, stop - done)
        bodies, batch_keys = texts.batch(n)
        with db.session() as s:
            story_rows = [
                {
                    "id": done + i + 1,
                    "title": f"s{done + i}",
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for i in range(n)
            ]
            s.connection().execute(insert(Story.__table__), story_rows)
            s.execute(
                insert(ArticleRow.__table__),
                [
                    {
                        "id": done + i + 1,
                        "url_key": f"http://bench.example/{done + i}",
                        "title": f"article {done + i}",
                        "text": body,
                        "text_source": "page",
                        "created_at": now,
                        "story_id": done + i + 1,
                        "revision": 0,
                    }
                    for i, body in enumerate(bodies)
                ],
            )
            keys = [
                {"key": k, "article_id": done + i + 1}
                for i, found in enumerate(batch_keys)
                for k in dict.fromkeys(found)
            ]
            keys.sort(key=lambda row: row["key"])  # index locality; order is not measured
            s.connection().execute(insert(StoryKey.__table__), keys)
        done += n
        if done % 50_000 < BATCH or done == stop:
            print(f"  filled {done:,} articles", file=sys.stderr, flush=True)


def measure(
    db: Database, texts: Texts, size: int, count: int, feed_id: int, now: datetime
) -> dict[str, float]:
    """``count`` articles through fingerprint + record_entry; one in ten a copy.

    The texts are made first; only the loop that stores them is timed (wall and CPU).
    """
    rng = random.Random(size)
    bodies: list[tuple[str, int | None]] = []
    with db.session() as s:
        top = int(s.scalar(select(func.max(ArticleRow.id))) or 1)
        for i in range(count):
            if i % 10:
                bodies.append((texts.text(), None))
                continue
            source = s.execute(
                select(ArticleRow.text, ArticleRow.story_id).where(
                    ArticleRow.id == rng.randrange(1, top + 1)
                )
            ).first()
            if source is not None:
                bodies.append((edited(source.text, rng), source.story_id))
    since = now - timedelta(days=3)
    urls = [f"http://measure.example/{top}/{i}" for i in range(len(bodies))]
    started, started_cpu = time.perf_counter(), time.process_time()
    for url, (body, _) in zip(urls, bodies, strict=True):
        found = fingerprint(body)
        outcome = Outcome(
            entry=Entry(url, url, "t", "", None),
            url_key=url,
            article=(article := Article(url, "measured", body, TextSource.PAGE)),
            words=index_words(article),
            identity=Identity(
                None,
                found.keys,
                story_picker(found.shingles),
                since,
            ),
        )
        entry_store.record_entry(db, feed_id=feed_id, outcome=outcome, now=now)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    with db.session() as s:
        got = dict(
            s.execute(
                select(ArticleRow.url_key, ArticleRow.story_id).where(ArticleRow.url_key.in_(urls))
            ).all()
        )
    copies = [(url, story) for url, (_, story) in zip(urls, bodies, strict=True) if story]
    return {
        "ms": 1000 * elapsed / len(bodies),
        "cpu_ms": 1000 * cpu / len(bodies),
        "copies": len(copies),
        "joined": sum(got.get(url) == story for url, story in copies),
    }


def measure_index(db: Database, texts: Texts, count: int, now: datetime) -> dict[str, float]:
    """The index alone: fingerprint, candidate lookup (and exact check), key insert, commit.

    The keys are filed under a random stored article (the index does not care which),
    so no entry, article or story row is written.
    """
    bodies = [texts.text() for _ in range(count)]
    with db.session() as s:
        top = int(s.scalar(select(func.max(ArticleRow.id))) or 1)
    rng = random.Random(top)
    picked = [rng.randrange(1, top + 1) for _ in range(2 * count)]
    with db.session() as s:  # ids may have gaps (PostgreSQL sequences)
        stored = set(s.scalars(select(ArticleRow.id).where(ArticleRow.id.in_(picked))))
    owners = [i for i in picked if i in stored][:count]
    bodies = bodies[: len(owners)]
    since = now - timedelta(days=3)
    started, started_cpu = time.perf_counter(), time.process_time()
    for n, (body, owner) in enumerate(zip(bodies, owners, strict=True)):
        found = fingerprint(body)
        identity = Identity(None, found.keys, story_picker(found.shingles), since)
        with db.session() as s:
            stories.lock_stories(s)
            stories.find_story(s, f"http://index.example/{n}", identity)
            stories.add_keys(s, owner, found.keys)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    return {"ms": 1000 * elapsed / len(owners), "cpu_ms": 1000 * cpu / len(owners)}


def rss_mb() -> tuple[float, float]:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    current = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="history sizes, comma-separated")
    parser.add_argument("--measure", type=int, default=1000, help="articles timed per size")
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument(
        "--dir",
        type=Path,
        help="folder for the SQLite file (default: temp); an earlier run's file is reused",
    )
    args = parser.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    folder = args.dir or Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    now = datetime.now(UTC)
    db = connect(url)
    db.migrate()
    with db.session() as s:
        feed_id = s.scalar(select(Feed.id).where(Feed.name == "bench"))
        filled = int(s.scalar(select(func.max(ArticleRow.id))) or 0)
    if feed_id is None:
        feed_id = add_feed(db, "bench", "http://bench.example/feed", now)
    if filled:
        print(f"reusing {filled:,} stored articles (a database from an earlier run)")
    texts = Texts(7 + filled)  # other texts when a database is reused
    print(f"database: {url}")
    print(
        f"{'history':>10} {'ms/article':>11} {'cpu ms':>7} {'index ms':>9} {'index cpu':>10} "
        f"{'copies joined':>14} {'RSS MB':>8} "
        f"{'peak MB':>8} {'db MB':>8} {'index MB':>9} {'keys/article':>13}"
    )
    for size in sizes:
        print(f"filling to {size:,} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=fill_process, args=(url, filled, size, now)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            sys.exit(f"filling failed (exit {child.exitcode})")
        filled = max(filled, size)
        with db.session() as s:
            _bump_sequences(s, filled)
        if db.engine.dialect.name == "sqlite":
            raw = db.engine.raw_connection()  # start from a settled log, as a running daemon
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        print(f"  fill took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        result = measure(db, texts, size, args.measure, feed_id, now)
        with db.session() as s:
            nkeys = s.scalar(select(func.count()).select_from(StoryKey)) or 0
            narticles = s.scalar(select(func.count()).select_from(ArticleRow)) or 1
        index = measure_index(db, texts, args.measure, now)
        current, peak = rss_mb()
        size_mb = _db_mb(db, folder)
        keys_mb = _keys_mb(db)
        print(
            f"{size:>10,} {result['ms']:>11.2f} {result['cpu_ms']:>7.2f} "
            f"{index['ms']:>9.2f} {index['cpu_ms']:>10.2f} "
            f"{result['joined']:>6}/{result['copies']:<7} "
            f"{current:>8.0f} {peak:>8.0f} {size_mb:>8.0f} {keys_mb:>9} "
            f"{nkeys / narticles:>13.1f}",
            flush=True,
        )
        # the measured articles are history too; keep ids of the next fill unique
        with db.session() as s:
            filled = int(s.scalar(select(func.max(ArticleRow.id))) or 0)
            _bump_sequences(s, filled)
    db.close()
    started = time.perf_counter()
    again = connect(url)
    again.migrate()
    probe = fingerprint(texts.text())
    with again.session() as s:
        s.execute(select(StoryKey.article_id).where(StoryKey.key.in_(list(probe.keys)))).all()
    print(
        f"restart: reopened and answered a lookup at {filled:,} articles in "
        f"{1000 * (time.perf_counter() - started):.0f} ms (nothing to load or rebuild)"
    )
    again.close()


def _db_mb(db: Database, folder: Path) -> float:
    if db.engine.dialect.name == "sqlite":
        return sum(p.stat().st_size for p in folder.glob("bench.db*")) / 2**20
    with db.session() as s:
        return float(s.scalar(select(func.pg_database_size(func.current_database()))) or 0) / 2**20


def _keys_mb(db: Database) -> str:
    """On-disk size of the index table (story_keys), where the database can tell."""
    query = {
        "sqlite": "SELECT sum(pgsize) FROM dbstat WHERE name = 'story_keys'",
        "postgresql": "SELECT pg_total_relation_size('story_keys')",
    }.get(db.engine.dialect.name)
    try:
        with db.engine.connect() as conn:
            found = conn.exec_driver_sql(query).scalar() if query else None
    except Exception:  # dbstat is an optional SQLite module
        found = None
    return f"{int(found) / 2**20:.0f}" if found else "-"


def _bump_sequences(s: object, top: int) -> None:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    if s.get_bind().dialect.name == "postgresql":
        for table in ("stories", "articles"):
            s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {top + 10})"))


if __name__ == "__main__":
    main()
