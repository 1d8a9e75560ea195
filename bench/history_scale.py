"""Speed of the history commands on a long history: list, search and stats at 1M alerts.

    .venv/bin/python bench/history_scale.py                        # SQLite, 1,000,000 alerts
    .venv/bin/python bench/history_scale.py --alerts 100000
    .venv/bin/python bench/history_scale.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench --reuse

A synthetic year of history is written straight into the tables made by the migrations
(bulk inserts of 10,000 rows): 20 feeds, 6 watchlists, articles in English, German,
Russian and Ukrainian drawn from word pools (a few common words, a long tail of rarer
ones, watchlist names now and then), one entry and one alert per article, stories of
one to three articles with their claims, one or two matches and a delivery per alert.
Then the derived data is built as the commands that own it do: the hourly counts
(``monitor.store.counts.recount``) and the full-text index (``newsmon db reindex``).

Each query runs once to warm up, then ``--runs`` times through the functions the CLI
calls (list_alerts, monitor.history.search.run, monitor.history.stats.report); the median and the
slowest are shown against the 300 ms target. ``--cli`` also times the commands end to
end (click's CliRunner: config loading, the query and the JSON output; one with the
rich table, whose layout costs more than the query). ``--reuse`` skips
the build when the database already holds the history.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.history.search import Request, reindex, run  # noqa: E402
from monitor.history.stats import Bucket, report  # noqa: E402
from monitor.store.alerts import list_alerts  # noqa: E402
from monitor.store.counts import Dimension, recount  # noqa: E402
from monitor.store.db import Database, connect  # noqa: E402
from monitor.store.tables import (  # noqa: E402
    Alert,
    Article,
    Delivery,
    Entry,
    Feed,
    MatchRow,
    Story,
    StoryClaim,
)

TARGET_MS = 300.0
BATCH = 10_000
SPAN = timedelta(days=365)
err = Console(stderr=True)
out = Console()

# watchlist: the words that make an article match it (title or text), by language
WATCHLISTS: dict[str, dict[str, str]] = {
    "ukraine": {"en": "Ukraine", "de": "Ukraine", "ru": "Украина", "uk": "Україна"},
    "nato": {"en": "NATO", "de": "NATO", "ru": "НАТО", "uk": "НАТО"},
    "osce": {"en": "OSCE", "de": "OSZE", "ru": "ОБСЕ", "uk": "ОБСЄ"},
    "ryabkov": {"en": "Ryabkov", "de": "Rjabkow", "ru": "Рябков", "uk": "Рябков"},
    "grain": {"en": "grain", "de": "Getreide", "ru": "зерно", "uk": "зерно"},
    "sanctions": {"en": "sanctions", "de": "Sanktionen", "ru": "санкции", "uk": "санкції"},
}
COMMON = {
    "en": "the of and to in a is that for on with as was said by at from it an be has have "
    "minister talks government president foreign security officials meeting agreement "
    "military forces border report week statement arms control treaty nuclear east west",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als "
    "auch es an werden aus er hat dass Regierung Minister Gespräche Außenminister Grenze "
    "Sicherheit Vertrag Truppen Bericht Woche Erklärung Abkommen",
    "ru": "и в не на что с по как это а он к из за от о для так же все министр "
    "переговоры правительство президент безопасность заявил встреча договор граница войска "
    "неделя доклад соглашение контроль вооружений ядерный",
    "uk": "і в на що з не як до це за від у та для про також міністр переговори уряд "
    "президент безпека заявив зустріч договір кордон війська тиждень доповідь угода "
    "контроль озброєнь ядерний",
}
SYLLABLES = {
    "en": "ba ke lo mi nu ra se ti vo wa dr st pl gr an er in on ou",
    "de": "ba ke lo mi nu ra se ti vo wa sch ung ei au ä ö ü ber",
    "ru": "ба ке ло ми ну ра се ти во ва ст пр ов ий ая ск ж щ ы",
    "uk": "ба ке ло ми ну ра се ті во ва ст пр ов ий і ї є ж щ",
}
LANGUAGES = ("en", "de", "ru", "uk")
RARE = "zaporizhzhiaplant"  # in about one article of 20,000
CHANNELS = ("mail", "telegram")


class Words:
    """A language's vocabulary: its common words, then a long Zipf-like tail."""

    def __init__(self, rng: random.Random, language: str, tail: int = 20_000) -> None:
        syllables = SYLLABLES[language].split()
        made: dict[str, None] = {}
        while len(made) < tail:
            made["".join(rng.choices(syllables, k=rng.randint(2, 4)))] = None
        self.words = COMMON[language].split() + list(made)
        weights = [1.0 / (i + 1) ** 1.05 for i in range(len(self.words))]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)

    def pick(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=k)


