"""Hostile watchlists: regexes that would backtrack for ever, over-deep queries, an
article over its matching time, and a stop that something holds up. Through the real
command line and a real daemon process, against feeds served from 127.0.0.1."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.config import hook_url, write_config
from helpers.paths import REPO
from monitor.demo.server import Receiver, Reply, Site
from monitor.query.regex import RegexError, compile_user_regex
from monitor.store.alerts import list_alerts
from monitor.store.db import connect
from monitor.store.feeds import list_feeds

TITLE = "Ukraine " + "a" * 40 + "!"
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Bombs</title><link>{base}/</link>
<item><guid>bomb-1</guid><title>{title}</title><description>{title}</description></item>
</channel></rss>
"""


def _newsmon(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def _bomb_feed(site: Site, scale: str = "workers = 0") -> str:
    site.routes["/feeds/bomb.xml"] = Reply(
        200,
        RSS.format(base=site.base, title=TITLE).encode(),
        {"Content-Type": "application/rss+xml"},
    )
    return (
        f'[[feed]]\nname = "bomb"\nurl = "{site.base}/feeds/bomb.xml"\nfetch_articles = false\n'
        "[watchlist.bomb]\nqueries = ['/^Ukraine (a+)+$/', '/^Ukraine (a|aa)+$/']\n"
    )


def test_a_backtracking_regex_costs_nothing_and_other_feeds_still_alert(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    """/^Ukraine (a+)+$/ against 40 letters and a "!" ran for minutes in Python's re; on
    RE2 the poll is done at once, and the other feeds' alerts are sent."""
    extra = _bomb_feed(site)
    config = write_config(tmp_path / "n.toml", db_url, site, {"chat": [hook_url(hook)]}, extra)
    started = time.monotonic()
    done = _newsmon(config, "poll", "--once")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 240  # the subprocess timeout would fail first
    assert "match over time" not in done.stderr
    db = connect(db_url)
    try:
        alerts = list_alerts(db, limit=100)
        assert len(alerts) == 12 + 1  # the sample site's, and "Ukraine" of the bomb feed
        assert len(hook.received) == 13
        assert not any("bomb" in a.watchlists for a in alerts)  # the title ends in "!"
        assert all(f.last_error is None for f in list_feeds(db))
    finally:
        db.close()


def test_an_article_over_match_timeout_is_stored_with_its_error_once(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    """A budget no article can meet: the entry is stored without alerts, the feed shows
    the error, the poll goes on, and the next poll does not match it again."""
    extra = _bomb_feed(site)
    config = write_config(
        tmp_path / "n.toml",
        db_url,
        site,
        {"chat": [hook_url(hook)]},
        extra,
        scale="workers = 0\nmatch_timeout = 0.000000001",
    )
    first = _newsmon(config, "poll", "--once")
    assert first.returncode == 0, first.stderr
    over = [line for line in first.stderr.splitlines() if "match over time" in line]
    assert any("feed=bomb" in line for line in over)
    assert all(line.startswith("level=warning") for line in over)
    db = connect(db_url)
    try:
        assert list_alerts(db, limit=100) == []
        feeds = {f.name: f for f in list_feeds(db)}
        bomb = feeds["bomb"]
        assert bomb.last_status == "ok" and bomb.error_count == 0
        assert bomb.last_error is not None and bomb.last_error.startswith("match: ")
        assert "longer than" in bomb.last_error and "bomb-1" in bomb.last_error
    finally:
        db.close()
    listed = _newsmon(config, "feeds", "list", "--format", "csv")
    assert "match: matching the article took longer than" in listed.stdout
    # a changed body is parsed again, but its entry is known: not matched again
    site.routes["/feeds/bomb.xml"] = Reply(
        200,
        RSS.format(base=site.base, title=TITLE).encode() + b"\n",
        {"Content-Type": "application/rss+xml"},
    )
    again = _newsmon(config, "poll", "--once", "--feed", "bomb")
    assert again.returncode == 0, again.stderr
    assert "match over time" not in again.stderr


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("рябков\\w*", "Сказал РЯБКОВА и Рябков", ["РЯБКОВА", "Рябков"]),
        ("\\bnat[oa]\\b", "la nata, natalia, NATO", ["nata", "NATO"]),
        ("\\bНАТО", "антиНАТО и НАТО", ["НАТО"]),
        ("[\\w-]+", "anti-NATO Ärger", ["anti-NATO", "Ärger"]),
        ("\\d+", "год ٢٠٢٤ и 2025", ["٢٠٢٤", "2025"]),
        ("σ+", "ΣΑΣ ς", ["Σ", "Σ", "ς"]),
        ("\\u0420\\w+", "это Рябков", ["Рябков"]),
        ("(a+)+$", "Ukraine " + "a" * 40 + "!", []),
    ],
    ids=[
        "cyrillic-case",
        "edges",
        "edge-after-letter",
        "unicode-w",
        "unicode-d",
        "sigma",
        "u-escape",
        "bomb",
    ],  # fmt: skip
)
def test_regexes_keep_pythons_meaning_and_give_character_offsets(
    pattern: str, text: str, found: list[str]
) -> None:
    spans = list(compile_user_regex(pattern).spans(text))
    assert [text[a:b] for a, b in spans] == found
    assert all(text[a:b] for a, b in spans)  # character offsets, not UTF-8 bytes


def test_a_deadline_check_ends_a_regex_search() -> None:
    class Spent(Exception):
        pass

    def check() -> None:
        raise Spent

    with pytest.raises(Spent):
        list(compile_user_regex("a").spans("aaa", check))
    with pytest.raises(RegexError):
        compile_user_regex("a\\bb")


@pytest.mark.parametrize(
    ("regex", "words"),
    [
        ("(?=NATO)", ["lookahead", "-y"]),
        ("(?<!anti-)NATO", ["lookbehind", "NEAR/0"]),
        ("(NATO) \\\\1", ["backreference", "write the repeated text out"]),
        ("NATO++", ["possessive", "drop the last +"]),
    ],
    ids=["lookahead", "lookbehind", "backreference", "possessive"],
)
def test_config_check_refuses_what_re2_cannot_run_with_file_and_line(
    tmp_path: Path, regex: str, words: list[str]
) -> None:
    config = tmp_path / "w.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/db"\n\n'
        f'[watchlist.nato]\nterms = ["NATO"]\nqueries = ["/{regex}/"]\n',
        encoding="utf-8",
    )
    done = _newsmon(config, "config", "check")
    assert done.returncode == 1
    assert f"{config}:6: watchlist.nato.queries: query 1" in done.stderr
    assert "at character" in done.stderr
    for word in words:
        assert word in done.stderr
    assert "Traceback" not in done.stderr


