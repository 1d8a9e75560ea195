"""Hostile feeds and pages (monitor/demo/hostile.py) served beside the sample feeds: the
cycle finishes, the hostile feed's error is recorded and says what happened, and the
other feeds are polled as if nothing had happened."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from helpers.config import write_config
from monitor.config.settings import load
from monitor.demo.hostile import CASES, PAGE_CASES, Case, item, rss
from monitor.demo.server import Reply, Site
from monitor.errors import ParseError
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.sources.feeds import parse_feed
from monitor.store.alerts import list_alerts
from monitor.store.feeds import FeedRow, list_feeds

HTTP = 'max_bytes = 2000000\ntimeout = "5s"\ndeadline = "3s"\nmax_redirects = 3'
SAMPLE = {"world", "nachrichten", "novosti"}


def hostile_config(tmp_path: Path, db_url: str, site: Site, max_entries: int = 50) -> Path:
    """The sample feeds (backlog recorded silently) and one hostile feed that alerts."""
    extra = (
        f'[[feed]]\nname = "hostile"\nurl = "{site.base}/feeds/hostile.xml"\n'
        "alert_backlog = true\nfetch_articles = false\n"
    )
    path = write_config(
        tmp_path / "n.toml", db_url, site, {}, extra=extra, alert_backlog=False, http=HTTP
    )
    text = path.read_text().replace("[defaults]\n", f"[defaults]\nmax_entries = {max_entries}\n")
    path.write_text(text)
    return path


def poll(config: Path) -> tuple[dict[str, str], dict[str, FeedRow], int]:
    ctx = open_context(load(config))
    try:
        report = poll_once(ctx)
        feeds = {f.name: f for f in list_feeds(ctx.db)}
        alerts = len(list_alerts(ctx.db, limit=100_000))
    finally:
        close_context(ctx)
    return {r.feed: r.status for r in report.feeds}, feeds, alerts


def assert_others_unaffected(status: dict[str, str], feeds: dict[str, FeedRow]) -> None:
    assert {name: status[name] for name in SAMPLE} == dict.fromkeys(SAMPLE, "ok")
    assert all(feeds[n].last_error is None and feeds[n].entry_count > 0 for n in SAMPLE)


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "error"], ids=lambda c: c.name)
def test_hostile_feed_is_recorded_as_an_error(case: Case, site: Site, tmp_path: Path) -> None:
    site.routes["/feeds/hostile.xml"] = case.reply(site.base)
    site.routes["/secret"] = Reply(200, b"internal secret")
    status, feeds, alerts = poll(hostile_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}", site))
    assert status["hostile"] == "error"
    error = feeds["hostile"].last_error or ""
    assert error.split(":", 1)[0] in ("fetch", "parse")  # the stage comes first
    for word in case.words:
        assert word in error
    assert feeds["hostile"].error_count == 1 and feeds["hostile"].entry_count == 0
    assert alerts == 0
    assert site.hits.get("/secret") is None  # no external entity was fetched
    assert_others_unaffected(status, feeds)


READABLE = [c for c in CASES if c.outcome == "ok" and c.name != "ten-thousand-entries"]


@pytest.mark.parametrize("case", READABLE, ids=lambda c: c.name)
def test_odd_but_readable_feed_is_read(case: Case, db_url: str, site: Site, tmp_path: Path) -> None:
    site.routes["/feeds/hostile.xml"] = case.reply(site.base)
    status, feeds, alerts = poll(hostile_config(tmp_path, db_url, site))
    assert status["hostile"] == "ok", feeds["hostile"].last_error
    assert feeds["hostile"].entry_count >= 1
    assert_others_unaffected(status, feeds)


def test_ten_thousand_entries_keep_the_newest(site: Site, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "ten-thousand-entries")
    site.routes["/feeds/hostile.xml"] = case.reply(site.base)
    ctx = open_context(load(hostile_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}", site, 20)))
    try:
        poll_once(ctx)
        with ctx.db.engine.connect() as conn:
            titles = set(
                conn.exec_driver_sql(
                    "SELECT e.title FROM entries e JOIN feeds f ON f.id = e.feed_id "
                    "WHERE f.name = 'hostile'"
                ).scalars()
            )
    finally:
        close_context(ctx)
    # entry n is dated n seconds after midnight: the newest twenty are 9980..9999
    assert titles == {f"Entry {n}" for n in range(9980, 10_000)}


def test_cleaned_entries_are_stored_and_alerted(db_url: str, site: Site, tmp_path: Path) -> None:
    site.routes["/feeds/hostile.xml"] = Reply(
        200,
        rss(
            item(1, "NATO\x00 and &#0;bell\x07", "<link>javascript:alert(1)</link>")
            + "<item><description>NATO without a title or link</description></item>"
            + "<item></item>"
        ),
        {"Content-Type": "application/rss+xml"},
    )
    ctx = open_context(load(hostile_config(tmp_path, db_url, site)))
    try:
        report = poll_once(ctx)
        alerts = list_alerts(ctx.db, feed="hostile")
    finally:
        close_context(ctx)
    assert {r.feed: r.status for r in report.feeds}["hostile"] == "ok"
    assert sorted(a.title for a in alerts) == ["", "NATO and bell 1"]
    assert all(a.url is None for a in alerts)  # the javascript: link was not kept


@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda c: c.name)
def test_hostile_page_falls_back_to_the_summary(case: Case, site: Site, tmp_path: Path) -> None:
    site.routes["/feeds/hostile.xml"] = Reply(
        200, rss(item(1, extra=f"<link>{site.base}/page.html</link>")), {"Content-Type": "text/xml"}
    )
    site.routes["/page.html"] = case.reply(site.base)
    config = hostile_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}", site)
    config.write_text(config.read_text().replace("fetch_articles = false", "fetch_articles = true"))
    ctx = open_context(load(config))
    try:
        report = poll_once(ctx)
        (alert,) = list_alerts(ctx.db, feed="hostile")
        with ctx.db.engine.connect() as conn:
            error = conn.exec_driver_sql("SELECT fetch_error FROM articles").scalar()
    finally:
        close_context(ctx)
    assert {r.feed: r.status for r in report.feeds} == dict.fromkeys([*SAMPLE, "hostile"], "ok")
    assert alert.text_source == "summary"
    for word in case.words:
        assert word in str(error)


@pytest.mark.parametrize(
    "name", ["billion-laughs", "quadratic-entity", "external-entity"], ids=lambda n: n
)
def test_entity_attacks_are_refused_before_they_grow(name: str) -> None:
    body = next(c for c in CASES if c.name == name).reply("http://127.0.0.1:9").body
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as info:
            parse_feed(body, url="http://feeds.example/x")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * len(body) + 1_000_000  # nothing was expanded
    assert "newsmon refuses such feeds" in str(info.value) and info.value.hint


def test_short_character_entities_are_still_read() -> None:
    doctype = '<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n<!ENTITY mdash "&#8212;">\n]>'
    _, (entry,) = parse_feed(
        rss(item(1, "NATO&nbsp;&mdash;&nbsp;news"), doctype=doctype), url="http://x/f"
    )
    assert entry.title == "NATO\u00a0\u2014\u00a0news 1"


def test_entry_link_into_a_blocked_network_is_not_fetched(site: Site, tmp_path: Path) -> None:
    with Site(host="127.0.0.2") as inside:
        inside.routes["/admin"] = Reply(200, b"<html><body>internal NATO secrets</body></html>")
        site.routes["/feeds/hostile.xml"] = Reply(
            200,
            rss(item(1, extra=f"<link>{inside.base}/admin</link>")),
            {"Content-Type": "text/xml"},
        )
        config = hostile_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}", site)
        config.write_text(
            config.read_text().replace("fetch_articles = false", "fetch_articles = true")
        )
        ctx = open_context(load(config))
        try:
            poll_once(ctx)
            (alert,) = list_alerts(ctx.db, feed="hostile")
            with ctx.db.engine.connect() as conn:
                error = conn.exec_driver_sql("SELECT fetch_error FROM articles").scalar()
        finally:
            close_context(ctx)
        assert inside.hits == {}
    assert alert.text_source == "summary" and "secrets" not in alert.text
    assert f"refused to fetch {inside.base}/admin" in str(error) and "loopback" in str(error)