# ------------------------------------------------------------------ building


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
    )


def _rate(done: int, started: float) -> str:
    return f"{done / max(time.perf_counter() - started, 1e-9):,.0f} rows/s"


def build(db: Database, n_alerts: int, seed: int) -> dict[str, float]:
    """Write the synthetic history; returns seconds per phase."""
    rng = random.Random(seed)
    vocab = {lang: Words(rng, lang) for lang in LANGUAGES}
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - SPAN
    step = SPAN / n_alerts
    feeds = [
        {
            "id": i + 1,
            "name": f"feed{i + 1:02d}-{LANGUAGES[i % 4]}",
            "url": f"https://news{i + 1}.example/{LANGUAGES[i % 4]}/rss.xml",
            "interval": 300.0,
            "created_at": start,
            "next_check_at": now,
        }
        for i in range(20)
    ]
    timings: dict[str, float] = {}
    with db.engine.begin() as conn:
        conn.execute(insert(Feed), feeds)
    started = time.perf_counter()
    rows = 0
    with _progress() as progress:
        task = progress.add_task("insert", total=n_alerts, rate="")
        story_id = 0
        story_left = 0
        for low in range(0, n_alerts, BATCH):
            batch = _batch(rng, vocab, low, min(low + BATCH, n_alerts), start, step)
            tables: dict[str, list[dict[str, Any]]] = {
                k: [] for k in ("stories", "articles", "entries", "alerts", "claims", "matches")
            }
            deliveries = []
            for row in batch:
                if story_left == 0:
                    story_id += 1
                    story_left = rng.choice((1, 1, 2, 3))
                    claimed: set[str] = set()
                    tables["stories"].append(
                        {
                            "id": story_id,
                            "title": row["title"],
                            "first_seen_at": row["at"],
                            "last_seen_at": row["at"],
                        }
                    )
                story_left -= 1
                i = row["id"]
                tables["articles"].append(
                    {
                        "id": i,
                        "url_key": row["url"],
                        "story_id": story_id,
                        "url": row["url"],
                        "title": row["title"],
                        "text": row["text"],
                        "text_source": "page",
                        "language": row["language"],
                        "sitename": row["sitename"],
                        "published_at": row["at"],
                        "created_at": row["at"],
                    }
                )
                tables["entries"].append(
                    {
                        "id": i,
                        "feed_id": row["feed"],
                        "key": row["url"],
                        "article_id": i,
                        "title": row["title"],
                        "link": row["url"],
                        "published_at": row["at"],
                        "seen_at": row["at"],
                    }
                )
                alerted = row["watchlists"]
                tables["alerts"].append(
                    {
                        "id": i,
                        "article_id": i,
                        "story_id": story_id,
                        "feed_id": row["feed"],
                        "created_at": row["at"],
                        "kind": "new",
                        "watchlists": ",".join(alerted),
                    }
                )
                for w in alerted:
                    if w not in claimed:
                        claimed.add(w)
                        tables["claims"].append(
                            {
                                "story_id": story_id,
                                "watchlist": w,
                                "alert_id": i,
                                "created_at": row["at"],
                            }
                        )
                    term = WATCHLISTS[w][row["language"]]
                    at = row["text"].find(term)
                    tables["matches"].append(
                        {
                            "alert_id": i,
                            "watchlist": w,
                            "term": term,
                            "field": "text",
                            "start": at,
                            "end": at + len(term),
                            "snippet": row["text"][max(at - 60, 0) : at + 60],
                            "found": term,
                        }
                    )
                status = "sent" if rng.random() < 0.97 else "failed"
                deliveries.append(
                    {
                        "alert_id": i,
                        "channel": CHANNELS[i % 2],
                        "status": status,
                        "attempts": 1 if status == "sent" else 5,
                        "last_error": None if status == "sent" else "connection refused",
                        "created_at": row["at"],
                        "next_attempt_at": row["at"],
                        "sent_at": row["at"] if status == "sent" else None,
                    }
                )
            with db.engine.begin() as conn:
                for model, key in (
                    (Story, "stories"),
                    (Article, "articles"),
                    (Entry, "entries"),
                    (Alert, "alerts"),
                    (StoryClaim, "claims"),
                    (MatchRow, "matches"),
                ):
                    if tables[key]:
                        conn.execute(insert(model), tables[key])
                        rows += len(tables[key])
                conn.execute(insert(Delivery), deliveries)
                rows += len(deliveries)
            progress.update(task, advance=len(batch), rate=_rate(rows, started))
    timings["insert"] = time.perf_counter() - started
    timings["rows"] = rows
    started = time.perf_counter()
    with _progress() as progress:
        progress.add_task("recount", total=None, rate="")
        counted = recount(db)
    timings["recount"] = time.perf_counter() - started
    err.print(f"recount: {counted:,} hourly counts in {timings['recount']:.1f} s")
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("reindex", total=n_alerts, rate="")
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            progress.update(task, advance=n, rate=_rate(done[0], started).replace("rows", "art"))

        reindex(db, advance)
    timings["reindex"] = time.perf_counter() - started
    if db.engine.dialect.name == "postgresql":  # statistics, as autovacuum would gather
        with db.engine.begin() as conn:  # (SQLite: none, as newsmon runs no ANALYZE)
            conn.exec_driver_sql("ANALYZE")
    return timings


