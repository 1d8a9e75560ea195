"""Event stories through the real pipeline: pair precision and recall, B-cubed, alerts.

    .venv/bin/python bench/events_quality.py ../shared/corpus/events
    .venv/bin/python bench/events_quality.py ../shared/corpus/events --threshold 0.2
    .venv/bin/python bench/events_quality.py ../shared/corpus/events --only events \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

CORPUS_DIR holds ``items.tsv`` (id, cluster, lang, published, source, url) and
``items/<id>.txt`` (line 1 the title, then the lead), as for bench/events.py. That
script runs the clusterer alone; this one runs newsmon's own poll (``poll_once`` of
monitor/pipeline/assembly.py, as ``newsmon poll --once`` and the daemon do):

- a local site on 127.0.0.1 serves one RSS feed per outlet (``source``) and one HTML
  page per item: the title in <title> and <h1>, the lead as the article's paragraphs,
  its time in ``article:published_time``; the feed entry carries title, link, date and
  the lead's first words as its teaser;
- each item's time is the roundup's, spread deterministically over the preceding day
  (from a hash of its id, as bench/events.py does), so the timestamp alone cannot do
  the work and reports of different events interleave;
- the simulated clock advances in rounds of ``--step``: the feeds reveal the items
  published up to that time, then one poll of the feeds that changed, so the pipeline
  sees the items in time order, fetches every page and extracts it (trafilatura in
  the worker), matches one watchlist that every item matches, and stores stories,
  events and alerts in a fresh database (SQLite in a temporary folder by default).

Two runs by default: ``events`` ([stories] events = true, with ``--threshold`` and
``--window`` passed to event_threshold and event_window) and ``copies`` (events =
false: copies only, as before event stories). Printed for each: pair precision and
recall (pairs of items in one predicted event that share / do not share a gold
cluster), B-cubed precision, recall and F1, wrong merges (items that joined an event
holding none of their gold cluster), alerts per gold event (alerts the watchlist got
for its items), and the CPU time of the run (this process: newsmon and the site).
Only figures, never corpus text. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import csv
import html
import logging
import os
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from functools import partial
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config.values import parse_duration  # noqa: E402

DAY = 86400
TEASER_WORDS = 30  # the feed entry's summary: the lead's opening
FEED_ENTRIES = 30  # newest revealed items in each outlet's feed


@dataclass(frozen=True)
class Item:
    id: str
    cluster: str
    source: str
    at: datetime
    title: str
    text: str


def load(corpus: Path) -> list[Item]:
    """The corpus items in time order, each at its spread time."""
    items = []
    with (corpus / "items.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            title, _, text = (
                (corpus / "items" / f"{row['id']}.txt").read_text("utf-8").partition("\n")
            )
            roundup = datetime.fromisoformat(row["published"].replace("Z", "+00:00"))
            spread = zlib.crc32(row["id"].encode()) % DAY
            at = roundup - timedelta(seconds=spread)
            items.append(Item(row["id"], row["cluster"], row["source"], at, title.strip(), text))
    return sorted(items, key=lambda i: (i.at, i.id))


# ------------------------------------------------------------------ scoring
def pairwise(gold: Mapping[str, str], placed: Mapping[str, object]) -> tuple[float, float]:
    """Pair precision and recall: pairs placed together that share a gold cluster, over
    pairs placed together, and over pairs sharing a gold cluster."""
    together = same = gold_pairs = 0
    for a, b in combinations(sorted(gold), 2):
        is_gold = gold[a] == gold[b]
        is_placed = placed[a] == placed[b]
        gold_pairs += is_gold
        together += is_placed
        same += is_gold and is_placed
    return (same / together if together else 1.0, same / gold_pairs if gold_pairs else 1.0)


def bcubed(gold: Mapping[str, str], placed: Mapping[str, object]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga and Baldwin 1998): per item, the share of
    its predicted cluster in its gold cluster and of its gold cluster in its predicted
    one (itself included), averaged over the items."""
    by_gold: dict[str, set[str]] = defaultdict(set)
    by_placed: dict[object, set[str]] = defaultdict(set)
    for item, cluster in gold.items():
        by_gold[cluster].add(item)
        by_placed[placed[item]].add(item)
    precision = recall = 0.0
    for item in gold:
        mine, truth = by_placed[placed[item]], by_gold[gold[item]]
        shared = len(mine & truth)
        precision += shared / len(mine)
        recall += shared / len(truth)
    n = len(gold) or 1
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def wrong_merges(items: list[Item], placed: Mapping[str, object]) -> list[str]:
    """Items (in time order) that joined a predicted cluster holding none of theirs:
    their ids, gold clusters and the gold clusters they joined."""
    seen: dict[object, list[Item]] = defaultdict(list)
    wrong = []
    for item in items:
        earlier = seen[placed[item.id]]
        if earlier and item.cluster not in {e.cluster for e in earlier}:
            joined = ", ".join(f"{e.id} ({e.cluster}, {e.at:%m-%d %H:%M})" for e in earlier)
            wrong.append(f"{item.id} ({item.cluster}, {item.at:%m-%d %H:%M}) joined {joined}")
        earlier.append(item)
    return wrong


