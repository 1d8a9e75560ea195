"""``newsmon feeds add`` and ``feeds remove`` against the local site, and a daemon that
picks an added feed up at its next tick, keeps it on reload, and drops a removed one."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import hook_url, write_config
from monitor.cli import cli
from monitor.config.settings import load
from monitor.daemon import Daemon
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context
from monitor.pipeline.polls import sync_feeds
from monitor.store.catalog import catalog
from monitor.store.db import connect
from monitor.store.feeds import due_feeds
from monitor.store.leases import claim_feeds, release_feeds


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def rss(title: str, count: int = 2) -> Reply:
    items = "".join(
        f"<item><title>{title} {i}</title><guid>{title}-{i}</guid></item>" for i in range(count)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{items}'
    return Reply(200, (body + "</channel></rss>").encode(), {"Content-Type": "application/xml"})


def listed(config: Path) -> dict[str, dict[str, object]]:
    code, out, _ = invoke(config, "feeds", "list", "--format", "json")
    assert code == 0
    return {f["name"]: f for f in json.loads(out)}


def test_add_list_remove_and_add_back(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {"chat": [hook_url(hook)]})
    site.routes["/extra.xml"] = rss("Extra Wire", 3)
    url = f"{site.base}/extra.xml"
    code, out, _ = invoke(config, "feeds", "add", url, "--check", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "name": "extra-wire",  # from the title the check found
        "url": url,
        "interval": 600.0,
        "title": "Extra Wire",
        "entries": 3,
    }

    refused = {
        "already": (
            [f"{site.base}/feeds/world.xml?utm_source=x#top"],
            "is already the feed 'world'",
        ),
        "scheme": (["ftp://example.org/feed"], "is not an http(s) URL"),
        "broken": ([f"{site.base}/missing.xml", "--check"], "does not work as a feed"),
        "name": ([f"{site.base}/other.xml", "--name", "world"], "'world' already exists"),
        "bad name": ([f"{site.base}/other.xml", "--name", "a b"], "not a usable feed name"),
        "interval": ([f"{site.base}/other.xml", "--interval", "soon"], "--interval"),
    }
    for case, (args, message) in refused.items():
        code, _, err = invoke(config, "feeds", "add", *args)
        assert code in (1, 2) and message in err, case
        assert code == 2 or "hint:" in err, case
    feeds = listed(config)  # the config's feeds come in with the first poll or daemon start
    assert set(feeds) == {"extra-wire"}
    assert feeds["extra-wire"]["origin"] == "cli" and feeds["extra-wire"]["health"] == "new"

    code, out, _ = invoke(config, "poll", "--once", "--feed", "extra-wire", "--format", "json")
    assert code == 0 and [r["feed"] for r in json.loads(out)] == ["extra-wire"]
    assert json.loads(out)[0]["status"] == "ok"
    feeds = listed(config)
    assert set(feeds) == {"world", "nachrichten", "novosti", "extra-wire"}
    assert feeds["extra-wire"]["health"] == "ok" and feeds["extra-wire"]["entries"] == 3
    assert feeds["world"]["origin"] == "config" and feeds["world"]["health"] == "new"

    code, _, err = invoke(config, "feeds", "remove", "world")
    assert code == 1 and "declared in the config" in err and "reload" in err
    code, out, _ = invoke(config, "feeds", "remove", "extra-wire")
    assert code == 0 and "removed feed extra-wire" in out
    assert listed(config)["extra-wire"]["health"] == "disabled"
    code, _, err = invoke(config, "feeds", "remove", "extra-wire")
    assert code == 1 and "no feed named 'extra-wire' was added" in err

    code, out, _ = invoke(config, "feeds", "add", url, "--interval", "30m")
    assert code == 0 and out.startswith("added feed extra-wire:")  # back under its name
    feeds = listed(config)
    assert feeds["extra-wire"]["enabled"] is True and feeds["extra-wire"]["entries"] == 3


def test_daemon_polls_an_added_feed_at_its_next_tick(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(
        tmp_path / "newsmon.toml", db_url, site, {"chat": [hook_url(hook)]}, alert_backlog=False
    )
    site.routes["/late.xml"] = rss("Late")
    daemon = Daemon(config, load(config))
    try:
        daemon._poll_job()  # the config's three feeds
        assert site.hits.get("/late.xml") is None
        code, _, _ = invoke(config, "feeds", "add", f"{site.base}/late.xml", "--name", "late")
        assert code == 0
        daemon._poll_job()  # the next tick: only the added feed is due
        assert site.hits["/late.xml"] == 1 and site.hits["/feeds/world.xml"] == 1

        root = logging.getLogger()
        root.addHandler(caplog.handler)  # the commands above set the root's handlers anew
        try:
            daemon.reload()  # the config does not declare it: kept
        finally:
            root.removeHandler(caplog.handler)
        assert "reloaded feeds=4 watchlists=4" in caplog.text  # the three and the added one
        assert [(f.origin, f.is_enabled) for f in catalog(daemon.ctx.db) if f.name == "late"] == [
            ("cli", True)
        ]
        assert invoke(config, "feeds", "remove", "late")[0] == 0
        later = daemon.ctx.clock() + timedelta(days=1)  # every feed due again
        daemon.ctx = dataclasses.replace(daemon.ctx, clock=lambda: later)
        daemon._poll_job()
        assert site.hits["/late.xml"] == 1 and site.hits["/feeds/world.xml"] == 2

        # a [[feed]] of the same name in the config takes the feed over
        config.write_text(
            config.read_text() + f'\n[[feed]]\nname = "late"\nurl = "{site.base}/late.xml"\n'
        )
        daemon.reload()
        assert [(f.origin, f.is_enabled) for f in catalog(daemon.ctx.db) if f.name == "late"] == [
            ("config", True)
        ]
    finally:
        close_context(daemon.ctx)


def test_list_shows_which_instance_polls_a_feed_under_a_live_lease(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {})
    settings = load(config)
    db = connect(db_url)
    try:
        db.migrate()
        now = datetime.now(UTC)
        sync_feeds(db, settings, now)
        names = [f.name for f in settings.feed]
        assert len(names) >= 2
        claim_feeds(db, "box-a:101:x", now, 60, due_by=None, names=names[:1])
        claim_feeds(db, "box-b:202:y", now - timedelta(hours=2), 60, due_by=None, names=names[1:2])
        rows = listed(config)
        assert rows[names[0]]["polled_by"] == "box-a:101:x"
        assert str(rows[names[0]]["lease_until"]) > now.isoformat()[:19]
        # box-b's lease ran out two hours ago: nobody polls that feed now
        assert rows[names[1]]["polled_by"] is None and rows[names[1]]["lease_until"] is None
        release_feeds(db, "box-a:101:x", [f.id for f in due_feeds(db, now, is_forced=True)])
        assert all(row["polled_by"] is None for row in listed(config).values())
    finally:
        db.close()