def _batch(
    rng: random.Random,
    vocab: dict[str, Words],
    low: int,
    high: int,
    start: datetime,
    step: timedelta,
) -> list[dict[str, Any]]:
    rows = []
    names = list(WATCHLISTS)
    for k in range(low, high):
        i = k + 1
        feed = rng.randrange(20) + 1
        language = LANGUAGES[(feed - 1) % 4]
        words = vocab[language]
        alerted = rng.sample(names, 2 if rng.random() < 0.25 else 1)
        text = words.pick(rng, 70)
        for w in alerted:
            text.insert(rng.randrange(len(text)), WATCHLISTS[w][language])
        if rng.random() < 1 / 20_000:
            text.insert(rng.randrange(len(text)), RARE)
        title = " ".join(words.pick(rng, 7) + [WATCHLISTS[alerted[0]][language]]).capitalize()
        at = start + step * k + timedelta(seconds=rng.random() * step.total_seconds())
        rows.append(
            {
                "id": i,
                "feed": feed,
                "language": language,
                "title": title,
                "text": " ".join(text) + ".",
                "url": f"https://news{feed}.example/{language}/{at:%Y/%m/%d}/{i}",
                "sitename": f"News {feed}",
                "at": at,
                "watchlists": alerted,
            }
        )
    return rows


def stored_alerts(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Alert)) or 0)


