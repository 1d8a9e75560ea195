"""kill -9 of a real daemon at several points loses no alert: after each restart every
pending delivery is sent. Only a send under way at a kill may arrive again."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from helpers.config import write_config
from helpers.paths import REPO, SAMPLE_SITE
from helpers.wait import wait_until
from monitor.demo.server import Reply, Site
from monitor.store.alerts import list_alerts
from monitor.store.db import connect

ALERTS = 12  # what the sample site raises (see test_pipeline.EXPECTED)


class SlowHook:
    """A webhook that records each message on arrival and answers ``delay`` seconds later,
    so a kill can land while a send is in flight."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[int] = []  # alert ids, in arrival order
        self.arrived: list[tuple[int, float]] = []  # and when (time.monotonic())
        self.in_flight: set[int] = set()
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                message = json.loads(body)["message"]
                alert = int(re.findall(r"newsmon alerts show (\d+)", message)[0])
                with hook.lock:
                    hook.received.append(alert)
                    hook.arrived.append((alert, time.monotonic()))
                    hook.in_flight.add(alert)
                time.sleep(hook.delay)
                with hook.lock:
                    hook.in_flight.discard(alert)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender was killed

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"json://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def slow_articles(site: Site, delay: float) -> None:
    """Serve every article page ``delay`` seconds late, so a poll takes a while."""
    for page in (SAMPLE_SITE / "articles").glob("*.html"):
        body = page.read_bytes().replace(b"{base}", site.base.encode())

        def reply(body: bytes = body) -> Reply:
            time.sleep(delay)
            return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})

        site.routes[f"/articles/{page.name}"] = reply


class Daemon:
    def __init__(self, config: Path, tmp_path: Path) -> None:
        self.config, self.tmp_path, self.runs = config, tmp_path, 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.runs += 1
        address = str(self.tmp_path / f"notify-{self.runs}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(address)
        env = {**os.environ, "NOTIFY_SOCKET": address, "NEWSMON_CONFIG": str(self.config)}
        with (self.tmp_path / f"daemon-{self.runs}.log").open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run"], env=env, cwd=REPO, stderr=log
            )
        sock.settimeout(60)
        try:
            while b"READY=1" not in sock.recv(4096):
                pass
        finally:
            sock.close()

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, "the daemon died by itself"
        self.proc.kill()  # SIGKILL: no cleanup of any kind
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def test_kill_9_at_several_points_loses_nothing_and_repeats_only_in_flight_sends(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    hook = SlowHook(delay=0.3)
    slow_articles(site, delay=0.3)
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {"chat": [hook.url]})
    # the killed instance's feed leases ([scale] lease) and delivery claims
    # ([delivery] lease) expire within seconds, so each restart takes its work over soon
    config.write_text(
        config.read_text()
        .replace('retry_base = "1s"', 'interval = "1s"\nlease = "2s"\nretry_base = "1s"')
        .replace("[scale]\n", '[scale]\nlease = "3s"\n')
    )
    db = connect(db_url)
    daemon = Daemon(config, tmp_path)
    in_flight_at_kills: list[set[int]] = []
    kills: list[float] = []  # when (time.monotonic())

    def alerts() -> int:
        try:
            return len(list_alerts(db, limit=1000))
        except Exception:  # the schema may not exist before the first start
            return 0

    try:
        # 1. mid-poll: some alerts stored, the feeds not finished
        daemon.start()
        wait_until(lambda: alerts() >= 2, "the first alerts are stored")
        daemon.kill()
        kills.append(time.monotonic())
        with hook.lock:
            in_flight_at_kills.append(set(hook.in_flight))
        assert alerts() < ALERTS, "the poll finished before the kill; slow the site down"

        # 2. and 3. mid-delivery: an alert's first message has arrived, not yet answered
        for _ in range(2):
            daemon.start()
            with hook.lock:
                seen = set(hook.received)

            def first_send_in_flight(seen: set[int] = seen) -> bool:
                with hook.lock:
                    return bool(hook.in_flight - seen)

            wait_until(first_send_in_flight, "a new alert's send is in flight")
            daemon.kill()
            kills.append(time.monotonic())
            with hook.lock:
                in_flight_at_kills.append(set(hook.in_flight))

        # 4. a last start delivers everything
        daemon.start()
        wait_until(lambda: alerts() == ALERTS, "every alert is stored")
        wait_until(
            lambda: all(
                d.status == "sent" for a in list_alerts(db, limit=1000) for d in a.deliveries
            ),
            "every delivery is sent",
        )
        time.sleep(1.0)  # anything that would wrongly repeat has time to arrive
        daemon.stop()
        ids = {a.id for a in list_alerts(db, limit=1000)}
    finally:
        daemon.stop()
        hook.close()
        db.close()

    counts = Counter(hook.received)
    repeated = {alert for alert, n in counts.items() if n > 1}
    assert set(counts) == ids and len(ids) == ALERTS  # every alert arrived
    assert any(in_flight_at_kills[1:]), "no kill landed on a send"
    # only a send under way at a kill repeats, once per such kill: in flight, or answered
    # and its outcome not yet written. Several may be under way at once (one per sending
    # thread), so a kill may repeat several messages; each arrived in the second before.
    for alert in repeated:
        under_way = [
            k for k in kills if any(a == alert and k - 1 <= t <= k for a, t in hook.arrived)
        ]
        assert counts[alert] - 1 <= len(under_way), (alert, counts[alert], hook.arrived, kills)
