"""Real reports of one event from three outlets form one story; the same outlets'
reports of another event that day stay a story of their own.

Fixtures: tests/fixtures/events/basil (see its README): articles of the BASIL data set
as captured, Fox News, The New York Times and HuffPost each reporting the end of the
government shutdown and Roger Stone's indictment (25 January 2019), and the shutdown
three weeks before (2-4 January). tests/helpers/basil.py serves each outlet's reports
as an RSS feed and each article as a page, from 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.basil import EARLIER, OUTLETS, SHUTDOWN, STONE, reports, serve_outlets
from helpers.servers import Mailbox
from monitor.config.settings import load
from monitor.demo.server import Receiver, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import AlertView, list_alerts
from monitor.store.eventlist import EventView, list_events


@pytest.fixture
def outlets() -> Iterator[Site]:
    with Site() as site:
        serve_outlets(site)
        yield site


def poll(
    tmp_path: Path, db_url: str, site: Site, hook: Receiver, channels: str = ""
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
format = "markdown"
{channels}
[watchlist.trump]
terms = ["Trump"]
channels = ["chat"{', "mail"' if channels else ""}]
""",
        encoding="utf-8",
    )
    ctx = open_context(load(path))
    try:
        poll_once(ctx)
        return list_alerts(ctx.db, limit=100), list_events(ctx.db, limit=None)
    finally:
        close_context(ctx)


def test_the_fixtures_are_three_events_of_three_outlets_each() -> None:
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
    assert all(len(events) == 1 for events in told), told  # no story mixes two events
    shutdown = [s for s, events in zip(stories, told, strict=True) if events == {SHUTDOWN}]
    assert len(shutdown) == 1  # the three outlets' reports of the shutdown: one story
    assert {m.source for m in shutdown[0].members} == set(OUTLETS.values())
    # one alert for the shutdown story, saying who else reported it
    new = [a for a in alerts if a.kind == "new"]
    on_shutdown = [a for a in new if a.story and a.story.id == shutdown[0].id]
    assert len(on_shutdown) == 1 and on_shutdown[0].also_reported_by == 2
    assert on_shutdown[0].also_languages == ["en"]
    # Roger Stone's indictment, the same day and the same outlets: its own story, alerted
    stone = [s for s, events in zip(stories, told, strict=True) if events == {STONE}]
    assert stone and all(any(a.story and a.story.id == s.id for a in new) for s in stone)
    # (the outlets' angles differ: Fox's FBI tactics and the Times' WikiLeaks link meet;
    # HuffPost's profile of Stone is kept apart: when in doubt, two stories)
    assert max(len({m.source for m in s.members}) for s in stone) >= 2
    # the same topic three weeks before is not the same event
    assert not any(EARLIER in events and SHUTDOWN in events for events in told)


def test_mail_and_chat_say_who_else_reported_the_story(
    db_url: str, outlets: Site, hook: Receiver, smtp: Mailbox, tmp_path: Path
) -> None:
    mail = f"mailto://{smtp.host}:{smtp.port}?from=newsmon@example.org&to=desk@example.org"
    channels = f'[channel.mail]\nurls = ["{mail}"]\nformat = "html"\n'
    alerts, _ = poll(tmp_path, db_url, outlets, hook, channels)
    event_of = {outlets.base + r.path: r.event for r in reports()}
    [alert] = [  # the shutdown story's one alert, for whichever report was read first
        a for a in alerts if a.kind == "new" and a.story and event_of[a.url or ""] == SHUTDOWN
    ]
    said = "Also reported by 2 sources in 1 language"

    def is_ours(body: str) -> bool:
        return re.search(rf"alerts show {alert.id}\b", body) is not None

    chat = [m for _, _, b in hook.received if is_ours(m := json.loads(b)["message"])]
    assert len(chat) == 1 and said in chat[0]
    mails = [b for m in smtp.messages if is_ours(b := m.get_body(("html", "plain")).get_content())]
    assert len(mails) == 1 and said in mails[0]
