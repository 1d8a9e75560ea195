"""The daemon's polling over many sources on its real schedule, and the cost of a poll.

    .venv/bin/python bench/cycle.py --feeds 20000           # 5 intervals of 10 minutes
    .venv/bin/python bench/cycle.py --feeds 2000 --profile /tmp/cycle.pstats
    .venv/bin/python bench/cycle.py --naive                 # against a plain loop
    .venv/bin/python bench/cycle.py --database-url postgresql://postgres@127.0.0.1/bench

A local server (its own process, 127.0.0.1 only) serves ``--feeds`` sources of
``--entries`` entries each (default 20): eight in ten RSS feeds, one a news sitemap, one
a section page of links (configured ``kind``), with an article page behind every entry
(fetched and extracted: ``[defaults] fetch_articles`` stays on; ``--no-articles`` turns
it off), and answers conditional GETs with 304.

The daemon's schedule: every source has ``[defaults] interval`` = ``--interval`` (600 s,
``adapt = false``). One process runs what the daemon's poll job runs (monitor.daemon):
a cycle (run_cycle: the sources due, under leases, ``[http] concurrency`` threads,
``[scale] workers`` worker processes), then what follows a cycle (spikes, feed health),
once per tick (5 s), on SQLite in a temporary folder. It runs on a simulated clock:
real time while it works, and the idle time until the next tick at which a source is due
is skipped, so five 10-minute intervals take the minutes their work takes, not 50. The
first interval records every source's backlog (the first cycle polls them all); before
each later one, between ``--changed-min`` and ``--changed-max`` of the sources (1% to
10%, a different share each interval) gain one entry. Per interval it prints:

- sources polled, cycles run, and overdue sources (next check more than ``--grace``,
  60 s, in the past) at the interval's start and end, and the longest wait;
- busy seconds (the cycles' wall time), CPU seconds of the daemon and its workers (and
  of the daemon process alone), peak RSS summed over them (and of the daemon alone),
  sampled from /proc every 0.1 s; the daemon's CPU outside the polls, per poll;
- CPU per unchanged poll (304 or the same bytes; thread CPU of the polling thread);
- CPU per new article from fetch to commit: the changed polls' CPU (their threads' and
  their worker calls') over the new articles, by stage: fetch (the document and the
  pages), parse and extract (the daemon's side, and the worker's CPU over the call),
  match, stories (copies and events), index (search words), store (every call into
  monitor.store.entries), other.

``--profile FILE``: a cProfile (thread CPU time) of the daemon process over the
intervals after the backlog, every polling thread's and the cycle's, merged; it
inflates the CPU figures, so measure without it.

``--naive``: the earlier comparison. Cycles of every feed (2,000 feeds of 50 entries, a
tenth changed) by ``run_cycle`` of a real context, and by a loop in its own process that
fetches every feed (urllib) and parses it with feedparser, one after the other, and does
nothing else: wall time, CPU time and peak memory of each (RSS and PSS summed over the
process tree), and the CPU time the local site spent serving it. Progress goes to
stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# no proxy for 127.0.0.1, whatever the environment says
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
WORDS = (
    "Ministers met on Tuesday to discuss the budget, the harbour and the weather, and "
    "officials said more talks would follow next week in the capital. "
)
VOCABULARY = [
    f"{a}{b}"
    for a in ("har", "bud", "cap", "win", "rail", "port")
    for b in ("bour", "get", "ital", "ter", "way", "side", "line", "stone", "field", "wood")
]


# ------------------------------------------------------------------ the site (own process)
def serve(feeds: int, entries: int, every: int) -> None:
    from monitor.demo.server import Reply, Site

    class Bench(Site):
        def __init__(self) -> None:
            super().__init__(None)
            self.version, self.round, self.feed_hits = [0] * feeds, 0, 0
            self.cache: dict[tuple[int, int], bytes] = {}

        def reply_for(self, path: str) -> Reply:
            parts = path.strip("/").split("/")
            if parts[0] == "next":  # a tenth of the feeds gain an entry (/next/N: N each)
                gained = int(parts[1]) if len(parts) > 1 else 1
                with self.lock:
                    self.round += 1
                    for i in range(self.round % every, feeds, every):
                        self.version[i] += gained
                return Reply(200, b"ok")
            if parts == ["stats"]:
                return Reply(200, str(self.feed_hits).encode())
            if parts[0] == "feed":
                i = int(parts[1].removesuffix(".xml"))
                with self.lock:
                    self.feed_hits += 1
                    key = (i, self.version[i])
                    body = self.cache.get(key) or self._feed(*key)
                    self.cache[key] = body
                return Reply(200, body, {"Content-Type": "application/rss+xml"})
            if parts[0] == "a":
                return Reply(200, _page(int(parts[1]), int(parts[2].removesuffix(".html"))))
            return Reply(404, b"not found")

        def _feed(self, i: int, version: int) -> bytes:
            items = "".join(
                f"<item><title>Report {i}-{n}: talks on the budget</title>"
                f"<link>{self.base}/a/{i}/{n}.html</link><guid>bench-{i}-{n}</guid>"
                f"<pubDate>Tue, 03 Mar 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 GMT</pubDate>"
                f"<description>&lt;p&gt;Teaser {n} of feed {i}. {WORDS}&lt;/p&gt;</description>"
                "</item>"
                for n in range(version + entries - 1, version - 1, -1)
            )
            return (
                f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Bench feed {i}</title><link>{self.base}/</link>{items}</channel></rss>"
            ).encode()

    with Bench() as site:
        print(site.base, flush=True)
        sys.stdin.read()  # until the controller is done


def _page(i: int, n: int) -> bytes:
    """An article of its own: words drawn (deterministically) from a vocabulary, so
    that articles do not group into one story; one in five mentions a watchlist term."""
    topic = ["NATO ministers met in Brussels.", "Grain talks on Ukraine.", "", "", ""][
        (i // 10 + n) % 5
    ]
    pick = random.Random(i * 100_003 + n)
    paragraphs = "".join(
        f"<p>{topic} {' '.join(pick.choices(VOCABULARY, k=60))}.</p>" for _ in range(6)
    )
    return (
        f"<html><head><title>Report {i}-{n}</title></head><body><nav>Home News</nav>"
        f"<article><h1>Report {i}-{n}</h1>{paragraphs}</article><footer>(c)</footer></body></html>"
    ).encode()


# ------------------------------------------------------------------ the measured processes
def newsmon(config: str) -> None:
    from monitor.config.settings import load
    from monitor.log import setup_logging
    from monitor.pipeline.assembly import close_context, open_context
    from monitor.pipeline.cycle import run_cycle

    setup_logging()  # info lines to the log file, as the daemon writes them
    ctx = open_context(load(Path(config)))
    print("ready", flush=True)
    for _ in sys.stdin:
        started = time.perf_counter()
        results = run_cycle(ctx)
        statuses = [r.status for r in results]
        figures = {s: statuses.count(s) for s in set(statuses)}
        figures["alerts"] = sum(len(r.alerts) for r in results)
        print(json.dumps({"seconds": time.perf_counter() - started, **figures}), flush=True)
    close_context(ctx)


def naive(base: str, feeds: int) -> None:
    import feedparser

    print("ready", flush=True)
    for _ in sys.stdin:
        started, parsed = time.perf_counter(), 0
        for i in range(feeds):
            with OPENER.open(f"{base}/feed/{i}.xml", timeout=60) as answer:
                parsed += len(feedparser.parse(answer.read()).entries)
        print(json.dumps({"seconds": time.perf_counter() - started, "entries": parsed}), flush=True)


# ------------------------------------------------------------------ measuring from outside
def tree(pid: int) -> list[int]:
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += tree(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of each process, and of its children it has waited for."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """Sum of RSS and sum of PSS, in MB."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(("Rss:", "Pss:")):
                    value = int(line.split()[1])
                    rss, pss = (rss + value, pss) if line[0] == "R" else (rss, pss + value)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return rss / 1024, pss / 1024