# ------------------------------------------------------------------ the site
def _feed(base: str, source: str, shown: list[Item]) -> bytes:
    entries = "".join(
        f"<item><title>{html.escape(i.title)}</title>"
        f"<link>{base}/a/{i.id}.html</link><guid>{base}/a/{i.id}.html</guid>"
        f"<pubDate>{format_datetime(i.at, usegmt=True)}</pubDate>"
        f"<description>{html.escape(' '.join(i.text.split()[:TEASER_WORDS]))}</description>"
        "</item>"
        for i in reversed(shown[-FEED_ENTRIES:])
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{html.escape(source)}</title><link>{base}/</link>{entries}</channel></rss>"
    ).encode()


def _page(item: Item) -> bytes:
    title = html.escape(item.title)
    paragraphs = "".join(
        f"<p>{html.escape(p.strip())}</p>" for p in item.text.split("\n") if p.strip()
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{item.at.isoformat()}">'
        f'</head><body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav>'
        f"</header><main><article><h1>{title}</h1>{paragraphs}</article></main>"
        "<footer>All rights reserved.</footer></body></html>"
    ).encode()


def _name(source: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in source)


def write_config(
    path: Path, base: str, sources: list[str], args: argparse.Namespace, *, is_events: bool
) -> None:
    db = args.database_url or f"sqlite:///{path.parent / 'bench.db'}"
    lines = [
        f'[database]\nurl = "{db}"\n',
        '[http]\nallow_networks = ["127.0.0.1/32"]\nconcurrency = 4\nper_host = 4\n',
        # every new entry is read and may alert: no first poll absorbs a backlog
        "[defaults]\nalert_backlog = true\nfetch_articles = true\n",
        f"[scale]\nworkers = {args.workers}\n",
        "[stories]\n"
        f"events = {'true' if is_events else 'false'}\n"
        f"event_threshold = {args.threshold}\n"
        f'event_window = "{args.window}"\n'
        "growth = []\n",
        # a watchlist that every item matches: one word character anywhere
        "[watchlist.all]\nqueries = ['/\\w/']\n",
    ]
    lines += [
        f'[[feed]]\nname = "{_name(s)}"\nurl = "{base}/feed/{_name(s)}.xml"\n' for s in sources
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


# ------------------------------------------------------------------ one run
@dataclass
class Result:
    placed: dict[str, int]
    alerts: dict[str, int]  # gold cluster -> alerts for its items
    cpu: float
    seconds: float
    pages: int  # items whose text came from their page


def run(items: list[Item], args: argparse.Namespace, *, is_events: bool) -> Result:
    from sqlalchemy import select

    from monitor.config.settings import load as load_settings
    from monitor.demo.server import Reply, Site
    from monitor.pipeline.assembly import close_context, open_context, poll_once
    from monitor.store.tables import Alert as AlertRow
    from monitor.store.tables import Article as ArticleRow
    from monitor.store.tables import Story as StoryRow

    by_id = {i.id: i for i in items}
    sources = sorted({i.source for i in items})
    shown: dict[str, list[Item]] = {_name(s): [] for s in sources}
    step = timedelta(seconds=parse_duration(args.step))
    label = "events" if is_events else "copies"
    started, cpu0 = time.perf_counter(), time.process_time()
    with Site() as site, tempfile.TemporaryDirectory(prefix="newsmon-evq-") as folder:

        def feed(name: str) -> Reply:
            return Reply(
                200,
                _feed(site.base, name, shown[name]),
                {"Content-Type": "application/rss+xml; charset=utf-8"},
            )

        def page(item: Item) -> Reply:
            return Reply(200, _page(item), {"Content-Type": "text/html; charset=utf-8"})

        for name in shown:
            site.routes[f"/feed/{name}.xml"] = partial(feed, name)
        for item in items:
            site.routes[f"/a/{item.id}.html"] = partial(page, item)
        config = Path(folder) / "bench.toml"
        write_config(config, site.base, sources, args, is_events=is_events)
        if args.database_url:
            _empty(args.database_url)
        ctx = open_context(load_settings(config))
        try:
            now = items[0].at
            pending = list(items)
            done = reported = 0
            while pending:
                now = max(now + step, pending[0].at)
                changed = set()
                while pending and pending[0].at <= now:
                    item = pending.pop(0)
                    shown[_name(item.source)].append(item)
                    changed.add(_name(item.source))
                    done += 1
                ctx = replace(ctx, clock=partial(_fixed, now))
                poll_once(ctx, sorted(changed))
                if done // 100 > reported or not pending:
                    reported = done // 100
                    print(
                        f"  {label}: {done}/{len(items)} items polled", file=sys.stderr, flush=True
                    )
            with ctx.db.session() as s:
                rows = s.execute(
                    select(
                        ArticleRow.url,
                        ArticleRow.story_id,
                        StoryRow.event_id,
                        ArticleRow.text_source,
                        ArticleRow.id,
                    ).join(StoryRow, StoryRow.id == ArticleRow.story_id, isouter=True)
                ).all()
                alerted = (
                    s.execute(select(AlertRow.article_id).where(AlertRow.kind == "new"))
                    .scalars()
                    .all()
                )
        finally:
            close_context(ctx)
    placed: dict[str, int] = {}
    article_item: dict[int, str] = {}
    pages = 0
    for url, story, event, source, article_id in rows:
        item_id = str(url).rsplit("/", 1)[1].removesuffix(".html")
        article_item[article_id] = item_id
        # an article without a story is one of its own
        placed[item_id] = (
            event if event is not None else story if story is not None else -article_id
        )
        pages += source == "page"
    alerts: dict[str, int] = defaultdict(int)
    for article_id in alerted:
        alerts[by_id[article_item[article_id]].cluster] += 1
    missing = set(by_id) - set(placed)
    if missing:
        sys.exit(f"{len(missing)} items were not stored; the warnings above say why")
    return Result(
        placed, dict(alerts), time.process_time() - cpu0, time.perf_counter() - started, pages
    )


def _fixed(at: datetime) -> datetime:
    """The simulated clock: the time of the round."""
    return at


def _empty(url: str) -> None:
    """A PostgreSQL database given with --database-url starts empty."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="CORPUS_DIR with items.tsv and items/")
    parser.add_argument(
        "--threshold", type=float, default=0.225, help="[stories] event_threshold (default 0.225)"
    )
    parser.add_argument("--window", default="2d", help="[stories] event_window (default 2d)")
    parser.add_argument("--step", default="1h", help="simulated time between polls (1h)")
    parser.add_argument("--only", choices=("events", "copies"), help="one of the two runs")
    parser.add_argument("--workers", type=int, default=0, help="[scale] workers (0)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database, emptied first; default: SQLite in a temporary folder",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="list the wrong merges (ids, gold clusters, times)"
    )
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url takes a postgresql:// URL (SQLite is the default)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if not (args.corpus / "items.tsv").is_file():
        sys.exit(f"{args.corpus}: no items.tsv here; give the corpus folder")
    items = load(args.corpus)
    gold = {i.id: i.cluster for i in items}
    n_events = len(set(gold.values()))
    print(
        f"{len(items)} items, {n_events} events, {len({i.source for i in items})} feeds; "
        f"threshold {args.threshold}, window {args.window}, step {args.step}"
    )
    load_avg = os.getloadavg()
    runs = [("events", True), ("copies", False)]
    for name, is_events in runs if args.only is None else [r for r in runs if r[0] == args.only]:
        result = run(items, args, is_events=is_events)
        precision, recall = pairwise(gold, result.placed)
        b_p, b_r, b_f = bcubed(gold, result.placed)
        alerts = sum(result.alerts.values()) / n_events
        wrong = wrong_merges(items, result.placed)
        print(
            f"{name:7} pairs P {precision:.3f} R {recall:.3f}  "
            f"B-cubed P {b_p:.3f} R {b_r:.3f} F1 {b_f:.3f}\n"
            f"        wrong merges {len(wrong)}  "
            f"alerts per event {alerts:.2f}  pages read {result.pages}/{len(items)}  "
            f"CPU {result.cpu:.0f} s, wall {result.seconds:.0f} s"
        )
        if args.verbose:
            for line in wrong:
                print(f"    {line}")
    print(
        f"load average at start {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}, "
        f"{os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