# ------------------------------------------------------------------ measuring


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, max) in milliseconds, after one warm-up run."""
    call()
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), max(spent)


def queries(db: Database) -> Iterator[tuple[str, str, Callable[[], object]]]:
    now = datetime.now(UTC)
    month = now - timedelta(days=30)
    feeds = [f"feed{i:02d}-{LANGUAGES[(i - 1) % 4]}" for i in range(1, 21)]

    def search(query: str, **kw: Any) -> Callable[[], object]:
        return lambda: run(db, Request(query=query, **kw))

    yield "list", "alerts list (newest 50)", lambda: list_alerts(db)
    yield "list", "alerts list --watchlist osce", lambda: list_alerts(db, watchlist="osce")
    yield "list", "alerts list --feed feed07-de", lambda: list_alerts(db, feed="feed07-de")
    yield (
        "list",
        "alerts list --until 180d (a late page)",
        lambda: list_alerts(db, until=now - timedelta(days=180)),
    )
    yield "search", "alerts search NATO", search("NATO")
    yield "search", f"alerts search {RARE} (rare)", search(RARE)
    yield "search", 'alerts search "arms control"', search('"arms control"')
    # a phrase of common words that is itself rare: every article with its words differs
    yield "search", 'alerts search "nuclear arms control"', search('"nuclear arms control"')
    yield "search", 'alerts search "контроль вооружений"', search('"контроль вооружений"')
    yield "search", "alerts search Рябков", search("Рябков")
    yield (
        "search",
        "alerts search OSCE --watchlist osce --since 30d",
        search("OSCE", watchlist="osce", since=month),
    )
    yield "search", "alerts search NATO --page 5", search("NATO", skip=200)
    yield "search", "alerts search NATO --status failed", search("NATO", status="failed")
    names = {"watchlist": list(WATCHLISTS), "feed": feeds, "term": []}
    shapes: list[tuple[Dimension, Bucket]] = [
        ("watchlist", "day"),
        ("feed", "day"),
        ("term", "day"),
        ("watchlist", "hour"),
    ]
    for by, bucket in shapes:
        since = now - (timedelta(days=7) if bucket == "hour" else timedelta(days=30))
        label = f"stats --by {by}" + (" --bucket hour --since 7d" if bucket == "hour" else "")
        yield (
            "stats",
            label,
            partial(report, db, by, since, now, bucket, "UTC", names[by]),
        )
    yield (
        "stats",
        "stats --by watchlist --since 365d",
        lambda: report(db, "watchlist", now - SPAN, now, "day", "UTC", names["watchlist"]),
    )


def cli_queries() -> list[tuple[str, list[str]]]:
    return [
        ("list", ["alerts", "list", "--format", "json"]),
        ("list", ["alerts", "list", "--format", "json", "--watchlist", "osce"]),
        ("search", ["alerts", "search", "--format", "json", "NATO"]),
        ("search", ["alerts", "search", "--format", "json", "Рябков"]),
        ("search", ["alerts", "search", "--format", "json", "OSCE", "--watchlist", "osce"]),
        ("list", ["alerts", "list"]),  # a rich table: its rendering costs more than the query
        ("stats", ["stats"]),
        ("stats", ["stats", "--by", "feed"]),
        ("stats", ["stats", "--by", "term"]),
        ("stats", ["stats", "--bucket", "hour", "--since", "7d"]),
    ]


def _config(url: str, folder: Path) -> Path:
    lines = [f'[database]\nurl = "{url}"\n']
    for i in range(1, 21):
        name = f"feed{i:02d}-{LANGUAGES[(i - 1) % 4]}"
        lines.append(f'[[feed]]\nname = "{name}"\nurl = "https://news{i}.example/rss.xml"\n')
    for name, terms in WATCHLISTS.items():
        quoted = ", ".join(f'"{t}"' for t in dict.fromkeys(terms.values()))
        lines.append(f"[watchlist.{name}]\nterms = [{quoted}]\n")
    path = folder / "newsmon.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def measure_cli(url: str, folder: Path, runs: int) -> list[tuple[str, str, float, float]]:
    from click.testing import CliRunner

    from monitor.cli import cli

    config = _config(url, folder)
    runner = CliRunner()
    figures = []
    for kind, args in cli_queries():

        def call(args: Sequence[str] = args) -> None:
            result = runner.invoke(cli, ["--config", str(config), "--log-level", "error", *args])
            if result.exit_code != 0:
                raise SystemExit(f"newsmon {' '.join(args)} failed: {result.output}")

        median, worst = timed(call, runs)
        figures.append((kind, "newsmon " + " ".join(args), median, worst))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=1_000_000, help="history size")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--reuse", action="store_true", help="keep a history already there")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query")
    parser.add_argument("--cli", action="store_true", help="also time the commands end to end")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="newsmon-history-"))
    url = args.database_url or f"sqlite:///{folder / 'history.db'}"
    db = connect(url)
    err.print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
    timings: dict[str, float] = {}
    if args.reuse and url and _has_history(db, args.alerts):
        err.print(f"reusing the {args.alerts:,} alerts already stored")
    else:
        _reset(db)
        db.migrate()
        timings = build(db, args.alerts, args.seed)
    size = stored_alerts(db)
    figures = [(kind, label, *timed(call, args.runs)) for kind, label, call in queries(db)]
    db.close()
    if args.cli:
        figures += measure_cli(url, folder, args.runs)
    _print(url, size, timings, figures, args.runs)


def _has_history(db: Database, wanted: int) -> bool:
    try:
        db.migrate()
        return stored_alerts(db) == wanted
    except Exception:  # noqa: BLE001 - no schema yet: build it
        return False


def _reset(db: Database) -> None:
    """An empty database: every table dropped (a benchmark database, never a real one)."""
    if db.engine.dialect.name == "sqlite":
        path = Path(db.engine.url.database or "")
        db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(db.engine)
    with db.engine.begin() as conn:
        for name in meta.tables:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')


def _print(
    url: str,
    size: int,
    timings: dict[str, float],
    figures: list[tuple[str, str, float, float]],
    runs: int,
) -> None:
    backend = url.split(":", 1)[0]
    out.print(f"\n[bold]{backend}[/bold]: {size:,} alerts")
    if timings:
        rows = timings["rows"]
        out.print(
            f"build: insert {timings['insert']:.0f} s ({rows:,.0f} rows, "
            f"{rows / timings['insert']:,.0f} rows/s), recount {timings['recount']:.0f} s, "
            f"reindex {timings['reindex']:.0f} s ({size / timings['reindex']:,.0f} articles/s)"
        )
    table = Table(title=f"median and slowest of {runs} runs after a warm-up; target 300 ms")
    for column in ("", "query", "median ms", "max ms", "≤ 300 ms"):
        table.add_column(column, justify="right" if "ms" in column else "left")
    for kind, label, median, worst in figures:
        mark = "[green]✓[/green]" if worst <= TARGET_MS else "[red]✗[/red]"
        table.add_row(kind, label, f"{median:.1f}", f"{worst:.1f}", mark)
    out.print(table)


if __name__ == "__main__":
    main()
