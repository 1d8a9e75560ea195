"""The systemd contract of a real daemon process: a real NOTIFY_SOCKET and watchdog, a poll
made stuck by a feed server that does not answer, reloads, and a stop that drains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers.config import ALLOW_LOCAL
from helpers.paths import REPO, SAMPLE_SITE
from helpers.systemd import Notifications
from monitor.demo.server import Reply, Site
from monitor.store.db import connect
from monitor.store.feeds import list_feeds

WORLD = (SAMPLE_SITE / "feeds" / "world.xml").read_bytes()


def _config(path: Path, db_url: str, site: Site, feeds: list[str], http: str = "") -> Path:
    """Feeds checked every second exactly (min = max), a poll stuck after half a second."""
    lines = [
        f'[database]\nurl = "{db_url}"\n',
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n{http}",
        '[defaults]\nfetch_articles = false\ninterval = "1s"\n'
        'min_interval = "1s"\nmax_interval = "1s"\n',
        '[daemon]\nstuck_after = "0.5s"\n',
    ]
    lines += [f'[[feed]]\nname = "{n}"\nurl = "{site.base}/feeds/{n}.xml"\n' for n in feeds]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _held(release: threading.Event) -> Callable[[], Reply]:
    """A feed that answers only once ``release`` is set: a poll that is stuck."""

    def reply() -> Reply:
        release.wait(30)
        return Reply(200, WORLD, {"Content-Type": "application/rss+xml"})

    return reply


@pytest.fixture
def daemon(
    tmp_path: Path,
) -> Iterator[Callable[[Path], tuple[subprocess.Popen[bytes], Notifications]]]:
    started: list[tuple[subprocess.Popen[bytes], Notifications]] = []

    def start(config: Path) -> tuple[subprocess.Popen[bytes], Notifications]:
        notes = Notifications(tmp_path / "notify.sock")
        env = {
            **os.environ,
            "NOTIFY_SOCKET": str(notes.path),
            "WATCHDOG_USEC": "300000",  # a ping every 0.15 s while healthy
            "NEWSMON_CONFIG": str(config),
        }
        env.pop("WATCHDOG_PID", None)
        with (tmp_path / "daemon.log").open("w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run"], env=env, cwd=REPO, stderr=stderr
            )
        started.append((proc, notes))
        return proc, notes

    yield start
    for proc, notes in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notes.sock.close()


def test_watchdog_reload_and_stop_follow_the_systemd_contract(
    db_url: str,
    tmp_path: Path,
    daemon: Callable[[Path], tuple[subprocess.Popen[bytes], Notifications]],
) -> None:
    feeds = ("/feeds/slow.xml", "/feeds/other.xml", "/feeds/third.xml")
    release = threading.Event()
    with Site() as site:
        site.routes[feeds[0]] = _held(release)
        site.routes[feeds[1]] = site.routes[feeds[2]] = Reply(200, WORLD)
        config = _config(tmp_path / "newsmon.toml", db_url, site, ["slow"])
        proc, notes = daemon(config)
        ready = notes.wait_for("READY=1")
        assert "STATUS=polling 1 feeds for 0 watchlists" in ready.split("\n")

        # 1. the first poll hangs on its feed: no progress for over stuck_after, no pings
        while site.hits.get(feeds[0], 0) == 0:
            time.sleep(0.02)
        time.sleep(0.8)
        silent = notes.listen(0.8)
        assert "WATCHDOG=1" not in silent, silent
        assert proc.poll() is None
        release.set()  # the server answers: the poll finishes, the pings come back
        notes.wait_for_next("WATCHDOG=1", timeout=10)

        # 2. a bad config is refused, the old one stays; a good one is applied
        good = config.read_text()
        config.write_text(good + '\n[[feed]]\nname = "bad"\nurl = "ftp://example.org/x"\n')
        proc.send_signal(signal.SIGHUP)
        reloading = notes.wait_for("RELOADING=1")
        assert any(f.startswith("MONOTONIC_USEC=") for f in reloading.split("\n"))
        refused = notes.wait_for("READY=1", count=2)
        assert "STATUS=reload refused, see the log; old config in force" in refused.split("\n")
        _config(config, db_url, site, ["slow", "other", "third"], http="concurrency = 1\n")
        proc.send_signal(signal.SIGHUP)
        notes.wait_for("READY=1", count=3)
        while not all(site.hits.get(f, 0) for f in feeds):  # the new config is in force
            assert proc.poll() is None
            time.sleep(0.02)

        # 3. SIGTERM while a fetch hangs: STOPPING=1 at once, the fetch in flight finishes,
        # the feeds queued behind it (concurrency 1) are not started
        hold = threading.Event()
        for path in feeds:
            site.routes[path] = _held(hold)
        before = sum(site.hits.values())
        while sum(site.hits.values()) == before:
            time.sleep(0.02)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        notes.wait_for("STOPPING=1", timeout=5)
        assert proc.poll() is None  # draining: the fetch in flight is still held
        hold.set()
        assert proc.wait(timeout=15) == 0
        assert sum(site.hits.values()) == before + 1
    notes.listen(0.1)
    assert notes.states() == [
        "READY=1",
        "RELOADING=1",
        "READY=1",
        "RELOADING=1",
        "READY=1",
        "STOPPING=1",
    ]
    log = (tmp_path / "daemon.log").read_text()
    assert 'msg="unhealthy, not pinging the watchdog" reason="the poll loop made no progress' in log
    assert 'msg="reload refused, keeping the old config"' in log
    assert "feed[1].url: 'ftp://example.org/x' is not an http(s) URL" in log
    assert "msg=reloaded feeds=3 watchlists=0" in log
    assert "Traceback" not in log
    db = connect(db_url)
    rows = {f.name: f for f in list_feeds(db)}
    db.close()
    assert set(rows) == {"slow", "other", "third"}
    assert all(f.last_polled_at and f.last_status != "error" for f in rows.values())
