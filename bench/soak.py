"""Soak: the real daemon against a local site of churning feeds, with its memory sampled.

    python bench/soak.py --minutes 30

Serves ``--feeds`` feeds from 127.0.0.1. Most gain one entry per poll (half of them only
every other poll, so conditional GETs answer 304), each entry links a generated article
page, a third of which mention a watchlist term, so alerts are raised and delivered to
a local webhook. A few feeds are hostile the whole time: a gzip bomb, a server error, a
slow drip past the deadline, entity expansion, a redirect into a blocked network. The
daemon runs as its own process (``python -m monitor run``) on a fresh SQLite database;
its resident memory (VmRSS) is read from /proc every few seconds and printed with the
counts every ``--every`` seconds, then at the end: RSS at start (after the first
minute's warm-up), at the end, the peak, and the slope over the second half.
"""

from __future__ import annotations

import argparse
import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from monitor.demo.server import Receiver, Reply, Site

REPO = Path(__file__).resolve().parent.parent
HOSTILE = ["bomb", "error", "drip", "laughs", "redirect"]
WORDS = (
    "Ministers met on Tuesday to discuss the budget, the harbour and the weather. "
    "Officials said more talks would follow next week in the capital. "
) * 12


class ChurnSite(Site):
    """Feeds that change as they are polled, and an article page for every entry."""

    def __init__(self, feeds: int) -> None:
        super().__init__(None)
        self.counters = [0] * feeds
        self.bomb = gzip.compress(bytes(30_000_000), compresslevel=9)

    def reply_for(self, path: str) -> Reply:
        parts = path.strip("/").split("/")
        if parts[0] == "feed" and len(parts) == 2:
            return self._feed(parts[1])
        if parts[0] == "a" and len(parts) == 3:
            return self._page(int(parts[1]), int(parts[2].removesuffix(".html")))
        return Reply(404, b"not found")

    def _feed(self, name: str) -> Reply:
        if name in HOSTILE:
            return _hostile(name, self)
        index = int(name)
        with self.lock:
            self.counters[index] += 1
            count = self.counters[index]
        newest = count if index % 2 else count // 2 + 1  # odd feeds: a new entry every poll
        items = "".join(
            f"<item><title>Report {index}-{n}</title><guid>soak-{index}-{n}</guid>"
            f"<link>{self.base}/a/{index}/{n}.html</link>"
            f"<description>Short teaser {n} of feed {index}.</description></item>"
            for n in range(newest, max(0, newest - 30), -1)
        )
        body = f"<rss version='2.0'><channel><title>Soak {index}</title>{items}</channel></rss>"
        return Reply(200, body.encode(), {"Content-Type": "application/rss+xml"})

    def _page(self, index: int, n: int) -> Reply:
        topic = ["NATO ministers met in Brussels.", "Ukraine grain talks.", ""][n % 3]
        body = (
            f"<html><head><title>Report {index}-{n}</title></head><body><article>"
            f"<h1>Report {index}-{n}</h1><p>{topic} {WORDS}</p><p>{WORDS}</p>"
            "</article></body></html>"
        )
        return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def _hostile(name: str, site: ChurnSite) -> Reply:
    if name == "bomb":
        return Reply(200, site.bomb, {"Content-Encoding": "gzip"})
    if name == "error":
        return Reply(503, b"down for maintenance")
    if name == "drip":
        return Reply(200, chunks=(b"<" for _ in range(60)), delay=0.1)
    if name == "laughs":
        decl = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
        body = f'<!DOCTYPE rss [<!ENTITY l0 "lol">{decl}]><rss version="2.0"><channel>'
        return Reply(200, (body + "<title>&l9;</title></channel></rss>").encode())
    return Reply(302, b"", {"Location": "http://127.0.0.2:9/internal"})


