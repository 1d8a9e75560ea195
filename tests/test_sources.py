"""The readers of sources without a feed, on real captured sitemaps and section pages
(tests/fixtures/sources/, each folder's README says where they come from)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers.telegram_pages import PAGE
from monitor.errors import LayoutError, ParseError
from monitor.sources.read import READERS, detect_kind, read_document
from monitor.sources.sitemaps import FOLLOW

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
NEWS = FIXTURES / "sitemaps" / "shinpaideshou-news-sitemap.xml"
ARTICLES = FIXTURES / "sitemaps" / "hebdenbridgetimes-articles-sitemap.xml"
INDEX = FIXTURES / "sitemaps" / "sitemaps-org-index.xml"
CNN = FIXTURES / "pages" / "cnn_main_site.html"
WIRED = FIXTURES / "pages" / "wired_main_site.html"
JSON_3960 = FIXTURES / "jsonfeed" / "3960.json"  # journal.3960.org's JSON Feed 1.1

# the JSON Feed 1.1 specification's own example (https://jsonfeed.org/version/1.1),
# with a second item as its "items" section describes them: the edge cases (an item
# without a title, a numeric id, a link that is not a web page)
JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "My Example Feed",
    "home_page_url": "https://example.org/",
    "feed_url": "https://example.org/feed.json",
    "items": [
        {
            "id": "2",
            "content_text": "This is a second item.",
            "url": "https://example.org/second-item",
        },
        {
            "id": 1,
            "content_html": "<p>Hello, world!</p>",
            "url": "https://example.org/initial-post",
            "title": "Initial post",
            "date_published": "2010-02-07T14:04:00-05:00",
        },
        {"id": "3", "url": "javascript:alert(1)"},  # nothing to read: dropped
    ],
}


@pytest.mark.parametrize(
    ("body", "content_type", "url", "kind"),
    [
        (NEWS.read_bytes(), "application/xml", "https://s.example/news.xml", "sitemap"),
        (NEWS.read_bytes(), "text/html", "https://s.example/news", "sitemap"),
        (INDEX.read_bytes(), "", "https://s.example/index.xml", "sitemap"),
        (
            gzip.compress(ARTICLES.read_bytes()),
            "application/x-gzip",
            "https://s.example/a",
            "sitemap",
        ),
        (CNN.read_bytes(), "text/html", "https://s.example/", "page"),
        (WIRED.read_bytes(), "", "https://s.example/", "page"),
        (JSON_3960.read_bytes(), "application/feed+json", "https://s.example/f", "feed"),
        (JSON_3960.read_bytes(), "text/plain", "https://s.example/f", "feed"),
        (
            b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>",
            "text/html",
            "https://s.example/",
            "feed",
        ),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'/>",
            "application/atom+xml",
            "https://s.example/",
            "feed",
        ),
        (
            b"<html><body>preview</body></html>",
            "text/html",
            "https://t.me/s/MID_Russia",
            "telegram",
        ),
        (PAGE, "text/html; charset=utf-8", "http://127.0.0.1:8000/s/topwar_official", "telegram"),
    ],
    ids=[
        "news-sitemap",
        "sitemap-as-html",
        "index",
        "gzip",
        "cnn",
        "wired-no-type",
        "json-feed",
        "json-feed-as-text",
        "rss-as-html",
        "atom",
        "telegram",
        "telegram-served-elsewhere",
    ],
)
def test_the_kind_is_detected_from_the_response(
    body: bytes, content_type: str, url: str, kind: str
) -> None:
    assert detect_kind(body, content_type, url) == kind


def test_every_kind_has_a_reader() -> None:
    assert set(READERS) == {"feed", "sitemap", "page", "telegram"}
    # a page without a channel's messages is a layout newsmon does not know, not nothing
    with pytest.raises(LayoutError, match="no messages found in a Telegram preview page"):
        read_document("telegram", b"<html></html>", url="https://t.me/s/durov")


def test_a_google_news_sitemap_gives_titled_dated_entries() -> None:
    parsed = read_document(None, NEWS.read_bytes(), url="https://shinpaideshou.wordpress.com/n.xml")
    assert parsed.kind == "sitemap"
    assert parsed.title == "What can I do with a B.A. in Japanese Studies?"
    first = parsed.entries[0]
    assert first.link == (
        "https://shinpaideshou.wordpress.com/2017/04/25/"
        "job-opening-reischauer-policy-research-fellow/"
    )
    assert first.title == "Job Opening: Reischauer Policy Research Fellow"
    assert first.published == datetime(2017, 4, 25, 10, 0, 36, tzinfo=UTC)
    assert first.language == "en"
    assert first.key == f"link:{first.link}"
    assert parsed.items == len(parsed.entries) == 3


def test_a_urlset_keeps_its_newest_urls_by_lastmod() -> None:
    body = ARTICLES.read_bytes()
    whole = read_document("sitemap", body, url="http://www.hebdenbridgetimes.co.uk/s.xml")
    assert whole.items == len(whole.entries) == 74
    assert all(e.published is not None and e.title == "" for e in whole.entries)
    newest = read_document("sitemap", body, url="http://x.example/s.xml", max_entries=5)
    cutoff = sorted((e.published for e in whole.entries if e.published), reverse=True)[4]
    assert len(newest.entries) == 5
    assert all(e.published and e.published >= cutoff for e in newest.entries)


def test_known_urls_are_left_out_and_gzip_is_read() -> None:
    body = ARTICLES.read_bytes()
    first = read_document("sitemap", body, url="http://x.example/s.xml")
    assert first.digests is not None
    known = first.digests[8:]  # all but the first URL were read by the last poll
    again = read_document(
        "sitemap", gzip.compress(body), url="http://x.example/s.xml.gz", known=known
    )
    assert [e.link for e in again.entries] == [first.entries[0].link]
    assert again.items == 74 and again.digests == first.digests


def test_a_sitemap_index_names_its_newest_children_only() -> None:
    parsed = read_document(None, INDEX.read_bytes(), url="http://www.example.com/sitemap.xml")
    assert parsed.entries == []
    # 2005-01-01 is newer than 2004-10-01; the CDATA one is read too
    assert parsed.children == (
        "http://www.example.com/sitemap2.xml.gz",
        "http://www.example.com/sitemap1.xml.gz",
    )
    many = "".join(
        f"<sitemap><loc>https://s.example/{d}.xml</loc><lastmod>2024-05-{d:02d}</lastmod></sitemap>"
        for d in range(1, 29)
    )
    big = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{many}</sitemapindex>'
    children = read_document(None, big.encode(), url="https://s.example/i.xml").children
    assert children == tuple(f"https://s.example/{d}.xml" for d in (28, 27, 26)[:FOLLOW])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaa">]>'
            b"<urlset><url><loc>https://s.example/&a;</loc></url></urlset>",
            "refuses such sitemaps",
        ),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "not a sitemap"),
        (b"\x1f\x8b\x08broken", "broken gzip"),
    ],
    ids=["entity", "not-a-sitemap", "broken-gzip"],
)
def test_a_bad_sitemap_is_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_document("sitemap", body, url="https://s.example/s.xml")


def test_a_real_json_feed_is_read_as_a_feed() -> None:
    parsed = read_document(None, JSON_3960.read_bytes(), url="https://journal.3960.org/feed.json")
    assert parsed.kind == "feed" and parsed.title == "fboës - Der Blog | Startseite"
    posts = "https://journal.3960.org/posts/"
    assert [(e.link, e.title, e.published) for e in parsed.entries] == [
        (
            f"{posts}2020-02-21-lecker-lecker/",
            "Lecker, lecker",
            datetime(2020, 2, 21, 17, 8, 6, tzinfo=UTC),
        ),
        (
            f"{posts}2020-02-10-sabine-flughafen-amsterdam/",
            "„Sabine“ am Flughafen Amsterdam",
            datetime(2020, 2, 10, 17, 40, 4, tzinfo=UTC),
        ),
        (f"{posts}2020-01-19-migrants/", "Migrants", datetime(2020, 1, 19, 17, 9, 37, tzinfo=UTC)),
    ]
    first = parsed.entries[0]
    assert first.key == "guid:user/posts/2020-02-21-lecker-lecker/index.md"
    assert "nicht ganz billig" in first.summary
    assert parsed.dropped == 0


def test_the_json_feed_specs_example_is_read_as_a_feed() -> None:
    body = json.dumps(JSON_FEED).encode()
    parsed = read_document(None, body, url="https://example.org/feed.json")
    assert parsed.kind == "feed" and parsed.title == "My Example Feed"
    assert [(e.key, e.link, e.title) for e in parsed.entries] == [
        ("guid:2", "https://example.org/second-item", ""),
        ("guid:1", "https://example.org/initial-post", "Initial post"),
    ]
    assert parsed.entries[0].summary == "This is a second item."
    assert parsed.entries[1].published == datetime(2010, 2, 7, 19, 4, tzinfo=UTC)
    assert parsed.dropped == 1


def test_a_json_document_of_another_kind_is_a_clear_error() -> None:
    body = b'{"version": "https://example.org/not-json-feed", "items": []}'
    with pytest.raises(ParseError, match="not a JSON Feed newsmon can read"):
        read_document("feed", body, url="https://s.example/f.json", content_type="application/json")


# A section page's article links, as a reader of the page would list them. Every link
# of the page was looked at: these lead to articles; the menus (World, U.S., Africa ...),
# the section fronts (/WORLD/, /SPORT/), the video and iReport landing pages, the
# "more" and "view all" links, the footer (terms, privacy, ad choices, contact), and the
# links to CNN's blogs and other sites must never be among them.
CNN_ARTICLES = [
    "/2014/07/23/world/meast/mideast-crisis/index.html",
    "/2014/07/24/world/europe/italy-sudan-christian-woman/index.html",
    "/2014/07/24/justice/arizona-execution-controversy/index.html",
    "/2014/07/23/world/europe/costa-concordia-leaves-behind/index.html",
    "/2014/07/22/world/asia/giant-insect-china/index.html",
    "/2014/07/24/world/africa/air-algerie-flight/index.html",
    "/video/data/2.0/video/world/2014/07/24/newday-air-algerie-flight-missing-ah5017.cnn.html",
    "/2014/07/24/world/europe/ukraine-malaysia-airlines-crash/index.html",
    "/2014/07/23/world/europe/mh17-whats-next-victims-bodies/index.html",
    "/video/data/2.0/video/world/2014/07/23/nr-brooke-mh17-memorial-eelco-bosch-van-rosenthal-intv.cnn.html",
    "/2014/07/23/world/asia/malaysia-najib-mh17-diplomacy/index.html",
    "/2014/07/23/world/europe/ukraine-crisis/index.html",
]
CNN_NEVER = [
    "/WORLD/",
    "/US/",
    "/SPORT/",
    "/video/",
    "/ireport",
    "/specials/",
    "/interactive/",
    "/services/",
    "/privacy",
    "/terms",
    "/feedback",
    "/tools/",
    "blogs.cnn.com",
    "twitter.com",
    "facebook.com",
    "/search",
    "/linkto/",
    "/cnni/",
]


def test_a_section_page_yields_its_article_links_and_nothing_else() -> None:
    parsed = read_document(None, CNN.read_bytes(), url="http://edition.cnn.com/")
    links = [e.link or "" for e in parsed.entries]
    paths = [link.removeprefix("http://edition.cnn.com") for link in links]
    assert paths[: len(CNN_ARTICLES)] == CNN_ARTICLES  # in page order: the top stories first
    assert all(link.startswith("http://edition.cnn.com/") for link in links)
    for never in CNN_NEVER:
        assert not [p for p in paths if never.lower() in p.lower() and "/20" not in p], never
    # every link is an article's: a dated path
    assert all("/2014/" in p or "/2013/" in p for p in paths)
    titles = {e.link: e.title for e in parsed.entries}
    # of the two anchors to one story, the longer text is its title
    assert titles["http://edition.cnn.com/2014/07/23/world/europe/ukraine-crisis/index.html"] == (
        "Two fighter jets shot down in Ukraine"
    )
    assert parsed.items == len(links) == len(set(links))


def test_a_page_of_another_design_yields_its_stories() -> None:
    parsed = read_document("page", WIRED.read_bytes(), url="https://www.wired.com/")
    paths = [(e.link or "").removeprefix("https://www.wired.com") for e in parsed.entries]
    assert paths[:3] == [
        "/story/russia-invaded-ukraine-choice-propaganda-death/",
        "/story/joe-biden-tiktok-campaign-comments/",
        "/story/solar-eclipse-2024-simulator-to-help-you-find-the-best-spot/",
    ]
    for never in ("/category/", "/tag/", "/newsletter", "/video/series/", "/feed/", "/about/"):
        assert not [p for p in paths if never in p], never
    assert all(p.startswith(("/story/", "/review/", "/video/watch/", "/20")) for p in paths)
    assert len(paths) == len({p.rstrip("/") for p in paths})  # with and without "/": one


def test_a_page_without_article_links_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="no article links were found .* layout may have changed"):
        read_document(
            "page",
            b'<html><body><nav><a href="/world/a-long-story-of-war">A long story of war</a></nav>'
            b'<a href="/tag/ukraine">Ukraine</a><a href="https://else.example/x-y-z">Elsewhere'
            b" today</a></body></html>",
            url="https://s.example/",
        )
