"""One alert per news event, end to end: three outlets' reports of one event, served
from 127.0.0.1, alert each watchlist once; a new development the next day stays a story
of its own. Fixtures: tests/fixtures/events (see its README); real reports of two
events on one day: test_events_real.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config.settings import load
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import AlertView, list_alerts

FIXTURES = Path(__file__).parent / "fixtures" / "events"
TALKS = ["/pages/talks-wire.html", "/pages/talks-courier.html", "/pages/talks-herald.html"]


@pytest.fixture
def events_site() -> Iterator[Site]:
    with Site(FIXTURES) as server:
        yield server


def _poll(
    tmp_path: Path,
    db_url: str,
    site: Site,
    hook: Receiver,
    extra: str = "",
    feeds: Sequence[str] = ("wire", "courier", "herald"),
) -> list[AlertView]:
    path = tmp_path / "newsmon.toml"
    listed = "".join(
        f'[[feed]]\nname = "{name}"\nurl = "{site.base}/feeds/{name}.xml"\n' for name in feeds
    )
    path.write_text(
        f"""
[database]
url = "{db_url}"
[http]
concurrency = 1
allow_networks = ["127.0.0.1/32"]
[defaults]
alert_backlog = true
[stories]
growth = [3]
{listed}
[channel.chat]
urls = ["json://{hook.base[7:]}/hook"]
[watchlist.ukraine]
terms = ["Ukraine"]
channels = ["chat"]
[watchlist.geneva]
terms = ["Geneva"]
channels = ["chat"]
{extra}
""",
        encoding="utf-8",
    )
    ctx = open_context(load(path))
    try:
        poll_once(ctx)
        return list_alerts(ctx.db, limit=100)
    finally:
        close_context(ctx)


def _paths(alerts: list[AlertView], base: str, kind: str = "new") -> list[str]:
    return sorted((a.url or "").removeprefix(base) for a in alerts if a.kind == kind)


def test_one_alert_per_event_and_watchlist(
    db_url: str, events_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    alerts = _poll(tmp_path, db_url, events_site, hook)
    news = [a for a in alerts if a.kind == "new"]
    talks = [a for a in news if (a.url or "").removeprefix(events_site.base) in TALKS]
    assert len(talks) == 1  # the first report alerts both watchlists; the others join
    assert sorted(talks[0].watchlists) == ["geneva", "ukraine"]
    story = talks[0].story
    assert story is not None
    members = sorted((m.url or "").removeprefix(events_site.base) for m in story.members)
    assert members == sorted(TALKS)
    assert talks[0].also_reported_by == 2
    # the council the next day: a new development, an event of its own
    others = sorted(_paths(news, events_site.base))
    assert "/pages/council-herald.html" in others
    assert len({a.story.id for a in news if a.story}) == 2
    # the third source reached [stories] growth = [3]: one update to the watchlists
    grown = [a for a in alerts if a.kind == "growth"]
    assert len(grown) == 1 and sorted(grown[0].watchlists) == ["geneva", "ukraine"]
    assert (grown[0].diff or "").startswith("Now reported by 3 sources")
    posted = [json.loads(body) for _, _, body in hook.received]
    assert any("Now reported by 3 sources" in p["message"] for p in posted)


def test_copies_watchlist_gets_every_report(
    db_url: str, events_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    extra = '[watchlist.ryabkov]\nterms = ["Ryabkov"]\nstory = "copies"\n'
    alerts = _poll(tmp_path, db_url, events_site, hook, extra)
    per_report = [a for a in alerts if a.kind == "new" and "ryabkov" in a.watchlists]
    got = sorted((a.url or "").removeprefix(events_site.base) for a in per_report)
    assert set(TALKS) <= set(got)


def test_stories_list_and_show(
    db_url: str, events_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    _poll(tmp_path, db_url, events_site, hook)
    config = str(tmp_path / "newsmon.toml")
    runner = CliRunner()
    listed = runner.invoke(
        cli, ["--config", config, "stories", "list", "--min-sources", "2", "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    stories = json.loads(listed.output)
    assert len(stories) == 1
    story = stories[0]
    assert set(story) >= {"id", "title", "first_seen", "last_seen", "sources", "languages"}
    assert story["sources"] == ["Demo Wire", "Lakeside Courier", "Northern Herald"]
    assert story["languages"] == ["en"]
    members = story["members"]
    assert [m["feed"] for m in members] == ["wire", "courier", "herald"]
    assert all(m["published"].startswith("2026-03-03T") for m in members)
    assert sorted(m["url"].removeprefix(events_site.base) for m in members) == sorted(TALKS)

    everything = runner.invoke(cli, ["--config", config, "stories", "list", "--format", "json"])
    assert len(json.loads(everything.output)) == 2  # the talks, the council
    by_watchlist = runner.invoke(
        cli, ["--config", config, "stories", "list", "--watchlist", "geneva", "--format", "json"]
    )
    assert {s["id"] for s in json.loads(by_watchlist.output)} >= {story["id"]}

    shown = runner.invoke(cli, ["--config", config, "stories", "show", str(story["id"])])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "3 reports from 3 sources (en)" in lines[1]
    assert "first report" in lines[2] and "Demo Wire" in lines[2]
    assert "+2h30m" in lines[3] and "Lakeside Courier" in lines[3]
    assert "+4h55m" in lines[4] and "Northern Herald" in lines[4]
    missing = runner.invoke(cli, ["--config", config, "stories", "show", "9999"])
    assert missing.exit_code == 1 and "stories list" in missing.output

    table = runner.invoke(cli, ["--config", config, "stories", "list"])
    assert table.exit_code == 0 and "Geneva" in table.output


def test_one_feed_delivering_an_event_at_once_alerts_its_first_report(
    db_url: str, events_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    """A feed lists the newest first; its entries are read oldest first, so the event's
    first report founds the story and alerts, and the later ones join it."""
    items = []
    for name in ("wire", "courier", "herald"):
        text = (FIXTURES / "feeds" / f"{name}.xml").read_text(encoding="utf-8")
        items += re.findall(r"<item>.*?</item>", text, re.S)
    items.sort(key=lambda i: parsedate_to_datetime(i.split("<pubDate>")[1].split("<")[0]))
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>All</title>'
        f"<link>{events_site.base}/</link>{''.join(reversed(items))}</channel></rss>"
    ).replace("{base}", events_site.base)
    events_site.routes["/feeds/all.xml"] = Reply(
        200, body.encode(), {"Content-Type": "application/rss+xml"}
    )
    alerts = _poll(tmp_path, db_url, events_site, hook, feeds=["all"])
    talks = [a for a in alerts if a.kind == "new" and a.story and len(a.story.members) == 3]
    assert _paths(talks, events_site.base) == ["/pages/talks-wire.html"]  # 16:10, the first


def test_a_timeline_line_longer_than_the_terminal_ends_in_an_ellipsis() -> None:
    from monitor.cli.stories import _fit

    headline = (
        "Story 2: NATO allies pledge faster air defence and grid equipment deliveries to Ukraine"
    )
    cut = _fit(headline, 80)
    assert len(cut) <= 80 and cut.endswith("deliveries to…")
    assert _fit("Story 2: short", 80) == "Story 2: short"