@dataclass
class Run:
    name: str
    seconds: float
    cpu: float
    rss: float
    pss: float
    main: float  # peak RSS of the process itself, without its workers
    main_cpu: float  # CPU time of the process itself
    answer: dict[str, float]
    server_cpu: float = 0.0  # CPU time of the local site serving this run


class Child:
    """A measured process: one line in starts a round, one JSON line out ends it."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        self.name = name
        with log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def measure(self, progress: Progress, task: TaskID, base: str, server: int) -> Run:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        pids = tree(self.proc.pid)
        cpu0, peak, done = cpu_seconds(pids), [0.0, 0.0, 0.0], threading.Event()
        main0 = _own_cpu(self.proc.pid)
        hits0 = _hits(base)
        served0 = _own_cpu(server)

        def sample() -> None:
            while not done.wait(0.1):
                rss, pss = memory_mb(tree(self.proc.pid))
                main = memory_mb([self.proc.pid])[0]
                peak[:] = [max(peak[0], rss), max(peak[1], pss), max(peak[2], main)]
                progress.update(task, completed=_hits(base) - hits0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        done.set()
        sampler.join()
        cpu = cpu_seconds(tree(self.proc.pid)) - cpu0
        main_cpu = _own_cpu(self.proc.pid) - main0
        served = _own_cpu(server) - served0
        figures = (cpu, peak[0], peak[1], peak[2], main_cpu, answer, served)
        return Run(self.name, answer["seconds"], *figures)

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(120)


def _own_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hits(base: str) -> int:
    with OPENER.open(f"{base}/stats", timeout=30) as answer:
        return int(answer.read())


def write_config(path: Path, base: str, args: argparse.Namespace) -> None:
    db = args.database_url or f"sqlite:///{path.parent / 'bench.db'}"
    lines = [
        f'[database]\nurl = "{db}"\n',
        # one local server stands in for the servers of 2,000 feeds: the per-host limit
        # (politeness towards one server) would otherwise hold the whole cycle to 2
        f'[http]\nallow_networks = ["127.0.0.1/32"]\nconcurrency = {args.concurrency}\n'
        f"per_host = {args.concurrency}\n",
        # every feed due at every cycle: no adaptive interval stretching a quiet feed's
        '[defaults]\ninterval = "0.001s"\nadapt = false\nalert_backlog = false\n',
        f"[scale]\nworkers = {args.workers}\n",
        '[watchlist.nato]\nterms = ["NATO"]\n',
        '[watchlist.ukraine]\nterms = ["Ukraine"]\n',
    ]
    lines += [f'[[feed]]\nname = "b{i}"\nurl = "{base}/feed/{i}.xml"\n' for i in range(args.feeds)]
    path.write_text("\n".join(lines), encoding="utf-8")


def bar(value: float, top: float, width: int = 40) -> str:
    filled = round(width * value / top) if top else 0
    return "█" * filled + "·" * (width - filled)


def report(first: Run, runs: list[Run], args: argparse.Namespace) -> None:
    ours = [r for r in runs if r.name == "newsmon"]
    plain = [r for r in runs if r.name == "naive"]
    print(f"\n{args.feeds} feeds x {args.entries} entries, {1 / args.every:.0%} changed per cycle;")
    print(f"newsmon: [scale] workers = {args.workers}, [http] concurrency = {args.concurrency}")
    print(f"first newsmon cycle (backlog): {first.seconds:.1f} s, CPU {first.cpu:.1f} s, ", end="")
    print(f"peak RSS {first.rss:.0f} MB, PSS {first.pss:.0f} MB\n")
    print("run      cycle  wall s  CPU s (itself)  peak RSS MB (itself)  peak PSS MB", end="")
    print("  site CPU s  result")
    for n, r in enumerate(runs):
        shown = {k: v for k, v in r.answer.items() if k != "seconds"}
        print(
            f"{r.name:8} {n // 2 + 1:5} {r.seconds:7.1f} {r.cpu:6.1f} ({r.main_cpu:5.1f}) "
            f"{r.rss:11.0f} ({r.main:4.0f}) {r.pss:12.0f} {r.server_cpu:11.1f}  {json.dumps(shown)}"
        )
    figures = {
        "wall s": (
            statistics.median(r.seconds for r in ours),
            statistics.median(r.seconds for r in plain),
        ),
        "CPU s": (statistics.median(r.cpu for r in ours), statistics.median(r.cpu for r in plain)),
        "peak RSS MB": (max(r.rss for r in ours), max(r.rss for r in plain)),
        "peak PSS MB": (max(r.pss for r in ours), max(r.pss for r in plain)),
    }
    print("\nmedians of the cycles (peaks: the highest)")
    for label, (a, b) in figures.items():
        top = max(a, b)
        print(f"  {label}\n    newsmon {bar(a, top)} {a:7.1f}\n    naive   {bar(b, top)} {b:7.1f}")
    ratio = figures["wall s"][0] / figures["wall s"][1]
    print(
        f"\ncycle / naive loop: {ratio:.2f} (target <= 0.20: {'met' if ratio <= 0.2 else 'missed'})"
    )
    rss, pss = figures["peak RSS MB"][0], figures["peak PSS MB"][0]
    print(f"newsmon peak memory: RSS {rss:.0f} MB, PSS {pss:.0f} MB (target <= 250 MB: ", end="")
    print(f"RSS {'met' if rss <= 250 else 'missed'}, PSS {'met' if pss <= 250 else 'missed'})")


# ------------------------------------------------------------------ the daemon's schedule
# --interval: sources of three kinds, each due every interval; the daemon's poll job run
# as the daemon runs it (monitor.daemon: a cycle every tick), on a simulated clock

KIND_OF = ("feed",) * 8 + ("sitemap", "page")  # by source number modulo 10
SHARES = (1.0, 0.0, 0.5, 0.25, 0.75)  # of the way from --changed-min to --changed-max


def kind_of(i: int) -> str:
    return KIND_OF[i % len(KIND_OF)]


def serve_mix(feeds: int, entries: int) -> None:
    """Feeds, sitemaps and section pages; /change/COUNT/SEED gives COUNT of them a new
    entry each. Bodies are made once per version and carry their own ETag."""
    from monitor.demo.server import Reply, Site

    class Mix(Site):
        def __init__(self) -> None:
            super().__init__(None)
            self.version, self.doc_hits = [0] * feeds, 0
            self.cache: dict[int, tuple[int, Reply]] = {}

        def reply_for(self, path: str) -> Reply:
            parts = path.strip("/").split("/")
            if parts[0] == "change":
                chosen = random.Random(int(parts[2])).sample(range(feeds), int(parts[1]))
                with self.lock:
                    for i in chosen:
                        self.version[i] += 1
                return Reply(200, b"ok")
            if parts == ["stats"]:
                return Reply(200, str(self.doc_hits).encode())
            if parts[0] == "src":
                i = int(parts[1])
                with self.lock:
                    self.doc_hits += 1
                    version = self.version[i]
                    cached = self.cache.get(i)
                    if cached is None or cached[0] != version:
                        cached = (version, self._document(i, version))
                        self.cache[i] = cached
                return cached[1]
            if parts[0] == "a":
                return Reply(200, _page(int(parts[1]), int(parts[2].removesuffix(".html"))))
            return Reply(404, b"not found")

        def _document(self, i: int, version: int) -> Reply:
            numbers = range(version + entries - 1, version - 1, -1)
            link = f"{self.base}/a/{i}/{{n}}/talks-on-the-budget.html"
            kind = kind_of(i)
            if kind == "sitemap":
                urls = "".join(
                    f"<url><loc>{link.format(n=n)}</loc>"
                    f"<lastmod>2026-03-03T{n // 60 % 24:02d}:{n % 60:02d}:00Z</lastmod></url>"
                    for n in numbers
                )
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>'
                    f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                )
                kind_type = "application/xml"
            elif kind == "page":
                links = "".join(
                    f'<li><a href="{link.format(n=n)}">Report {i}-{n}: talks on the budget</a></li>'
                    for n in numbers
                )
                body = (
                    f"<html><head><title>Section {i}</title></head><body><nav><a href='/'>Home"
                    f"</a></nav><main><h1>Latest</h1><ul>{links}</ul></main></body></html>"
                )
                kind_type = "text/html; charset=utf-8"
            else:
                items = "".join(
                    f"<item><title>Report {i}-{n}: talks on the budget</title>"
                    f"<link>{link.format(n=n)}</link><guid>bench-{i}-{n}</guid>"
                    f"<pubDate>Tue, 03 Mar 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 GMT</pubDate>"
                    f"<description>&lt;p&gt;Teaser {n} of feed {i}. {WORDS}&lt;/p&gt;"
                    "</description></item>"
                    for n in numbers
                )
                body = (
                    f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                    f"<title>Bench feed {i}</title><link>{self.base}/</link>{items}"
                    "</channel></rss>"
                )
                kind_type = "application/rss+xml"
            headers = {"Content-Type": kind_type, "ETag": f'"{i}-{version}"'}
            return Reply(200, body.encode(), headers)

    with Mix() as site:
        print(site.base, flush=True)
        sys.stdin.read()


class SimClock:
    """Real time, plus the idle time skipped: work takes the time it takes, waiting for
    the next due source takes none."""

    def __init__(self) -> None:
        from monitor.model import utcnow

        self._now, self.offset = utcnow, 0.0

    def __call__(self) -> datetime:
        return self._now() + timedelta(seconds=self.offset)

    def skip_to(self, when: datetime) -> None:
        self.offset += max(0.0, (when - self()).total_seconds())


class Stages:
    """CPU seconds by stage, in this process (each thread's own CPU time) and in the
    worker processes (their CPU time over each call), gathered per poll and summed by
    what the poll found: unchanged (304 or the same bytes) or changed."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.totals = self._fresh()

    @staticmethod
    def _fresh() -> dict[str, Any]:
        counts = {"unchanged": 0, "changed": 0, "other": 0, "new": 0}
        return {**counts, "cpu_unchanged": 0.0, "cpu_changed": 0.0, "cpu_other": 0.0, "stages": {}}

    def reset(self) -> dict[str, Any]:
        """The totals so far; counting starts again."""
        with self.lock:
            old, self.totals = self.totals, self._fresh()
        return old

    def add(self, stage: str, seconds: float) -> None:
        poll = getattr(self.local, "poll", None)
        if poll is not None:
            poll[stage] = poll.get(stage, 0.0) + seconds

    def timed(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(stage, time.thread_time() - started)

        return run

    def poll(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            self.local.poll, started = {}, time.thread_time()
            result = fn(*args, **kwargs)
            cpu, stages, self.local.poll = time.thread_time() - started, self.local.poll, None
            found = {"unchanged": "unchanged", "not-modified": "unchanged", "ok": "changed"}
            what = found.get(result.status, "other")
            with self.lock:
                t = self.totals
                t[what] += 1
                t[f"cpu_{what}"] += (
                    cpu + stages.get("parse (worker)", 0.0) + stages.get("extract (worker)", 0.0)
                )
                if what == "changed":
                    t["new"] += result.new_entries - result.backlog
                    for stage, seconds in stages.items():
                        t["stages"][stage] = t["stages"].get(stage, 0.0) + seconds
            return result

        return run


def instrument(stages: Stages) -> None:
    """Wrap the stages of a poll, as run_cycle calls them, in CPU-time counters."""
    from monitor.pipeline import cycle, entry, feed, pool

    cycle.refresh_feed = stages.poll(cycle.refresh_feed)  # type: ignore[assignment]
    feed._fetch = stages.timed("fetch", feed._fetch)  # type: ignore[assignment]
    entry.get = stages.timed("fetch", entry.get)  # type: ignore[assignment]
    workers = pool.Workers
    workers.read_document = stages.timed("parse", workers.read_document)  # type: ignore[method-assign]
    workers.extract_page = stages.timed("extract", workers.extract_page)  # type: ignore[method-assign]
    entry.find_matches = stages.timed("match", entry.find_matches)  # type: ignore[assignment]
    entry._identity = stages.timed("stories", entry._identity)  # type: ignore[assignment]
    entry._event = stages.timed("stories", entry._event)  # type: ignore[assignment]
    entry.index_words = stages.timed("index", entry.index_words)  # type: ignore[assignment]
    store = entry.entry_store
    entry.entry_store = _Wrapped(store, stages)  # type: ignore[assignment]
    feed.entry_store = entry.entry_store  # type: ignore[assignment]
    call = pool._Worker.call

    def worker_call(self: Any, fn: Any, *args: Any) -> Any:
        before = _own_cpu(self.proc.pid)
        try:
            return call(self, fn, *args)
        finally:
            stage = "extract (worker)" if "extract" in fn.__name__ else "parse (worker)"
            stages.add(stage, _own_cpu(self.proc.pid) - before)

    pool._Worker.call = worker_call  # type: ignore[method-assign]


class _Wrapped:
    """monitor.store.entries with its writes counted as the stage "store"."""

    def __init__(self, module: Any, stages: Stages) -> None:
        self._module, self._stages = module, stages

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._module, name)
        return self._stages.timed("store", found) if callable(found) else found


def schedule_newsmon(config: str, interval: float, grace: float, profile: str) -> None:
    """The daemon's poll job (a cycle, then what follows one) every tick, on a simulated
    clock; one line in runs one interval of it, one JSON line out reports it."""
    import cProfile

    from sqlalchemy import func, select

    from monitor.config.settings import load
    from monitor.daemon import _tick
    from monitor.log import setup_logging
    from monitor.pipeline import cycle as cycle_module
    from monitor.pipeline.assembly import after_cycle, close_context, open_context
    from monitor.store.tables import Feed

    setup_logging()
    settings = load(Path(config))
    clock = SimClock()
    ctx = replace(open_context(settings), clock=clock)
    tick = _tick(settings)
    stages = Stages()
    instrument(stages)
    profiles: list[cProfile.Profile] = []
    if profile:
        profiled = threading.local()
        inner = cycle_module.refresh_feed

        def refresh(*args: Any, **kwargs: Any) -> Any:
            if not is_profiled:
                return inner(*args, **kwargs)
            if getattr(profiled, "p", None) is None:
                profiled.p = cProfile.Profile(time.thread_time)
                profiles.append(profiled.p)
            profiled.p.enable()
            try:
                return inner(*args, **kwargs)
            finally:
                profiled.p.disable()

        cycle_module.refresh_feed = refresh  # type: ignore[assignment]
        main_profile = cProfile.Profile(time.thread_time)
        profiles.append(main_profile)

    def overdue(now: datetime) -> tuple[int, float]:
        with ctx.db.engine.connect() as conn:
            late = now - timedelta(seconds=grace)
            count = conn.scalar(
                select(func.count()).where(Feed.is_enabled, Feed.next_check_at < late)
            )
            first = conn.scalar(select(func.min(Feed.next_check_at)).where(Feed.is_enabled))
        return int(count or 0), max(0.0, (now - first).total_seconds()) if first else 0.0

    def earliest_due() -> datetime | None:
        with ctx.db.engine.connect() as conn:
            return conn.scalar(select(func.min(Feed.next_check_at)).where(Feed.is_enabled))

    is_profiled = False  # the backlog's interval is left out
    print("ready", flush=True)
    for number, _ in enumerate(sys.stdin):
        is_profiled = bool(profile) and number > 0
        start, cycles, polled = clock(), 0, 0
        end = start + timedelta(seconds=interval)
        stages.reset()
        before = overdue(start)
        started, working = time.perf_counter(), 0.0
        while clock() < end:
            tick_at = clock()
            began = time.perf_counter()
            if is_profiled:
                main_profile.enable()
            results = cycle_module.run_cycle(ctx)
            after_cycle(ctx, results)
            if is_profiled:
                main_profile.disable()
            working += time.perf_counter() - began
            cycles, polled = cycles + 1, polled + len(results)
            # the next tick, or the first tick at which a source is due: the daemon's
            # ticks in between find nothing due, and the clock skips them
            due = earliest_due() or end
            ticks = max(1, math.ceil((due - tick_at).total_seconds() / tick))
            nxt = tick_at + timedelta(seconds=ticks * tick)
            clock.skip_to(min(nxt, end))
        after = overdue(end)
        totals = stages.reset()
        answer = {
            "seconds": working,
            "real": time.perf_counter() - started,
            "cycles": cycles,
            "polled": polled,
            "overdue": [before[0], after[0]],
            "late": [before[1], after[1]],
            **totals,
        }
        print(json.dumps(answer), flush=True)
    if profile:
        import pstats

        merged = pstats.Stats(profiles[0])
        for p in profiles[1:]:
            merged.add(p)
        merged.dump_stats(profile)
    close_context(ctx)


def schedule_config(path: Path, base: str, args: argparse.Namespace) -> None:
    db = args.database_url or f"sqlite:///{path.parent / 'bench.db'}"
    lines = [
        f'[database]\nurl = "{db}"\n',
        f'[http]\nallow_networks = ["127.0.0.1/32"]\nconcurrency = {args.concurrency}\n'
        f"per_host = {args.concurrency}\n",
        # a fixed interval: the schedule to keep is the configured one
        f'[defaults]\ninterval = "{args.interval:g}s"\nadapt = false\nalert_backlog = false\n'
        f"fetch_articles = {'true' if args.articles else 'false'}\n",
        f"[scale]\nworkers = {args.workers}\n",
        '[watchlist.nato]\nterms = ["NATO"]\n',
        '[watchlist.ukraine]\nterms = ["Ukraine"]\n',
    ]
    lines += [
        f'[[feed]]\nname = "s{i}"\nurl = "{base}/src/{i}"\nkind = "{kind_of(i)}"\n'
        for i in range(args.feeds)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def schedule_main(args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    work = Path(tempfile.mkdtemp(prefix="newsmon-cycle-"))
    server = subprocess.Popen(
        [sys.executable, __file__, "serve-mix", str(args.feeds), str(args.entries)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    base = server.stdout.readline().strip()
    schedule_config(work / "bench.toml", base, args)
    role = ["schedule", str(work / "bench.toml"), str(args.interval), str(args.grace)]
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    runs: list[tuple[float, Run]] = []
    try:
        with Progress(*columns, console=Console(stderr=True)) as progress:
            start = progress.add_task("starting newsmon", total=None)
            ours = Child("newsmon", [*role, args.profile or ""], work / "newsmon.log")
            progress.remove_task(start)
            for window in range(args.cycles + 1):
                span = args.changed_max - args.changed_min
                share = 0.0 if not window else args.changed_min + span * SHARES[(window - 1) % 5]
                count = round(args.feeds * share)
                OPENER.open(f"{base}/change/{count}/{window}", timeout=30).read()
                label = "first interval (backlog)" if not window else f"interval {window}"
                task = progress.add_task(f"newsmon, {label}", total=args.feeds)
                runs.append((share, ours.measure(progress, task, base, server.pid)))
            ours.stop()
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(30)
    schedule_report(runs, args)
    print(f"(logs and database in {work})")


def _around_polls(run: Run) -> float:
    """The daemon process's CPU seconds outside the polls themselves: claims, releases,
    the health check and spike check after each cycle."""
    a = run.answer
    workers = sum(v for k, v in a["stages"].items() if "(worker)" in k)
    polls = a["cpu_unchanged"] + a["cpu_changed"] + a["cpu_other"] - workers
    return run.main_cpu - polls


def schedule_report(runs: list[tuple[float, Run]], args: argparse.Namespace) -> None:
    kinds = {
        k: sum(kind_of(i) == k for i in range(args.feeds)) for k in ("feed", "sitemap", "page")
    }
    print(
        f"\n{args.feeds} sources ({', '.join(f'{n} {k}s' for k, n in kinds.items())}) x "
        f"{args.entries} entries, interval {args.interval:g} s (simulated clock: idle time "
        f"skipped), article pages {'fetched' if args.articles else 'not fetched'}; "
        f"[scale] workers = {args.workers}, [http] concurrency = {args.concurrency}; "
        f"overdue: due more than {args.grace:g} s ago"
    )
    print(
        "\nint  changed  polled cycles overdue    late s   busy s  CPU s (daemon)  RSS MB (daemon)"
        "  cycle ms/poll"
    )
    for n, (share, r) in enumerate(runs):
        a = r.answer
        print(
            f"{n:3} {share:7.1%} {a['polled']:7d} {a['cycles']:6d} {a['overdue'][0]:5d}>"
            f"{a['overdue'][1]:<5d} {a['late'][0]:4.0f}>{a['late'][1]:<4.0f} "
            f"{r.seconds:7.1f} {r.cpu:6.1f} ({r.main_cpu:5.1f}) {r.rss:8.0f} ({r.main:4.0f})"
            f" {1000 * _around_polls(r) / max(1, a['polled']):8.2f}"
        )
    names = (
        "fetch",
        "parse",
        "parse (worker)",
        "extract",
        "extract (worker)",
        "match",
        "stories",
        "index",
        "store",
    )
    print(
        "\nCPU ms per unchanged poll (304 or same bytes) and per new article (fetch to "
        "commit, the changed polls' CPU over their new entries), by stage; 'x' = in a worker"
    )
    print(
        "int  unchgd  polls   new  /article  fetch parse  x    extr  x    match stor index"
        " store other"
    )
    for n, (_, r) in enumerate(runs):
        a = r.answer
        per_poll = 1000 * a["cpu_unchanged"] / a["unchanged"] if a["unchanged"] else 0.0
        if not a["new"]:  # the backlog: recorded, not read
            print(f"{n:3} {per_poll:6.2f} {a['unchanged']:6d} {a['new']:5d}  (backlog)")
            continue
        new = a["new"]
        stage = {k: 1000 * a["stages"].get(k, 0.0) / new for k in names}
        per_new = 1000 * a["cpu_changed"] / new
        other = per_new - sum(stage.values())
        print(
            f"{n:3} {per_poll:6.2f} {a['unchanged']:6d} {a['new']:5d} {per_new:8.1f} "
            + " ".join(f"{stage[k]:5.1f}" for k in names)
            + f" {other:5.1f}"
        )
    later = [r for _, r in runs[1:]]
    if later:
        rss = max(r.rss for r in later)
        grew = [r.answer["overdue"][1] for r in later]
        print(
            f"\nafter the backlog: peak RSS {rss:.0f} MB summed (target <= 300 MB: "
            f"{'met' if rss <= 300 else 'missed'}); overdue at interval ends {grew} "
            f"({'not growing' if grew[-1] <= grew[0] else 'GROWING'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--entries", type=int, help="per source (default 20; --naive: 50)")
    parser.add_argument("--changed", type=float, default=0.1, help="--naive: share changed")
    parser.add_argument("--cycles", type=int, help="intervals after the backlog (default 5)")
    parser.add_argument(
        "--naive", action="store_true", help="cycles of every feed against a plain loop"
    )
    parser.add_argument("--interval", type=float, default=600.0, help="seconds")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds due: overdue")
    parser.add_argument("--changed-min", type=float, default=0.01)
    parser.add_argument("--changed-max", type=float, default=0.10)
    parser.add_argument(
        "--no-articles", dest="articles", action="store_false", help="fetch_articles = false"
    )
    parser.add_argument("--profile", help="cProfile of the daemon process to this file")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    args.every = max(1, round(1 / args.changed))
    args.entries = args.entries or (50 if args.naive else 20)
    args.cycles = args.cycles or (3 if args.naive else 5)
    if not args.naive:
        schedule_main(args)
        return

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    work = Path(tempfile.mkdtemp(prefix="newsmon-cycle-"))
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", str(args.feeds), str(args.entries), str(args.every)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    base = server.stdout.readline().strip()
    write_config(work / "bench.toml", base, args)
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=Console(stderr=True)) as progress:
            start = progress.add_task("starting newsmon and the naive loop", total=None)
            ours = Child("newsmon", ["newsmon", str(work / "bench.toml")], work / "newsmon.log")
            plain = Child("naive", ["naive", base, str(args.feeds)], work / "naive.log")
            progress.remove_task(start)
            task = progress.add_task("newsmon, first cycle (backlog)", total=args.feeds)
            first = ours.measure(progress, task, base, server.pid)
            runs = []
            for cycle in range(1, args.cycles + 1):
                OPENER.open(f"{base}/next", timeout=30).read()
                for child in (ours, plain):
                    label = f"{child.name}, cycle {cycle} of {args.cycles}"
                    task = progress.add_task(label, total=args.feeds)
                    runs.append(child.measure(progress, task, base, server.pid))
            ours.stop()
            plain.stop()
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(30)
    report(first, runs, args)
    print(f"(logs and database in {work})")


if __name__ == "__main__":
    role, rest = (sys.argv[1:2] or [""])[0], sys.argv[2:]
    if role == "serve":
        serve(int(rest[0]), int(rest[1]), int(rest[2]))
    elif role == "newsmon":
        newsmon(rest[0])
    elif role == "serve-mix":
        serve_mix(int(rest[0]), int(rest[1]))
    elif role == "schedule":
        schedule_newsmon(rest[0], float(rest[1]), float(rest[2]), rest[3])
    elif role == "naive":
        naive(rest[0], int(rest[1]))
    else:
        main()
