"""A Telegram channel through the whole pipeline: the captured preview (tests/fixtures/
telegram) served from 127.0.0.1 as the channel looks at each poll. A baseline poll,
new messages (more than the first page holds, so older pages are read), alerts for
exactly the matching ones with their t.me links, an unchanged third poll; paging that
stops at [defaults] telegram_pages; a layout newsmon does not know; follow_links."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from helpers.config import ALLOW_LOCAL
from helpers.paths import SAMPLE_SITE
from helpers.telegram_pages import CHANNEL, LINK_PREVIEW, NUMBERS, PAGE, ROUND_VIDEO, newest
from monitor.config.settings import load
from monitor.demo.server import Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.pipeline.context import Context
from monitor.store.alerts import list_alerts
from monitor.store.feeds import list_feeds

PER_PAGE = 5  # messages a page shows here (t.me shows about twenty)
HTML = {"Content-Type": "text/html; charset=utf-8"}


@dataclass
class Channel:
    """What the channel has posted so far, served as t.me/s/ would."""

    posted: int = 0  # the newest message posted
    per_page: int = PER_PAGE
    insert: dict[int, bytes] = field(default_factory=dict)
    asked: list[int] = field(default_factory=list)  # ?before= values requested
    layout: Callable[[bytes], bytes] = lambda body: body

    def page(self, before: int | None = None) -> Reply:
        if before is not None:
            self.asked.append(before)
        limit = self.posted + 1 if before is None else min(before, self.posted + 1)
        body = newest(self.per_page, before=limit, insert=self.insert)
        return Reply(200, self.layout(body), HTML, etag=False)

    def serve(self, site: Site) -> str:
        path = f"/s/{CHANNEL}"
        site.routes[path] = lambda: self.page()
        for number in [*NUMBERS, NUMBERS[-1] + 1]:
            site.routes[f"{path}?before={number}"] = lambda n=number: self.page(n)  # type: ignore[misc]
        return site.base + path


def _blocks_with(word: str) -> set[int]:
    """The messages whose block in the captured page holds ``word``: read from the bytes."""
    found = set()
    for block in PAGE.split(b'data-post="')[1:]:
        number = int(re.match(rb"[^/]+/(\d+)", block).group(1))  # type: ignore[union-attr]
        if word.encode() in block.split(b"tgme_widget_message_footer")[0]:
            found.add(number)
    return found


def _config(tmp_path: Path, db_url: str, url: str, extra: str = "") -> Path:
    path = tmp_path / "newsmon.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n[scale]\nworkers = 0\n\n'
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n\n"
        "[defaults]\nalert_backlog = false\ntelegram_pages = 3\n\n"
        f'[[feed]]\nname = "topwar"\nurl = "{url}"\n{extra}\n'
        '[watchlist.drones]\nterms = ["БПЛА"]\nchannels = []\n\n'
        '[watchlist.belarus]\nterms = ["БелВПО"]\nchannels = []\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def site() -> Iterator[Site]:
    with Site(SAMPLE_SITE) as server:
        yield server


def _links(ctx: Context) -> dict[str, set[str]]:
    return {a.url or "": set(a.watchlists) for a in list_alerts(ctx.db, limit=1000)}


def test_baseline_new_messages_over_two_pages_and_an_unchanged_poll(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    channel = Channel(posted=70990)
    ctx = open_context(load(_config(tmp_path, db_url, channel.serve(site))))
    try:
        first = poll_once(ctx).feeds[0]
        assert (first.status, first.backlog, first.alerts) == ("ok", 2, [])

        # ten messages and a round video later: the first page no longer shows 70990
        channel.posted, channel.insert = NUMBERS[-1], {71000: ROUND_VIDEO}
        second = poll_once(ctx).feeds[0]
        news = [n for n in NUMBERS if n > 70990]
        assert second.status == "ok" and second.new_entries == len(news)
        assert channel.asked[:2] == [news[-PER_PAGE], news[-2 * PER_PAGE]]
        got = _links(ctx)
        expected: dict[str, set[str]] = {}
        for name, word in (("drones", "БПЛА"), ("belarus", "БелВПО")):
            for number in _blocks_with(word) & set(news):
                expected.setdefault(f"https://t.me/{CHANNEL}/{number}", set()).add(name)
        assert got == expected
        assert len(got) >= 3  # the fixture has such messages: the test tests something
        alerts = list_alerts(ctx.db, limit=1000)
        assert all(a.text_source == "summary" for a in alerts)  # no page fetched
        forwarded = next(a for a in alerts if "belarus" in a.watchlists)
        assert forwarded.text.startswith("Forwarded from БелВПО (https://t.me/Belarus_VPO/")

        asked = len(channel.asked)
        third = poll_once(ctx).feeds[0]
        assert third.status in ("unchanged", "not-modified") and third.alerts == []
        assert len(channel.asked) == asked  # an unchanged page: no paging either
        assert _links(ctx) == got
        feed = list_feeds(ctx.db)[0]
        assert feed.entry_count == len(NUMBERS)
    finally:
        close_context(ctx)


def test_paging_stops_at_telegram_pages_and_warns(
    db_url: str, site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    channel = Channel(posted=NUMBERS[0], per_page=2)
    ctx = open_context(load(_config(tmp_path, db_url, channel.serve(site))))
    try:
        poll_once(ctx)
        channel.posted = NUMBERS[-1]
        with caplog.at_level(logging.WARNING, logger="newsmon.pipeline"):
            result = poll_once(ctx).feeds[0]
        assert len(channel.asked) == 2  # three pages in all
        assert result.new_entries == 3 * 2
        assert "telegram paging stopped before a known message feed=topwar" in caplog.text
    finally:
        close_context(ctx)


def test_a_layout_newsmon_does_not_know_fails_the_poll_and_says_why(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    channel = Channel(posted=NUMBERS[-1])
    extra = 'kind = "telegram"\n\n[health]\nfailures = 2\n'
    ctx = open_context(load(_config(tmp_path, db_url, channel.serve(site), extra)))
    try:
        assert poll_once(ctx).feeds[0].status == "ok"
        channel.layout = lambda body: body.replace(b"tgme_widget_message", b"tgme_post")
        report = poll_once(ctx)
        result = report.feeds[0]
        assert result.status == "error"
        assert "no messages found in a Telegram preview page" in (result.error or "")
        assert report.health == []  # one failure is not yet failing
        feed = list_feeds(ctx.db)[0]
        assert "the page layout may have changed" in (feed.last_error or "")
        again = poll_once(ctx)
        assert [(c.feed, c.state) for c in again.health] == [("topwar", "failing")]
    finally:
        close_context(ctx)


class _ToSite(httpx.BaseTransport):
    """Every request to another host answered by the local site, at the same path:
    the article a message links to (https://vnnews.ru/...) without the internet."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.inner = httpx.HTTPTransport()
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "127.0.0.1":
            self.hosts.append(request.url.host)
            local = httpx.URL(self.site.base).copy_with(
                path=request.url.path, query=request.url.query or None
            )
            request = httpx.Request(request.method, local, headers=request.headers)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("follow", [True, False], ids=["follow", "no-follow"])
def test_follow_links_reads_the_linked_article(
    db_url: str, site: Site, tmp_path: Path, follow: bool
) -> None:
    channel = Channel(posted=70990, insert={70992: LINK_PREVIEW})
    url = channel.serve(site)
    site.routes["/georgiy-zotov-okkupaciya-volosatym-kr/"] = site.reply_for(
        "/articles/osce-mission.html"
    )
    extra = f"follow_links = {str(follow).lower()}\n"
    config = _config(tmp_path, db_url, url, extra)
    osce = '\n[watchlist.osce]\nterms = ["OSCE"]\nchannels = []\n'
    config.write_text(config.read_text(encoding="utf-8") + osce, encoding="utf-8")
    transport = _ToSite(site)
    ctx = open_context(load(config), transport=transport)
    try:
        poll_once(ctx)
        channel.posted = 70992
        poll_once(ctx)
        alerts = [a for a in list_alerts(ctx.db, limit=100) if "osce" in a.watchlists]
    finally:
        close_context(ctx)
    if not follow:
        assert alerts == [] and transport.hosts == []
        return
    assert transport.hosts == ["vnnews.ru"]  # the message's own t.me link is not fetched
    (alert,) = alerts
    assert alert.url == "https://t.me/oper_goblin/22360"
    assert alert.text_source == "page"
    assert alert.text.startswith("https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/\n\n")
