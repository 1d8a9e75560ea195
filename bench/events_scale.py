"""Scale of event assignment: CPU per new article by history size, and memory.

    .venv/bin/python bench/events_scale.py                         # 10k and 100k, SQLite
    .venv/bin/python bench/events_scale.py --sizes 10000,100000,1000000
    .venv/bin/python bench/events_scale.py --database-url postgresql://postgres@127.0.0.1/bench

The history is synthetic and written in bulk (executemany on SQLite, COPY on
PostgreSQL; bench/events_history.py): articles of 150 words drawn from a Zipf
vocabulary plus 8 names from a large one, published evenly over ``--days`` (365) up to
now, each with its story, feed entry, profile, index rows, and the document counts of
all of them. Two reports in five join an event of the last half day (60 % of its terms).
Profiles are weighed with the document frequencies the vocabulary implies, so the index
keys are the rare terms, as with real text.

Each size is then measured in a fresh process, so its memory is the daemon's and not
the builder's: ``--measure`` new articles (published now: the window holds the newest
``size * 2 / days`` articles) go through ``record_entry`` with an event query (term
counts read, profile weighed, candidates found in ``event_terms``, their members'
profiles read and compared, profile, index rows and counts written, commit). One in
five is a reworded report of an article of the last day and should join its event; the
line says how many did (synthetic terms: a rough check, not quality). Printed: wall
and CPU ms per article (mean and p95; on PostgreSQL also the server backend's CPU), and
the process RSS before the first and after the last article. CPU time is the figure to
compare on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from events_history import NOW, History, draw  # noqa: E402

from monitor.model import Article, Entry, TextSource  # noqa: E402
from monitor.store import entries as entry_store  # noqa: E402
from monitor.store.db import Database, connect  # noqa: E402
from monitor.store.entries import IndexWords, Outcome  # noqa: E402
from monitor.store.events import EventQuery  # noqa: E402
from monitor.store.feeds import add_feed  # noqa: E402
from monitor.store.tables import EventProfile, Story  # noqa: E402
from monitor.stories import events  # noqa: E402

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """This process's resident memory now (not its peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def backend_cpu(db: Database) -> tuple[int, float] | None:
    """PostgreSQL: the server process of the pooled connection and its CPU seconds."""
    if db.engine.dialect.name != "postgresql":
        return None
    with db.session() as s:
        pid = int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:  # another machine, or not ours to read
        return None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, size: int, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    db = connect(url)
    with db.session() as s:
        recent = [  # the keys of reports within the window of the measured articles
            list(events.decode(bytes(p), at).weights)
            for p, at in s.execute(
                select(EventProfile.profile, EventProfile.at)
                .where(EventProfile.at >= NOW - timedelta(days=1))
                .order_by(EventProfile.at.desc())
                .limit(count // 5)
            )
        ]
    server = backend_cpu(db)
    rss_start = rss_mb()
    expected = 0
    walls, cpus = [], []
    for n in range(count):
        counts = draw(rng)
        if n % 5 == 0 and recent:
            base = recent[(n // 5) % len(recent)]
            kept = base[: int(len(base) * 0.6)]
            counts = {k: 2.0 for k in kept} | dict(list(counts.items())[:10])
            expected += 1
        at = NOW + timedelta(seconds=n)
        link = f"http://new.invalid/{size}/{n}"
        query = EventQuery(
            list(counts), at, 2 * 86400.0, events.weigher(counts, at), events.picker(at, 0.225)
        )
        article = Article(link, f"t{size}", "", TextSource.PAGE, published=at)
        outcome = Outcome(
            entry=Entry(link, link, f"t{size}", "", at),
            url_key=link,
            article=article,
            words=IndexWords(f"t{size}"),
            event=query,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        entry_store.record_entry(db, feed_id=1, outcome=outcome, now=at)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    rss_end = rss_mb()
    server_cpu = ""
    after = backend_cpu(db)
    if server and after and after[0] == server[0]:
        server_cpu = f"  server {1000 * (after[1] - server[1]) / count:5.2f}"
    with db.session() as s:
        joined = s.scalar(
            select(func.count())
            .select_from(Story)
            .where(Story.title == f"t{size}", Story.event_id != Story.id)
        )
    db.close()
    wall, cpu = np.array(walls) * 1000, np.array(cpus) * 1000
    print(
        f"{size:>9,}  wall {wall.mean():6.2f} p95 {np.percentile(wall, 95):6.2f}  "
        f"cpu {cpu.mean():5.2f} p95 {np.percentile(cpu, 95):5.2f}{server_cpu}  "
        f"joined {joined}/{expected}  rss {rss_start:.0f} -> {rss_end:.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--measure", type=int, default=2000)
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument(
        "--database-url", "--database", dest="database", help="default: SQLite in a temp dir"
    )
    parser.add_argument("--measure-only", type=int, metavar="SIZE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only is not None:
        measure(args.database, args.measure_only, args.measure, seed=args.measure_only)
        return
    load = os.getloadavg()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f}; ms per article, {args.measure} new articles a size",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(x) for x in args.sizes.split(",")):
            url = args.database or f"sqlite:///{Path(tmp) / f'bench{size}.db'}"
            db = connect(url)
            if args.database:
                empty(db)
            db.migrate()
            add_feed(db, "bench", "http://bench.invalid/feed", NOW - timedelta(days=args.days))
            c0, t0 = time.process_time(), time.perf_counter()
            History(db, args.days, seed=size).fill(size)
            db.close()
            print(
                f"  ({db.engine.dialect.name}: {size:,} articles built in "
                f"{time.perf_counter() - t0:.0f} s, {time.process_time() - c0:.0f} s CPU)",
                flush=True,
            )
            here = [sys.executable, __file__, "--database-url", url, "--measure-only", str(size)]
            subprocess.run([*here, "--measure", str(args.measure)], check=True)


def empty(db: Database) -> None:
    """Drop everything in the given database: each size is built from nothing."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


if __name__ == "__main__":
    main()