def write_config(path: Path, site: Site, hook: Receiver, feeds: int, interval: str) -> None:
    lines = [
        f'[database]\nurl = "sqlite:///{path.parent / "soak.db"}"\n',
        '[http]\nallow_networks = ["127.0.0.1/32"]\ntimeout = "2s"\ndeadline = "3s"\n'
        "max_bytes = 2000000\nper_host = 4\n",  # every feed is on one local host
        # every feed polled at exactly this interval, whatever its rhythm or <ttl>
        f'[defaults]\ninterval = "{interval}"\nmin_interval = "{interval}"\n'
        f'max_interval = "{interval}"\nalert_backlog = true\n',
        '[delivery]\ninterval = "5s"\n',
    ]
    for name in [str(i) for i in range(feeds)] + HOSTILE:
        lines.append(f'[[feed]]\nname = "soak-{name}"\nurl = "{site.base}/feed/{name}"\n')
    lines.append(f'[channel.hook]\nurls = ["json://{hook.base[7:]}/hook"]\n')
    lines.append('[watchlist.nato]\nterms = ["NATO"]\nchannels = ["hook"]\n')
    lines.append('[watchlist.ukraine]\nterms = ["Ukraine"]\nchannels = ["hook"]\n')
    path.write_text("\n".join(lines), encoding="utf-8")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def counts(db: Path) -> tuple[int, int, int]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
            alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
            sent = conn.execute("SELECT count(*) FROM deliveries WHERE status='sent'").fetchone()
        return int(entries), int(alerts), int(sent[0])
    except sqlite3.Error:
        return (0, 0, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--interval", default="10s", help="each feed's poll interval")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between reports")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsmon-soak-"))
    with ChurnSite(args.feeds) as site, Receiver() as hook:
        config = work / "soak.toml"
        write_config(config, site, hook, args.feeds, args.interval)
        log = (work / "daemon.log").open("w")
        env = {**os.environ, "NEWSMON_CONFIG": str(config)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], cwd=REPO, env=env, stderr=log
        )
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        end = started + args.minutes * 60
        next_report = started + 10
        print(
            f"soak: {args.feeds} churning feeds + {len(HOSTILE)} hostile, "
            f"{args.minutes:g} min, daemon pid {proc.pid}, work dir {work}",
            flush=True,
        )
        try:
            while time.monotonic() < end and proc.poll() is None:
                time.sleep(2)
                elapsed = time.monotonic() - started
                samples.append((elapsed, rss_mb(proc.pid)))
                with hook.lock:
                    hook.received.clear()  # keep only the count's effect: the bench is measured too
                if time.monotonic() >= next_report:
                    entries, alerts, sent = counts(work / "soak.db")
                    print(
                        f"  t={elapsed / 60:5.1f} min  rss={samples[-1][1]:6.1f} MB  "
                        f"entries={entries} alerts={alerts} delivered={sent}",
                        flush=True,
                    )
                    next_report += args.every
        finally:
            alive = proc.poll() is None
            if alive:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
            log.close()
    return report(samples, alive, proc.returncode, work)


def report(samples: list[tuple[float, float]], alive: bool, code: int | None, work: Path) -> int:
    if not samples:
        print("no samples: the daemon did not start; see", work / "daemon.log")
        return 1
    warm = [s for s in samples if s[0] >= 60] or samples
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    slope = _slope(half) * 60
    errors = sum("level=error" in line for line in (work / "daemon.log").open())
    print(f"RSS start (after 1 min warm-up): {warm[0][1]:.1f} MB")
    print(f"RSS end: {samples[-1][1]:.1f} MB")
    print(
        f"RSS peak: {max(s[1] for s in samples):.1f} MB; min after warm-up: "
        f"{min(s[1] for s in warm):.1f} MB"
    )
    print(f"RSS slope over the second half: {slope:+.3f} MB/min")
    print(
        f"daemon ran to the end: {alive}; exit code after SIGTERM: {code}; "
        f"error lines in its log: {errors}"
    )
    return 0 if alive and code == 0 else 1


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope in MB per second."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    var = sum((p[0] - mean_x) ** 2 for p in points)
    return sum((p[0] - mean_x) * (p[1] - mean_y) for p in points) / var if var else 0.0


if __name__ == "__main__":
    threading.excepthook = lambda args: None  # a client hanging up mid-drip is expected
    raise SystemExit(main())