DEEP = {
    "near": "a " + " NEAR/5 ".join(["b"] * 1000),
    "parens": "(" * 1000 + "a" + ")" * 1000,
    "not": "a " + "NOT " * 1000 + "b",
}


@pytest.mark.parametrize("kind", list(DEEP))
def test_over_deep_queries_are_refused_at_config_check_and_in_search(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    config = tmp_path / "d.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n\n[watchlist.deep]\nqueries = ["{DEEP[kind]}"]\n',
        encoding="utf-8",
    )
    done = _newsmon(config, "config", "check")
    assert done.returncode == 1
    assert f"{config}:5: watchlist.deep.queries: query 1" in done.stderr
    assert "at character" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr) < 2000  # the query is cut short in the message
    plain = tmp_path / "p.toml"
    plain.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    assert _newsmon(plain, "db", "upgrade").returncode == 0
    searched = _newsmon(plain, "alerts", "search", DEEP[kind])
    assert searched.returncode in (1, 2)
    assert "at character" in searched.stderr and "Traceback" not in searched.stderr


def test_sigterm_ends_a_daemon_held_up_by_a_fetch_within_stop_timeout(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    """A feed that trickles a byte every 0.2 s holds a poll for its whole deadline (10
    minutes here); SIGTERM still ends the daemon after [daemon] stop_timeout."""
    site.routes["/feeds/slow.xml"] = Reply(
        200, chunks=itertools.repeat(b" "), delay=0.2, headers={"Content-Type": "text/xml"}
    )
    extra = (
        f'[[feed]]\nname = "slow"\nurl = "{site.base}/feeds/slow.xml"\n'
        '[daemon]\nstop_timeout = "2s"\n'
    )
    config = write_config(tmp_path / "n.toml", db_url, site, {}, extra, http='deadline = "10m"')
    log = tmp_path / "daemon.log"
    env = {**os.environ, "NEWSMON_CONFIG": str(config)}
    with log.open("w") as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], env=env, cwd=REPO, stderr=stderr_file
        )
    try:
        deadline = time.monotonic() + 120
        while site.hits.get("/feeds/slow.xml", 0) == 0 or site.in_flight == 0:
            assert time.monotonic() < deadline, log.read_text()
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        code = proc.wait(timeout=60)  # 2 s and the time to exit, far below 10 minutes
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = log.read_text()
    assert code == 1, stderr
    assert took >= 1.5  # the orderly stop had its time first
    assert 'msg="stop took longer than stop_timeout, exiting now' in stderr
    assert "timeout=2s" in stderr
