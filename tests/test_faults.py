"""Faults around the pipeline: the database locked, full or dropped mid-cycle, the mail
server refusing, DNS failing. Nothing crashes, nothing is lost, and the next cycle
recovers by itself: every expected alert exists once and is delivered once."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, event, text

from helpers.config import hook_url, write_config
from helpers.db import PG_URL, reset_postgres
from helpers.paths import REPO, SAMPLE_SITE
from helpers.servers import Mailbox, free_port, smtp_controller
from helpers.wait import wait_until
from monitor.cli import cli
from monitor.config.settings import load
from monitor.daemon import Daemon
from monitor.deliver.drain import drain
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.pipeline.cycle import run_cycle
from monitor.store.alerts import list_alerts
from monitor.store.db import connect
from monitor.store.feeds import list_feeds

EXPECTED_ALERTS = 12  # the sample site's alerts (see tests/test_pipeline.py)


def on_fetch(site: Site, path: str, action: Callable[[], None]) -> None:
    """Run ``action`` when ``path`` is fetched (mid-cycle), then serve the file."""

    def reply() -> Reply:
        action()
        del site.routes[path]
        return site.reply_for(path)

    site.routes[path] = reply


def delivered_once(db_url: str, hook: Receiver) -> None:
    db = connect(db_url)
    try:
        alerts = list_alerts(db, limit=1000)
    finally:
        db.close()
    assert len(alerts) == EXPECTED_ALERTS
    assert all(d.status == "sent" for a in alerts for d in a.deliveries)
    titles = [json.loads(body)["title"] for _, _, body in hook.received]
    assert len(titles) == EXPECTED_ALERTS == len(set(titles))


def recover(daemon: Daemon) -> None:
    """The next poll and delivery ticks, once every backoff has passed (feeds whose
    failure could be recorded wait for their next check: the clock moves past it)."""
    later = daemon.ctx.clock() + timedelta(hours=7)
    daemon.ctx = dataclasses.replace(daemon.ctx, clock=lambda: later)
    daemon._retry_at = 0.0
    daemon._poll_job()
    daemon._deliver_job()


@pytest.fixture
def daemon_for(tmp_path: Path, site: Site, hook: Receiver) -> Iterator[Callable[[str], Daemon]]:
    made: list[Daemon] = []

    def make(db_url: str) -> Daemon:
        config = write_config(tmp_path / "n.toml", db_url, site, {"chat": [hook_url(hook)]})
        daemon = Daemon(config, load(config))
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        close_context(daemon.ctx)


# ------------------------------------------------------------------ SQLite: locked, full


def test_cli_reads_while_a_writer_holds_the_lock(
    site: Site, hook: Receiver, tmp_path: Path
) -> None:
    path = tmp_path / "n.db"
    config = write_config(
        tmp_path / "n.toml", f"sqlite:///{path}", site, {"chat": [hook_url(hook)]}
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "poll", "--once"]).exit_code == 0
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as the daemon does for each write
    writer.execute("UPDATE feeds SET title = 'being written'")
    try:
        listed = runner.invoke(
            cli, ["--config", str(config), "alerts", "list", "--format", "json", "--limit", "100"]
        )
        feeds = runner.invoke(cli, ["--config", str(config), "feeds", "list", "--format", "json"])
        assert writer.in_transaction  # the lock was held the whole time
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == EXPECTED_ALERTS
    assert feeds.exit_code == 0 and len(json.loads(feeds.stdout)) == 3


def _short_busy(connection: Any, _record: Any) -> None:
    connection.execute("PRAGMA busy_timeout=200")


def _short_busy_timeout(daemon: Daemon, *, is_on: bool = True) -> None:
    """Writers give up after 200 ms (on), or wait as long as they normally do (off)."""
    engine = daemon.ctx.db.engine
    if is_on:
        event.listen(engine, "connect", _short_busy)
    elif event.contains(engine, "connect", _short_busy):
        event.remove(engine, "connect", _short_busy)
    engine.dispose()


def test_database_locked_mid_cycle_then_released(
    daemon_for: Callable[[str], Daemon], site: Site, hook: Receiver, tmp_path: Path
) -> None:
    path = tmp_path / "n.db"
    daemon = daemon_for(f"sqlite:///{path}")
    _short_busy_timeout(daemon)
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    on_fetch(site, "/feeds/world.xml", lambda: locker.execute("BEGIN IMMEDIATE"))
    daemon._poll_job()  # the lock is taken mid-cycle: writes fail, the job does not
    reader = connect(f"sqlite:///{path}", is_read_only=True)
    assert list_alerts(reader) == []  # a reader still reads; nothing was half-stored
    reader.close()
    locker.execute("ROLLBACK")
    locker.close()
    _short_busy_timeout(daemon, is_on=False)  # the feeds' own writers must not trip it now
    recover(daemon)
    delivered_once(f"sqlite:///{path}", hook)


def test_disk_full_then_space_again(
    daemon_for: Callable[[str], Daemon], hook: Receiver, tmp_path: Path
) -> None:
    path = tmp_path / "n.db"
    daemon = daemon_for(f"sqlite:///{path}")
    engine = daemon.ctx.db.engine
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def full(dbapi: Any, _record: Any) -> None:
        dbapi.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", full)
    engine.dispose()
    results = run_cycle(daemon.ctx)  # what the daemon's poll job runs
    errors = [r.error or "" for r in results if r.status == "error"]
    assert errors and all("database or disk is full" in e for e in errors)
    event.remove(engine, "connect", full)
    engine.dispose()
    recover(daemon)
    delivered_once(f"sqlite:///{path}", hook)


def test_disk_full_error_says_so(tmp_path: Path) -> None:
    from monitor.errors import DatabaseError

    db = connect(f"sqlite:///{tmp_path / 'x.db'}")
    with db.session() as s:
        s.execute(text("CREATE TABLE t (x TEXT)"))
    event.listen(db.engine, "connect", lambda c, _r: c.execute("PRAGMA max_page_count = 2"))
    db.engine.dispose()
    with pytest.raises(DatabaseError) as info, db.session() as s:
        s.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "y" * 5000}] * 10)
    assert "full" in str(info.value) and "disk space" in info.value.hint
    db.close()


# ------------------------------------------------------------------ PostgreSQL dropped

needs_pg = pytest.mark.skipif(not PG_URL, reason="set NEWSMON_TEST_DATABASE_URL")


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL test database, emptied."""
    assert PG_URL
    reset_postgres(PG_URL)
    return PG_URL


