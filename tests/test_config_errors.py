"""Every bad config: a clear error naming the file and line, exit code 1, no traceback;
and a daemon that is reloaded with one keeps the config it had."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from helpers.config import write_config
from monitor.cli import cli
from monitor.config.settings import load
from monitor.daemon import Daemon
from monitor.demo.server import Site
from monitor.pipeline.assembly import close_context

FEED = '[[feed]]\nname = "world"\nurl = "http://example.org/rss"\n'

# (config text, the line the error must name, the key, words of the message)
CASES = {
    "unknown-key": ('[http]\ntimeout = "5s"\ncolour = "red"\n', 3, "http.colour", "unknown key"),
    "wrong-type": ('[http]\nmax_bytes = "lots"\n', 2, "http.max_bytes", "integer"),
    "wrong-type-bool": (FEED + 'enabled = "maybe"\n', 4, "feed[0].enabled", "boolean"),
    "table-as-key": ('feed = "http://example.org/rss"\n', 1, "feed", "list"),
    "array-as-table": ('[[watchlist]]\nterms = ["NATO"]\n', 1, "watchlist", "dictionary"),
    "terms-not-a-list": ('[watchlist.nato]\nterms = "NATO"\n', 2, "watchlist.nato.terms", "list"),
    "bad-url": (
        FEED.replace("http://example.org/rss", "example.org/rss"),
        3,
        "feed[0].url",
        "http://",
    ),
    "url-not-a-string": ('[[feed]]\nname = "a"\nurl = 5\n', 3, "feed[0].url", "http://"),
    "missing-url": ('[[feed]]\nname = "a"\n', 1, "feed[0].url", "required"),
    "bad-name": ('[[feed]]\nname = "a b"\nurl = "http://x.org/"\n', 2, "feed[0].name", "pattern"),
    "bad-network": (
        '[http]\nallow_networks = ["10.0.0.1/8"]\n',
        2,
        "http.allow_networks[0]",
        "network",
    ),
    "not-a-network": (
        '[http]\nallow_networks = ["intranet"]\n',
        2,
        "http.allow_networks[0]",
        "network",
    ),
    "bad-duration": ('[http]\ndeadline = "forever"\n', 2, "http.deadline", "duration"),
    "bad-max-entries": (
        "[defaults]\nmax_entries = 0\n",
        2,
        "defaults.max_entries",
        "greater than or equal to 1",
    ),
    "blank-term": ('[watchlist.nato]\nterms = ["NATO", " "]\n', 2, "watchlist.nato.terms", "blank"),
    "unknown-channel": (
        '[channel.desk]\nurls = ["json://x"]\n[watchlist.nato]\nterms = ["NATO"]\n'
        'channels = ["desk", "pager"]\n',
        5,
        "watchlist.nato.channels",
        "unknown channel 'pager'",
    ),
    "duplicate-feed": (FEED + FEED, 5, "feed[1].name", "already feed[0]"),
    "channel-timeout": (
        '[channel.desk]\nurls = ["json://x"]\ntimeout = "0.5s"\n',
        3,
        "channel.desk.timeout",
        "greater than or equal to 1",
    ),
    "duplicate-channel": (
        '[channel.desk]\nurls = ["json://a"]\n[channel.desk]\nurls = ["json://b"]\n',
        None,
        "line 3",
        "twice",
    ),
    "duplicate-watchlist": (
        '[watchlist.nato]\nterms = ["a"]\n\n[watchlist.nato]\nterms = ["b"]\n',
        None,
        "line 4",
        "twice",
    ),
    "not-toml": ('[http\ntimeout = "5s"\n', None, "not valid TOML", "line 1"),
    "not-utf8": ("\udcff", None, "cannot read", ""),
    # a value the clock cannot add: refused here, not by every poll with an OverflowError
    "interval-overflow": (FEED + 'interval = "3000000d"\n', 4, "feed[0].interval", "at most 30d"),
    "interval-1e300": ("[defaults]\ninterval = 1e300\n", 2, "defaults.interval", "at most 30d"),
    "interval-huge-int": (FEED + "interval = 99999999999999999999\n", 4, "feed[0].interval", "30d"),
    "interval-inf": ("[defaults]\nmax_interval = inf\n", 2, "defaults.max_interval", "30d"),
    "interval-nan": ("[defaults]\nmin_interval = nan\n", 2, "defaults.min_interval", "positive"),
    "timeout-too-long": ('[http]\ntimeout = "2d"\n', 2, "http.timeout", "at most 1h"),
    "retention-too-long": (
        '[retention]\narticle_text = "36501d"\n',
        2,
        "retention.article_text",
        "at most 36500d",
    ),
    "window-too-long": ('[stories]\nwindow = "400d"\n', 2, "stories.window", "at most 365d"),
    "spike-factor-inf": ("[spikes]\nfactor = inf\n", 2, "spikes.factor", "1000"),
    "max-bytes-huge": ("[http]\nmax_bytes = 10000000000000\n", 2, "http.max_bytes", "1000000000"),
    # a host the fetcher cannot parse: refused here, not by every poll with InvalidURL
    "octal-host": (FEED.replace("example.org", "0177.0.0.2"), 3, "feed[0].url", "127.0.0.2"),
    "short-host": (FEED.replace("example.org", "127.1"), 3, "feed[0].url", "dotted decimal"),
    "bracket-host": (FEED.replace("example.org", "[::1"), 3, "feed[0].url", "not a valid URL"),
    "port-too-big": (FEED.replace("example.org", "example.org:70000"), 3, "feed[0].url", "port"),
}


def write(path: Path, text: str) -> Path:
    if text == "\udcff":
        path.write_bytes(b"# \xff\xfe not utf-8\n")
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize(
    "command", [["config", "check"], ["poll", "--once"]], ids=["check", "poll"]
)
def test_bad_config_names_file_and_line_and_exits_1(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    text, line, key, words = CASES[case]
    path = write(tmp_path / "bad.toml", text)
    result = CliRunner().invoke(cli, ["--config", str(path), *command], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: config: ")
    where = f"{path}:{line}: {key}:" if line else str(path)
    assert where in result.stderr
    assert key in result.stderr and words in result.stderr
    assert "hint:" in result.stderr


@pytest.fixture
def daemon(tmp_path: Path, site: Site) -> Daemon:
    config = write_config(tmp_path / "n.toml", f"sqlite:///{tmp_path / 'n.db'}", site, {})
    return Daemon(config, load(config))


@pytest.mark.parametrize(
    "change",
    [
        "append-bad-key",
        "unknown-channel",
        "not-toml",
        "deleted",
        "database-locked",
        "interval-overflow",
        "octal-host",
    ],
)
def test_reload_with_a_bad_config_keeps_the_old_one(
    daemon: Daemon, change: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = daemon.config_path
    good = path.read_text()
    before = daemon.ctx
    if change == "append-bad-key":
        path.write_text(good + "\n[http]\ncolour = 1\n")
    elif change == "unknown-channel":
        path.write_text(good.replace("channels = []", 'channels = ["nowhere"]', 1))
    elif change == "not-toml":
        path.write_text(good + "\n[[feed]\n")
    elif change == "deleted":
        path.unlink()
    elif change == "interval-overflow":
        path.write_text(good.replace("[defaults]\n", '[defaults]\ninterval = "3000000d"\n'))
    elif change == "octal-host":
        path.write_text(good + '\n[[feed]]\nname = "odd"\nurl = "http://0177.0.0.2/"\n')
    else:  # a good config, but the database is locked while the feeds are synced
        path.write_text(good + '\n[[feed]]\nname = "ok"\nurl = "http://x.org/"\n')
        engine = daemon.ctx.db.engine
        event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout=100"))
        engine.dispose()
        locker = sqlite3.connect(str(engine.url.database), isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
    try:
        daemon.reload()
        assert daemon.ctx is before
        assert [f.name for f in daemon.ctx.settings.feed] == ["world", "nachrichten", "novosti"]
        assert "reload refused, keeping the old config" in caplog.text
    finally:
        if change == "database-locked":
            locker.close()
        close_context(daemon.ctx)


def test_reload_replaces_the_worker_processes_when_their_settings_change(
    daemon: Daemon,
) -> None:
    path = daemon.config_path
    config = path.read_text()
    assert "workers = 0" in config and daemon.ctx.workers.processes == 0
    old_workers = daemon.ctx.workers
    try:
        path.write_text(config.replace("workers = 0", "workers = 1"))
        daemon.reload()
        one = daemon.ctx.workers
        assert one is not old_workers and one.processes == 1
        # a parse in a worker process of the new kind
        body = b'<rss version="2.0"><channel><title>T</title><item><title>x</title></item>'
        body += b"</channel></rss>"
        assert one.read_document("feed", body, url="http://x.org/rss").title == "T"
        (process,) = [w.proc for w in one._idle]
        path.write_text(config.replace("workers = 0", 'workers = 2\nworker_timeout = "5s"'))
        daemon.reload()
        assert (daemon.ctx.workers.processes, daemon.ctx.workers.timeout) == (2, 5.0)
        assert process.poll() is None  # retired, but a poll might still be using it
        daemon._close_retired()  # what the end of a poll does
        assert process.wait(10) == 0
        path.write_text(config.replace("workers = 0", 'workers = 2\nworker_timeout = "5s"'))
        kept = daemon.ctx.workers
        daemon.reload()
        assert daemon.ctx.workers is kept  # unchanged settings: the same processes
    finally:
        close_context(daemon.ctx)


def test_reload_keeps_the_http_client_until_the_http_settings_change(daemon: Daemon) -> None:
    path = daemon.config_path
    config = path.read_text()
    old = daemon.ctx
    try:
        daemon.reload()  # the same config: every part is kept
        assert daemon.ctx.client is old.client and daemon.ctx.hosts is old.hosts
        path.write_text(config.replace("[http]\n", '[http]\ntimeout = "7s"\n', 1))
        daemon.reload()
        new = daemon.ctx
        assert new.settings.http.timeout == 7.0 and new.client is not old.client
        assert new.db is old.db and new.liveness is old.liveness and new.owner == old.owner
        assert not old.client.is_closed  # retired, but a poll might still be using it
        daemon._close_retired()  # what the end of a poll does
        assert old.client.is_closed
    finally:
        close_context(daemon.ctx)


def test_reload_with_a_good_config_applies_it(daemon: Daemon) -> None:
    path = daemon.config_path
    path.write_text(path.read_text() + '\n[[feed]]\nname = "extra"\nurl = "http://x.org/rss"\n')
    try:
        daemon.reload()
        assert [f.name for f in daemon.ctx.settings.feed][-1] == "extra"
    finally:
        close_context(daemon.ctx)
