"""End to end: a news sitemap and a section page, real captured documents served from
127.0.0.1, polled like feeds: a baseline poll alerts nothing, new items alert exactly
once with the right links, navigation never does, an unchanged poll costs no parsing."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from helpers.config import ALLOW_LOCAL
from monitor.config.settings import load
from monitor.demo.server import Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import list_alerts
from monitor.store.feeds import list_feeds

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
NEWS_HOST = b"https://shinpaideshou.wordpress.com"
CNN_HOST = b"http://edition.cnn.com"
# the news sitemap's newest URL, and two Ukraine stories of the page, are left out of
# the first poll: they are what the second poll finds new
NEWEST_URL = re.compile(rb"<url><loc>[^<]*reischauer-policy-research-fellow/</loc>.*?</url>", re.S)
NEW_STORIES = re.compile(
    rb'<a href="/2014/07/2[23]/world/europe/ukraine-(?:crisis|rebels-explainer)/[^"]*">[^<]*</a>'
)
ALERTS = {
    "/2017/04/25/job-opening-reischauer-policy-research-fellow/": {"fellowships"},
    "/2014/07/23/world/europe/ukraine-crisis/index.html": {"ukraine"},
    "/2014/07/22/world/europe/ukraine-rebels-explainer/index.html": {"ukraine"},
}


def _documents(base: str) -> dict[str, bytes]:
    news = (FIXTURES / "sitemaps/shinpaideshou-news-sitemap.xml").read_bytes()
    page = (FIXTURES / "pages/cnn_main_site.html").read_bytes()
    return {
        "news": news.replace(NEWS_HOST, base.encode()),
        "page": page.replace(CNN_HOST, base.encode()),
    }


def _config(path: Path, db_url: str, base: str, extra: str = "") -> Path:
    path.write_text(
        f'[database]\nurl = "{db_url}"\n'
        "[scale]\nworkers = 0\n"
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n"
        f"[defaults]\nfetch_articles = false\n{extra}\n"
        f'[[feed]]\nname = "news"\nurl = "{base}/news-sitemap.xml"\n'
        f'[[feed]]\nname = "front"\nurl = "{base}/"\nkind = "page"\n'
        '[watchlist.ukraine]\nterms = ["Ukraine"]\n'
        # "Cinemas" is only in the backlog: it must never alert
        '[watchlist.fellowships]\nterms = ["Policy Research", "Cinemas"]\n',
        encoding="utf-8",
    )
    return path


def _serve(site: Site, path: str, body: Callable[[], bytes], content_type: str) -> None:
    site.routes[path] = lambda: Reply(200, body(), {"Content-Type": content_type})


def test_a_sitemap_and_a_page_alert_their_new_items_once(db_url: str, tmp_path: Path) -> None:
    with Site() as site:
        docs = _documents(site.base)
        state = {"poll": 1}

        def news() -> bytes:
            return NEWEST_URL.sub(b"", docs["news"]) if state["poll"] == 1 else docs["news"]

        def page() -> bytes:
            return NEW_STORIES.sub(b"", docs["page"]) if state["poll"] == 1 else docs["page"]

        _serve(site, "/news-sitemap.xml", news, "application/xml; charset=UTF-8")
        _serve(site, "/", page, "text/html; charset=utf-8")
        ctx = open_context(load(_config(tmp_path / "n.toml", db_url, site.base)))
        try:
            first = poll_once(ctx)
            state["poll"] = 2
            second = poll_once(ctx)
            third = poll_once(ctx)
            alerts = list_alerts(ctx.db, limit=100)
            feeds = {f.name: f for f in list_feeds(ctx.db)}
        finally:
            close_context(ctx)

    by_feed = {r.feed: r for r in first.feeds}
    assert by_feed["news"].status == "ok" and by_feed["news"].backlog == 2
    assert by_feed["front"].status == "ok" and by_feed["front"].backlog == 209
    assert sum(len(r.alerts) for r in first.feeds) == 0  # the backlog rule
    assert {r.feed: r.new_entries for r in second.feeds} == {"news": 1, "front": 2}
    got = {(a.url or "").removeprefix(site.base): set(a.alerted) for a in alerts}
    assert got == ALERTS
    assert {a.feed for a in alerts} == {"news", "front"}
    assert sum(len(r.alerts) for r in third.feeds) == 0
    assert {r.status for r in third.feeds} <= {"not-modified", "unchanged"}
    assert feeds["news"].detected_kind == "sitemap" and feeds["news"].kind is None
    assert feeds["front"].kind == "page" and feeds["front"].detected_kind == "page"
    assert feeds["news"].entry_count == 3 and feeds["front"].entry_count == 211


def test_a_redesign_cannot_flood_the_page_is_capped(db_url: str, tmp_path: Path) -> None:
    with Site() as site:
        docs = _documents(site.base)
        state = {"poll": 1}

        def page() -> bytes:
            return NEW_STORIES.sub(b"", docs["page"]) if state["poll"] == 1 else docs["page"]

        _serve(site, "/news-sitemap.xml", lambda: docs["news"], "application/xml")
        _serve(site, "/", page, "text/html; charset=utf-8")
        config = _config(tmp_path / "n.toml", db_url, site.base, "max_new_links = 1")
        ctx = open_context(load(config))
        try:
            poll_once(ctx)
            state["poll"] = 2
            second = poll_once(ctx, ["front"])
            alerts = list_alerts(ctx.db, limit=100)
        finally:
            close_context(ctx)

    front = second.feeds[0]
    assert (front.new_entries, front.backlog, len(front.alerts)) == (2, 1, 1)
    # the first of the two in page order is taken; the other is backlog, never alerted
    assert [(a.url or "").removeprefix(site.base) for a in alerts] == [
        "/2014/07/23/world/europe/ukraine-crisis/index.html"
    ]


def test_a_sitemap_index_reads_its_newest_children(db_url: str, tmp_path: Path) -> None:
    with Site() as site:
        base = site.base.encode()
        index = (FIXTURES / "sitemaps/sitemaps-org-index.xml").read_bytes()
        news = (FIXTURES / "sitemaps/shinpaideshou-news-sitemap.xml").read_bytes()
        articles = (FIXTURES / "sitemaps/hebdenbridgetimes-articles-sitemap.xml").read_bytes()
        site.routes["/sitemap.xml"] = Reply(200, index.replace(b"http://www.example.com", base))
        site.routes["/sitemap1.xml.gz"] = Reply(200, gzip.compress(articles))
        site.routes["/sitemap2.xml.gz"] = Reply(200, gzip.compress(news.replace(NEWS_HOST, base)))
        config = tmp_path / "n.toml"
        config.write_text(
            f'[database]\nurl = "{db_url}"\n[scale]\nworkers = 0\n'
            f"[http]\nallow_networks = {ALLOW_LOCAL}\n"
            f'[[feed]]\nname = "index"\nurl = "{site.base}/sitemap.xml"\n',
            encoding="utf-8",
        )
        ctx = open_context(load(config))
        try:
            first = poll_once(ctx)
            feeds = {f.name: f for f in list_feeds(ctx.db)}
        finally:
            close_context(ctx)
    assert first.feeds[0].status == "ok"
    assert first.feeds[0].backlog == 3 + 74  # both children's URLs, none alerted
    assert feeds["index"].detected_kind == "sitemap"
    assert site.hits.get("/sitemap1.xml.gz") == 1 and site.hits.get("/sitemap2.xml.gz") == 1


def test_an_index_of_indexes_fails_the_poll_clearly(db_url: str, tmp_path: Path) -> None:
    with Site() as site:
        index = (FIXTURES / "sitemaps/sitemaps-org-index.xml").read_bytes()
        site.routes["/sitemap.xml"] = Reply(
            200, index.replace(b"http://www.example.com", site.base.encode())
        )
        site.routes["/sitemap2.xml.gz"] = Reply(200, gzip.compress(index))  # another index
        config = tmp_path / "n.toml"
        config.write_text(
            f'[database]\nurl = "{db_url}"\n[scale]\nworkers = 0\n'
            f"[http]\nallow_networks = {ALLOW_LOCAL}\n"
            f'[[feed]]\nname = "index"\nurl = "{site.base}/sitemap.xml"\n',
            encoding="utf-8",
        )
        ctx = open_context(load(config))
        try:
            result = poll_once(ctx).feeds[0]
        finally:
            close_context(ctx)
    assert result.status == "error"
    assert f"the sitemap index {site.base}/sitemap.xml lists another index" in (result.error or "")


# journal.3960.org's JSON Feed 1.1 (fixtures/sources/jsonfeed); its newest post is left
# out of the first poll
NEWEST_POST = re.compile(
    rb'    \{\n      "id": "user/posts/2020-02-21-lecker-lecker/.*?\n    \},\n', re.S
)


def test_a_real_json_feed_alerts_its_new_post_once(db_url: str, tmp_path: Path) -> None:
    body = (FIXTURES / "jsonfeed/3960.json").read_bytes()
    with Site() as site:
        state = {"poll": 1}
        _serve(
            site,
            "/feed.json",
            lambda: NEWEST_POST.sub(b"", body) if state["poll"] == 1 else body,
            "application/feed+json; charset=utf-8",
        )
        config = tmp_path / "j.toml"
        config.write_text(
            f'[database]\nurl = "{db_url}"\n[scale]\nworkers = 0\n'
            f"[http]\nallow_networks = {ALLOW_LOCAL}\n[defaults]\nfetch_articles = false\n"
            f'[[feed]]\nname = "journal"\nurl = "{site.base}/feed.json"\n'
            '[watchlist.prices]\nterms = ["billig"]\n',
            encoding="utf-8",
        )
        ctx = open_context(load(config))
        try:
            first = poll_once(ctx)
            state["poll"] = 2
            second = poll_once(ctx)
            alerts = list_alerts(ctx.db, limit=100)
            feed = list_feeds(ctx.db)[0]
        finally:
            close_context(ctx)

    assert NEWEST_POST.search(body)  # the cut takes out exactly one item
    assert [(r.status, r.backlog, len(r.alerts)) for r in first.feeds] == [("ok", 2, 0)]
    assert [r.new_entries for r in second.feeds] == [1]
    assert [(a.url, a.title, set(a.alerted)) for a in alerts] == [
        ("https://journal.3960.org/posts/2020-02-21-lecker-lecker/", "Lecker, lecker", {"prices"})
    ]
    assert alerts[0].published_at is not None
    assert alerts[0].published_at.astimezone(UTC) == datetime(2020, 2, 21, 17, 8, 6, tzinfo=UTC)
    assert feed.detected_kind == "feed" and feed.entry_count == 3
