"""Scale of event assignment: time per new article by history size, and memory.

    .venv/bin/python bench/events_scale.py                         # 10k and 100k, SQLite
    .venv/bin/python bench/events_scale.py --sizes 10000,100000,1000000
    .venv/bin/python bench/events_scale.py --database postgresql://postgres@127.0.0.1/bench

The history is synthetic: articles of 80 terms drawn from a Zipf-distributed vocabulary,
published evenly over ``--days`` (365) up to now, each a story and an event of its own,
written straight into the tables with their profiles, index keys and term counts. At
each size, ``--measure`` new articles (published now, so the window holds the newest
``size * 2 / days`` articles) go through ``record_entry`` with an event query: term
counts read, profile weighed, candidates found in ``event_terms``, their members' profiles
read and compared, profile, keys and counts written, commit. One in five is a reworded
report of an article of the last day (60 % of its terms, the rest new) and should join
its event; the script counts how many did (synthetic terms: a rough check, not
quality). CPU time is the figure to compare on a shared machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.model import Article, Entry, TextSource  # noqa: E402
from monitor.store import entries as entry_store  # noqa: E402
from monitor.store.db import Database, connect  # noqa: E402
from monitor.store.entries import IndexWords, Outcome  # noqa: E402
from monitor.store.events import EventQuery  # noqa: E402
from monitor.store.feeds import add_feed  # noqa: E402
from monitor.store.tables import Article as ArticleRow  # noqa: E402
from monitor.store.tables import EventProfile, EventTerm, Story, TermCount  # noqa: E402
from monitor.stories import events  # noqa: E402

VOCABULARY = 60_000
TERMS = 80
BATCH = 2_000
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def draw(rng: np.random.Generator) -> dict[int, float]:
    ranks = np.minimum(rng.zipf(1.3, TERMS), VOCABULARY)
    return {int(k) + 1: float(v) for k, v in Counter(ranks.tolist()).items()}


def fill(db: Database, start: int, size: int, days: float, rng: np.random.Generator) -> None:
    documents: Counter[int] = Counter()
    step = days * 86400.0 / size
    with db.session() as s:
        story_base = s.scalar(select(func.max(Story.id))) or 0
        article_base = s.scalar(select(func.max(ArticleRow.id))) or 0
    for low in range(start, size, BATCH):
        stories, articles, profiles, terms = [], [], [], []
        for n in range(low, min(size, low + BATCH)):
            at = NOW - timedelta(seconds=(size - n) * step)
            counts = draw(rng)
            documents.update(counts.keys())
            mine = events.profile(counts, {}, 0, at)
            story = story_base + n - start + 1
            article = article_base + n - start + 1
            stories.append(
                {"id": story, "title": f"a{n}", "first_seen_at": at, "last_seen_at": at}
                | {"event_id": story, "reported_at": at}
            )
            articles.append(
                {"id": article, "url_key": f"http://h.invalid/{n}", "url": None}
                | {"title": f"a{n}", "text": "", "text_source": "page", "created_at": at}
                | {"story_id": story, "revision": 0}
            )
            where = {"article_id": article, "at": at, "event_id": story}
            profiles.append({**where, "profile": events.encode(mine)})
            terms += [{**where, "term": k} for k in events.index_keys(mine)]
        with db.session() as s:
            conn = s.connection()
            conn.execute(insert(Story), stories)
            conn.execute(insert(ArticleRow), articles)
            conn.execute(insert(EventProfile), profiles)
            conn.execute(insert(EventTerm), terms)
    with db.session() as s:
        known = dict(s.execute(select(TermCount.term, TermCount.documents)).all())
        s.execute(TermCount.__table__.delete())
        documents.update(known)
        documents[0] = size
        rows = [{"term": k, "documents": v} for k, v in documents.items()]
        s.connection().execute(insert(TermCount), rows)
        if s.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences on
            for table in ("stories", "articles"):
                s.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))


def measure(db: Database, size: int, count: int, rng: np.random.Generator) -> None:
    with db.session() as s:
        recent = [  # reports within the window of the measured articles
            events.decode(bytes(p), at)
            for p, at in s.execute(
                select(EventProfile.profile, EventProfile.at)
                .where(EventProfile.at >= NOW - timedelta(days=1))
                .order_by(EventProfile.at.desc())
                .limit(count)
            )
        ]
    expected = 0
    wall = cpu = 0.0
    for n in range(count):
        counts = draw(rng)
        if n % 5 == 0 and recent:
            base = list(recent[n % len(recent)].weights)
            kept = base[: int(len(base) * 0.6)]
            counts = {k: 2.0 for k in kept} | dict(list(counts.items())[:10])
            expected += 1
        at = NOW + timedelta(seconds=n)
        url = f"http://new.invalid/{size}/{n}"
        query = EventQuery(
            list(counts), at, 2 * 86400.0, events.weigher(counts, at), events.picker(at, 0.225)
        )
        article = Article(url, f"t{size}", "", TextSource.PAGE, published=at)
        outcome = Outcome(
            entry=Entry(url, url, f"t{size}", "", at),
            url_key=url,
            article=article,
            words=IndexWords(f"t{size}"),
            event=query,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        entry_store.record_entry(db, feed_id=1, outcome=outcome, now=at)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    with db.session() as s:
        joined = s.scalar(
            select(func.count())
            .select_from(Story)
            .where(Story.title == f"t{size}", Story.event_id != Story.id)
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{size:>9,} articles  {1000 * wall / count:6.2f} ms/article  "
        f"{1000 * cpu / count:6.2f} cpu ms  joined {joined}/{expected}  rss {rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--measure", type=int, default=500)
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--database", help="a database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(args.database or f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.migrate()
        add_feed(db, "bench", "http://bench.invalid/feed", NOW)
        done = 0
        for size in (int(x) for x in args.sizes.split(",")):
            fill(db, done, size, args.days, rng)
            done = size
            measure(db, size, args.measure, rng)
        db.close()


if __name__ == "__main__":
    main()
