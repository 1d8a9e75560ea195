"""What a site offers to watch, found from one of its pages.

discover:  the page itself is a feed, a sitemap or a Telegram channel? that is the answer
           -> the page's <link rel="alternate"> feeds
           -> the Sitemap: lines of the site's robots.txt
           -> common feed paths (/feed, /rss.xml, ...) that answer with a feed
           -> Telegram channels the page links to (t.me/NAME), as their preview t.me/s/NAME

Every request goes through the ``get`` handed in (monitor.fetch.client.fetch: the address
guard, size cap and deadline of polls). Only the page itself must answer; the other
requests may fail and are left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from monitor.errors import FeedsError, NewsmonError
from monitor.extract.markup import html_root
from monitor.fetch import charset
from monitor.model import Fetched
from monitor.sources import telegram

__all__ = ["COMMON_PATHS", "Discovery", "Found", "discover", "kind_of"]

Getter = Callable[[str, str], Fetched]  # (url, accept) -> the response

COMMON_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.xml",
    "/index.rss",
    "/feed.json",
)
_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
    "text/xml",
    "application/xml",
)
_ANY = "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, */*;q=0.5"
_FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, */*;q=0.5"
_ROOT = re.compile(rb"<(rss|feed|rdf:RDF|urlset|sitemapindex)[\s>]")
_MAX_CHANNELS = 5


@dataclass(frozen=True)
class Found:
    url: str
    kind: str  # feed, sitemap or telegram
    how: str  # where it was found
    title: str = ""


@dataclass
class Discovery:
    url: str  # the page, after redirects
    found: list[Found] = field(default_factory=list)
    tried: int = 0  # requests made, the page's included

    def add(self, item: Found) -> None:
        if all(f.url != item.url for f in self.found):
            self.found.append(item)


def discover(url: str, get: Getter, *, is_probing: bool = True) -> Discovery:
    """What ``url``'s site offers; ``is_probing``: try the common feed paths too."""
    name = telegram.channel_of(url)
    if name is not None:
        return Discovery(url, [Found(telegram.preview_url(name), "telegram", "the URL itself")])
    try:
        page = get(url, _ANY)
    except NewsmonError as exc:
        raise FeedsError(
            f"cannot discover what {url} offers: {exc}", "check the URL in a browser"
        ) from None
    found = Discovery(page.url, tried=1)
    kind = kind_of(page.body, page.content_type)
    if kind is not None:
        found.add(Found(page.url, kind, "the URL itself"))
        return found
    root = _html(page)
    if root is not None:
        for item in _alternates(root, page.url):
            found.add(item)
    for sitemap in _robots(page.url, get, found):
        found.add(sitemap)
    if is_probing:
        _probe(page.url, get, found)
    if root is not None:
        for item in _channels(root, page.url):
            found.add(item)
    return found


def kind_of(body: bytes, content_type: str) -> str | None:
    """feed, sitemap or None (an HTML page, or something else), from the first bytes."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    matched = _ROOT.search(head)
    if matched is not None:
        return "sitemap" if matched.group(1) in (b"urlset", b"sitemapindex") else "feed"
    if head.startswith(b"{") and b"jsonfeed.org/version" in head:
        return "feed"
    return None


def _html(page: Fetched) -> Any:
    """The page's root element; None when it is empty or not HTML."""
    text = charset.decode(page.body, page.content_type, is_html=True).text
    try:
        return html_root(text) if text.strip() else None
    except ValueError:
        return None


def _alternates(root: Any, base: str) -> list[Found]:
    found = []
    for link in root.xpath("//link[@href]"):
        rel = str(link.get("rel") or "").lower().split()
        kind = str(link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in _FEED_TYPES:
            url = _absolute(base, str(link.get("href")))
            if url:
                title = " ".join(str(link.get("title") or "").split())[:200]
                found.append(Found(url, "feed", 'link rel="alternate"', title))
    return found


def _robots(base: str, get: Getter, found: Discovery) -> list[Found]:
    origin = _origin(base)
    found.tried += 1
    try:
        got = get(f"{origin}/robots.txt", "text/plain, */*;q=0.5")
    except NewsmonError:
        return []
    text = charset.decode(got.body, got.content_type).text
    sitemaps = []
    for line in text.splitlines()[:2000]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap":
            url = _absolute(origin, value.strip())
            if url:
                sitemaps.append(Found(url, "sitemap", "robots.txt"))
    return sitemaps


def _probe(base: str, get: Getter, found: Discovery) -> None:
    origin = _origin(base)
    for path in COMMON_PATHS:
        found.tried += 1
        try:
            got = get(origin + path, _FEED_ACCEPT)
        except NewsmonError:
            continue
        if kind_of(got.body, got.content_type) == "feed":
            found.add(Found(got.url, "feed", f"common path {path}", _feed_title(got.body)))


def _channels(root: Any, base: str) -> list[Found]:
    names: list[str] = []
    for href in root.xpath("//a/@href"):
        name = telegram.channel_of(urljoin(base, str(href)))
        if name is not None and name.lower() not in (n.lower() for n in names):
            names.append(name)
    how = "linked from the page"
    return [Found(telegram.preview_url(n), "telegram", how) for n in names[:_MAX_CHANNELS]]


def _feed_title(body: bytes) -> str:
    """A feed's title, cheaply: the first <title> (or a JSON Feed's "title")."""
    if body.lstrip().startswith(b"{"):
        try:
            value = json.loads(body)
        except ValueError:
            return ""
        return str(value.get("title", ""))[:200] if isinstance(value, dict) else ""
    matched = re.search(rb"<title[^>]*>(.*?)</title>", body[:65536], re.S)
    if matched is None:
        return ""
    text = matched.group(1).decode("utf-8", "replace")
    text = re.sub(r"<!\[CDATA\[(.*?)\]\]>", r"\1", text, flags=re.S)
    return " ".join(text.split())[:200]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _absolute(base: str, href: str) -> str | None:
    url = urljoin(base, href.strip())
    return url if re.match(r"(?i)^https?://[^/\s]", url) and len(url) <= 2048 else None
