"""Feeds that have never worked, through the real command line: a 404, an HTML page, a
refused port and a blocked address are failing from their first failed poll, ``poll
--once`` exits 3, ``status`` counts them and exits 2, and asks whether the daemon runs
only when nothing has been polled."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import update

from helpers.config import ALLOW_LOCAL
from monitor.cli import cli
from monitor.config.settings import load
from monitor.demo.server import Reply, Site
from monitor.model import utcnow
from monitor.pipeline.assembly import close_context, open_context
from monitor.store.db import connect
from monitor.store.tables import Feed

PAGE = b"<!doctype html><html><head><title>Welcome</title></head><body>Hello</body></html>"
RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    b"<item><title>One</title><guid>one</guid></item></channel></rss>"
)


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def dead_port() -> int:
    """A port nothing listens on: bound, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write(path: Path, db_url: str, feeds: dict[str, str]) -> Path:
    lines = [
        f'[database]\nurl = "{db_url}"\n',
        "[scale]\nworkers = 0\n",
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n",  # 127.0.0.1 only: 127.0.0.2 is refused
        "[health]\nfailures = 5\n",  # a feed that worked once fails after five in a row
    ]
    lines += [f'[[feed]]\nname = "{name}"\nurl = "{url}"\n' for name, url in feeds.items()]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def broken_site(site: Site) -> dict[str, str]:
    site.routes["/missing.xml"] = Reply(404, b"not found")
    site.routes["/home.html"] = Reply(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
    site.routes["/wire.xml"] = Reply(200, RSS, {"Content-Type": "application/rss+xml"})
    port = site.base.rsplit(":", 1)[1]
    return {
        "gone": f"{site.base}/missing.xml",
        "homepage": f"{site.base}/home.html",
        "refused": f"http://127.0.0.1:{dead_port()}/feed.xml",
        "blocked": f"http://127.0.0.2:{port}/wire.xml",  # served, but a loopback address
    }


def status(config: Path) -> tuple[int, dict[str, Any]]:
    code, out = invoke(config, "status", "--format", "json")
    return code, json.loads(out)


def test_feeds_that_never_worked_fail_from_the_first_poll(db_url: str, tmp_path: Path) -> None:
    with Site() as site:
        config = write(tmp_path / "newsmon.toml", db_url, broken_site(site))
        ctx = open_context(load(config))  # the feeds are in the database, never polled
        close_context(ctx)
        code, found = status(config)
        assert code == 2
        assert found["problems"] == ["no feed polled ever: is the daemon running?"]

        code, out = invoke(config, "poll", "--once", "--format", "json")
        assert code == 3
        polled = {r["feed"]: r for r in json.loads(out)}
        assert {name: r["status"] for name, r in polled.items()} == dict.fromkeys(
            ("blocked", "gone", "homepage", "refused"), "error"
        )
        assert "404" in polled["gone"]["error"]
        assert "127.0.0.2" in polled["blocked"]["error"]
        assert "allow_networks" in polled["blocked"]["error"]
        assert site.hits.get("/wire.xml") is None  # refused before connecting

        code, out = invoke(config, "feeds", "list", "--format", "json")
        listed = {f["name"]: f for f in json.loads(out)}
        assert {name: f["health"] for name, f in listed.items()} == dict.fromkeys(
            ("blocked", "gone", "homepage", "refused"), "failing"
        )
        assert all(f["errors"] == 1 and f["last_success"] is None for f in listed.values())
        code, out = invoke(config, "feeds", "list", "--fields", "name,health")
        assert code == 0 and out.count("never worked") == 4 and "failed poll(s)" not in out

        code, found = status(config)
        assert code == 2 and not found["ok"]
        assert found["feeds"]["failing"] == 4 and found["feeds"]["ok"] == 0
        assert found["feeds"]["failing_names"] == ["blocked", "gone", "homepage", "refused"]
        assert found["last_success_at"] is None and found["last_poll_at"].endswith("Z")
        problems = " | ".join(found["problems"])
        assert "4 feed(s) failing: blocked, gone, homepage, refused" in problems
        assert "is the daemon running" not in problems  # it polled, just now
        assert "no feed polled successfully ever, though polls run" in problems
        code, out = invoke(config, "status")
        assert code == 2 and "0 ok, 4 failing" in out and "(last success: never)" in out

        # polled, but not for longer than --poll-age while due: the daemon is not running
        db = connect(db_url)
        with db.session() as s:
            s.execute(update(Feed).values(next_check_at=utcnow() - timedelta(hours=2)))
        db.close()
        code, found = status(config)
        assert code == 2
        assert "(4 feed(s) due for over 30m): is the daemon running?" in found["problems"][-1]


def test_poll_once_exits_3_when_some_feeds_failed(db_url: str, tmp_path: Path) -> None:
    with Site() as site:
        feeds = broken_site(site)
        working = {"gone": feeds["gone"], "wire": f"{site.base}/wire.xml"}
        config = write(tmp_path / "newsmon.toml", db_url, working)
        code, out = invoke(config, "poll", "--once")
        assert code == 3 and "404" in out
        assert "feed health: gone is now failing" in out  # at its first failure
        code, _ = invoke(config, "poll", "--once", "--feed", "wire")
        assert code == 0  # every poll worked
        code, found = status(config)
        assert code == 2 and found["feeds"]["failing_names"] == ["gone"]
        assert found["feeds"]["ok"] == 1
        assert found["problems"] == ["1 feed(s) failing: gone"]
        assert invoke(config, "poll", "--once", "--feed", "nowhere")[0] == 1
        assert invoke(config, "poll", "--once", "--bogus")[0] == 2
