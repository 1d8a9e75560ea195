"""Real reports of one event from three outlets form one story; the same outlets'
reports of another event that day stay a story of their own.

Fixtures: tests/fixtures/events/basil (see its README): articles of the BASIL data set
as captured, Fox News, The New York Times and HuffPost each reporting the end of the
government shutdown and Roger Stone's indictment (25 January 2019), and the shutdown
three weeks before (2-4 January). The test serves each outlet's reports as an RSS feed
and each article as a page, from 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest

from monitor.config.settings import load
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import AlertView, list_alerts
from monitor.store.eventlist import EventView, list_events

FIXTURES = Path(__file__).parent / "fixtures" / "events" / "basil"
OUTLETS = {"fox": "Fox News", "nyt": "The New York Times", "hpo": "HuffPost"}
SHUTDOWN = "1e41e98b-9ac1-441d-b2c2-19d8f730c74a"  # the shutdown ends
STONE = "aab91277-8d56-4844-a581-45630f873f49"  # Roger Stone indicted and arrested
EARLIER = "0d10341a-9dba-4374-a524-814c300d1611"  # the shutdown three weeks before
HTML = "text/html; charset=utf-8"
XML = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True)
class Report:
    event: str  # the data set's triplet-uuid: its editors' "same event"
    source: str  # fox, nyt, hpo
    title: str
    paragraphs: list[str]
    published: datetime
    path: str  # where the test server serves its page

    @classmethod
    def read(cls, file: Path, order: int) -> Report:
        data = json.loads(file.read_text(encoding="utf-8"))
        # The data set dates articles by day: noon UTC, ten minutes apart in file order.
        day = datetime.fromisoformat(data["date"]).replace(hour=12, tzinfo=UTC)
        return cls(
            event=data["triplet-uuid"],
            source=data["source"].lower(),
            title=data["title"].strip(),
            paragraphs=[" ".join(p).strip() for p in data["body-paragraphs"]],
            published=day + timedelta(minutes=10 * order),
            path=f"/pages/{file.stem}.html",
        )

    def page(self) -> bytes:
        body = "\n".join(f"<p>{escape(p)}</p>" for p in self.paragraphs if p)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(self.title)}</title>
<meta property="og:site_name" content="{OUTLETS[self.source]}">
<meta property="article:published_time" content="{self.published.isoformat()}">
</head><body><article><h1>{escape(self.title)}</h1>
{body}
</article></body></html>
""".encode()


def reports() -> list[Report]:
    return [Report.read(f, i) for i, f in enumerate(sorted(FIXTURES.glob("*.json")))]


def feed(source: str, items: list[Report], base: str) -> bytes:
    entries = "".join(
        f"<item><title>{escape(r.title)}</title><link>{base}{r.path}</link>"
        f"<guid>{base}{r.path}</guid><pubDate>{format_datetime(r.published)}</pubDate>"
        f"<description>{escape(r.paragraphs[0])}</description></item>\n"
        for r in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{OUTLETS[source]}</title><link>{base}/</link>\n{entries}</channel></rss>\n"
    ).encode()


@pytest.fixture
def outlets() -> Iterator[Site]:
    """Each outlet's reports as its feed, each report as its page."""
    with Site() as site:
        found = reports()
        for source in OUTLETS:
            mine = [r for r in found if r.source == source]
            site.routes[f"/feeds/{source}.xml"] = Reply(
                200, feed(source, mine, site.base), {"Content-Type": XML}
            )
        for r in found:
            site.routes[r.path] = Reply(200, r.page(), {"Content-Type": HTML})
        yield site


def poll(
    tmp_path: Path, db_url: str, site: Site, hook: Receiver
) -> tuple[list[AlertView], list[EventView]]:
    feeds = "".join(f'[[feed]]\nname = "{s}"\nurl = "{site.base}/feeds/{s}.xml"\n' for s in OUTLETS)
    path = tmp_path / "newsmon.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[http]
concurrency = 1
allow_networks = ["127.0.0.1/32"]
[defaults]
alert_backlog = true
{feeds}
[channel.chat]
urls = ["json://{hook.base[7:]}/hook"]
[watchlist.trump]
terms = ["Trump"]
channels = ["chat"]
""",
        encoding="utf-8",
    )
    ctx = open_context(load(path))
    try:
        poll_once(ctx)
        return list_alerts(ctx.db, limit=100), list_events(ctx.db, limit=None)
    finally:
        close_context(ctx)


def test_the_fixtures_are_two_events_of_three_outlets_each() -> None:
    found = reports()
    assert sorted((r.event, r.source) for r in found) == sorted(
        (e, s) for e in (SHUTDOWN, STONE, EARLIER) for s in OUTLETS
    )
    same_day = {r.published.date() for r in found if r.event in (SHUTDOWN, STONE)}
    assert len(same_day) == 1  # one day: time alone cannot part those two events


def test_real_reports_of_one_event_form_one_story_and_another_stays_apart(
    db_url: str, outlets: Site, hook: Receiver, tmp_path: Path
) -> None:
    alerts, stories = poll(tmp_path, db_url, outlets, hook)
    event_of = {outlets.base + r.path: r.event for r in reports()}
    told = [{event_of[m.url or ""] for m in s.members} for s in stories]
    assert all(len(events) == 1 for events in told), told  # no story mixes the two events
    shutdown = [s for s, events in zip(stories, told, strict=True) if events == {SHUTDOWN}]
    assert len(shutdown) == 1  # the three outlets' reports of the shutdown: one story
    assert {m.source for m in shutdown[0].members} == set(OUTLETS.values())
    # one alert for the shutdown story, saying who else reported it
    new = [a for a in alerts if a.kind == "new"]
    on_shutdown = [a for a in new if a.story and a.story.id == shutdown[0].id]
    assert len(on_shutdown) == 1 and on_shutdown[0].also_reported_by == 2
    # Roger Stone's indictment, the same day and the same outlets: its own story, alerted
    stone = [s for s, events in zip(stories, told, strict=True) if events == {STONE}]
    assert stone and all(any(a.story and a.story.id == s.id for a in new) for s in stone)
    # (the outlets' angles differ: Fox's FBI tactics and the Times' WikiLeaks link meet;
    # HuffPost's profile of Stone is kept apart: when in doubt, two stories)
    assert max(len({m.source for m in s.members}) for s in stone) >= 2
    # the same topic three weeks before is not the same event
    assert not any(EARLIER in events and SHUTDOWN in events for events in told)