def _terminate_own_connections() -> None:
    """Drop every other connection to this test database, as a server restart would."""
    assert PG_URL
    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()


@needs_pg
def test_postgres_connections_dropped_mid_cycle(
    daemon_for: Callable[[str], Daemon], site: Site, hook: Receiver, pg_url: str
) -> None:
    daemon = daemon_for(pg_url)
    on_fetch(site, "/feeds/nachrichten.xml", _terminate_own_connections)
    daemon._poll_job()
    daemon._deliver_job()
    recover(daemon)  # whatever the drop cost, the next tick completes it
    delivered_once(pg_url, hook)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class Proxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL that a test can cut and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.is_up = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.is_up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            _close(sock)

    def cut(self) -> None:
        self.is_up = False
        with self.lock:
            for sock in self.sockets:
                _close(sock)
            self.sockets.clear()

    def close(self) -> None:
        self.cut()
        self.server.close()


@needs_pg
def test_postgres_unreachable_mid_cycle_then_back(
    daemon_for: Callable[[str], Daemon], site: Site, hook: Receiver, pg_url: str
) -> None:
    from sqlalchemy.engine import make_url

    real = make_url(pg_url)
    proxy = Proxy((real.host or "127.0.0.1", real.port or 5432))
    try:
        daemon = daemon_for(real.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
        on_fetch(site, "/feeds/world.xml", proxy.cut)
        daemon._poll_job()  # the server vanishes mid-cycle
        daemon._deliver_job()
        daemon._poll_job()  # still down: the job backs off, nothing raises
        assert daemon._failures >= 1 and daemon.health() is not None
        proxy.is_up = True
        recover(daemon)
        assert daemon._failures == 0
    finally:
        proxy.close()
    delivered_once(pg_url, hook)


# ------------------------------------------------------------------ SMTP refusing


class Refusing(Mailbox):
    def __init__(self) -> None:
        super().__init__()
        self.answer = "451 4.3.0 Mailbox busy, try again later"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if not self.answer.startswith("250"):
            return self.answer
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize(
    "answer",
    ["451 4.3.0 Mailbox busy, try again later", "550 5.7.1 Message rejected", "down"],
    ids=["4xx", "5xx", "server-down"],
)
def test_smtp_refusing_then_accepting(site: Site, tmp_path: Path, answer: str) -> None:
    box = Refusing()
    box.answer, box.port = answer, free_port()
    controller = smtp_controller(box, box.port)
    if answer != "down":
        controller.start()
    mail = f"mailto://127.0.0.1:{box.port}?from=newsmon@example.org&to=desk@example.org"
    config = write_config(
        tmp_path / "n.toml", f"sqlite:///{tmp_path / 'n.db'}", site, {"desk": [mail]}
    )
    ctx = open_context(load(config))
    try:
        report = poll_once(ctx, ["novosti"])
        assert report.deliveries.failed == 4 and report.deliveries.sent == 0
        errors = [d.last_error or "" for a in list_alerts(ctx.db) for d in a.deliveries]
        assert len(errors) == 4 and all(errors)
        box.answer = "250 OK"
        if answer == "down":
            controller.start()
        result = drain(ctx.db, ctx.settings, ctx.clock() + timedelta(seconds=10))
        assert result.sent == 4
        assert all(d.status == "sent" for a in list_alerts(ctx.db) for d in a.deliveries)
    finally:
        close_context(ctx)
        controller.stop()
    assert len(box.messages) == 4


# ------------------------------------------------------------------ DNS failing


def test_unresolvable_feed_is_an_error_and_others_poll(
    site: Site, hook: Receiver, tmp_path: Path
) -> None:
    extra = '[[feed]]\nname = "gone"\nurl = "http://feeds.newsmon.invalid/rss"\n'
    config = write_config(
        tmp_path / "n.toml", f"sqlite:///{tmp_path / 'n.db'}", site, {}, extra=extra
    )
    ctx = open_context(load(config))
    try:
        report = poll_once(ctx)
        feeds = {f.name: f for f in list_feeds(ctx.db)}
    finally:
        close_context(ctx)
    assert {r.feed: r.status for r in report.feeds} == {
        "world": "ok",
        "nachrichten": "ok",
        "novosti": "ok",
        "gone": "error",
    }
    assert "cannot resolve feeds.newsmon.invalid" in (feeds["gone"].last_error or "")
    assert feeds["gone"].next_check_at > feeds["gone"].last_polled_at  # type: ignore[operator]


# ------------------------------------------------------------------ the daemon itself


@needs_pg
def test_daemon_waits_for_postgres_and_rides_out_an_outage(
    site: Site, hook: Receiver, pg_url: str, tmp_path: Path
) -> None:
    """A real daemon process: started before its database, then cut off from it while
    running. It neither exits nor loops; it resumes and loses nothing."""
    from sqlalchemy.engine import make_url

    real = make_url(pg_url)
    proxy = Proxy((real.host or "127.0.0.1", real.port or 5432))
    proxy.is_up = False
    url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    config = write_config(tmp_path / "n.toml", url, site, {"chat": [hook_url(hook)]})
    pinned = '[defaults]\ninterval = "1s"\nmin_interval = "1s"\nmax_interval = "1s"\n'
    config.write_text(config.read_text().replace("[defaults]\n", pinned))
    messages: list[str] = []
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)

    def heard(text: str) -> bool:
        with contextlib.suppress(TimeoutError):
            messages.append(sock.recv(4096).decode())
        return any(text in m for m in messages)

    log = tmp_path / "daemon.log"
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
        "NEWSMON_CONFIG": str(config),
    }
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], env=env, cwd=REPO, stderr=stderr
        )
    try:
        wait_until(lambda: heard("STATUS=waiting for the database"), "the daemon to wait")
        assert proc.poll() is None and not heard("READY=1")
        proxy.is_up = True
        wait_until(lambda: heard("READY=1"), "READY once the database answers")
        wait_until(lambda: len(hook.received) == EXPECTED_ALERTS, "the first alerts")

        proxy.cut()  # the database goes away under the running daemon
        wait_until(lambda: "poll skipped" in log.read_text(), "a failed poll")
        world = (SAMPLE_SITE / "feeds" / "world.xml").read_text().replace("{base}", site.base)
        fresh = (
            "<item><title>NATO envoy in Kyiv</title><guid>outage-1</guid>"
            "<description>NATO envoy meets Ukrainian officials.</description></item>"
        )
        site.routes["/feeds/world.xml"] = Reply(
            200, world.replace("<item>", fresh + "<item>", 1).encode()
        )
        time.sleep(2)
        assert proc.poll() is None
        proxy.is_up = True
        wait_until(
            lambda: len(hook.received) == EXPECTED_ALERTS + 1, "the alert after the outage", 90
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
        proxy.close()
    stderr_text = log.read_text()
    assert "Traceback" not in stderr_text
    assert "database unavailable at start" in stderr_text and "polling resumes" in stderr_text
    titles = [json.loads(body)["title"] for _, _, body in hook.received]
    assert len(titles) == len(set(titles)) == EXPECTED_ALERTS + 1
