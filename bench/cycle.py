"""Throughput of a polling cycle: newsmon against a plain sequential fetch-and-parse loop.

    .venv/bin/python bench/cycle.py                       # 2,000 feeds of 50 entries
    .venv/bin/python bench/cycle.py --feeds 500 --cycles 2 --workers 0
    .venv/bin/python bench/cycle.py --database-url postgresql://postgres@127.0.0.1/bench

A local server (its own process, 127.0.0.1 only) serves ``--feeds`` RSS feeds of
``--entries`` entries each, with an article page behind every entry, and answers
conditional GETs with 304. Before each cycle a tenth of the feeds (``--changed``) gain a
new entry. Then, in the same run and against the same feeds:

- newsmon: one ``run_cycle`` of a real context (leases, the thread pool of
  ``[http] concurrency``, ``[scale] workers`` worker processes, the database), in its own
  process: conditional GETs, parsing of the changed feeds, the new entries' pages
  fetched, extracted and matched, everything stored;
- naive: a loop in its own process that fetches every feed (urllib) and parses it with
  feedparser, one after the other, and does nothing else.

For each: wall time, CPU time and peak memory of the process tree (the process and its
worker processes: the sum of their RSS, and of their PSS, which counts shared pages
once), sampled from /proc every 0.1 s, and the CPU time the local site spent serving
it (it shares the machine's cores with the measured process). The first newsmon cycle
records every feed's backlog (100,000 entries at the defaults) and is reported apart.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--changed", type=float, default=0.1, help="share changed per cycle")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    args.every = max(1, round(1 / args.changed))

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
    elif role == "naive":
        naive(rest[0], int(rest[1]))
    else:
        main()
