"""The daemon as systemd runs it: a real process, a real NOTIFY_SOCKET, real signals."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.config import hook_url, write_config
from helpers.paths import REPO
from monitor.demo.server import Receiver, Reply, Site
from monitor.store.alerts import list_alerts
from monitor.store.db import connect
from monitor.store.feeds import list_feeds


def _wait_for(sock: socket.socket, wanted: str, seen: list[str], timeout: float = 30.0) -> str:
    """Read notifications until one carries the field ``wanted``; return that message."""
    deadline = time.monotonic() + timeout
    while True:
        for message in seen:
            if wanted in message.split("\n"):
                return message
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            seen.append(sock.recv(4096).decode())
        except TimeoutError:
            pytest.fail(f"no {wanted} from the daemon; got {seen}")


def test_daemon_notifies_polls_reloads_and_stops(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {"chat": [hook_url(hook)]})
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    env = {
        **os.environ,
        "NOTIFY_SOCKET": address,
        "WATCHDOG_USEC": "1000000",
        "NEWSMON_CONFIG": str(config),
    }
    env.pop("WATCHDOG_PID", None)
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], env=env, cwd=REPO, stderr=stderr_file
        )
    seen: list[str] = []
    try:
        _wait_for(sock, "READY=1", seen)
        db = connect(db_url)
        deadline = time.monotonic() + 60
        while len(hook.received) < 12 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(list_alerts(db, limit=100)) == 12 and len(hook.received) == 12
        _wait_for(sock, "WATCHDOG=1", seen)

        # a bad config on reload is refused; the old one stays in force
        good = config.read_text()
        config.write_text(good + '\n[watchlist.broken]\nqueries = ["NATO AND ("]\n')
        proc.send_signal(signal.SIGHUP)
        reloading = _wait_for(sock, "RELOADING=1", seen)
        assert re.search(r"^MONOTONIC_USEC=\d+$", reloading, re.MULTILINE)
        seen.clear()
        _wait_for(sock, "READY=1", seen)
        proc.send_signal(signal.SIGTERM)
        _wait_for(sock, "STOPPING=1", seen)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    stderr = log.read_text()
    assert "reload refused" in stderr and "watchlist.broken.queries" in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("level=error")]
    assert len(errors) == 1 and 'msg="reload refused, keeping the old config"' in errors[0]
    # the schedule is in the database: after the stop, every feed's next check is ahead
    feeds = list_feeds(db)
    assert all(f.next_check_at > f.last_polled_at for f in feeds if f.last_polled_at)
    assert sum(len(list_alerts(db, feed=f.name)) for f in feeds) == 12
    db.close()


def test_daemon_refuses_to_start_on_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[feed]]\nname = 'a'\nurl = 'http://127.0.0.1:9/x'\nbogus = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 78  # EX_CONFIG: the unit's RestartPreventExitStatus
    assert f"{bad}:4: feed[0].bogus: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_daemon_delivers_an_alert_while_its_cycle_still_runs(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    """An alert leaves once committed, not when the cycle ends: a fifth feed answers
    only after the webhook has received a message (or after a minute, in vain)."""
    seen_first: list[bool] = []

    def slow_feed() -> Reply:
        deadline = time.monotonic() + 60
        while not hook.received and time.monotonic() < deadline:
            time.sleep(0.05)
        seen_first.append(bool(hook.received))
        body = b'<rss version="2.0"><channel><title>Slow</title></channel></rss>'
        return Reply(200, body, {"Content-Type": "application/rss+xml"})

    site.routes["/feeds/slow.xml"] = slow_feed
    extra = f'[[feed]]\nname = "slow"\nurl = "{site.base}/feeds/slow.xml"\n'
    config = write_config(
        tmp_path / "newsmon.toml",
        db_url,
        site,
        {"chat": [hook_url(hook)]},
        extra=extra,
        http='concurrency = 4\nper_host = 4\ntimeout = "5m"',
    )
    # the delivery job's own tick must not be what sends it
    text = config.read_text(encoding="utf-8").replace(
        "[delivery]\n", '[delivery]\ninterval = "1h"\n'
    )
    config.write_text(text, encoding="utf-8")
    env = {**os.environ, "NEWSMON_CONFIG": str(config)}
    env.pop("NOTIFY_SOCKET", None)
    with (tmp_path / "daemon.log").open("w") as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], env=env, cwd=REPO, stderr=stderr_file
        )
    try:
        deadline = time.monotonic() + 120
        while not seen_first and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert seen_first == [True], (tmp_path / "daemon.log").read_text()[-3000:]
