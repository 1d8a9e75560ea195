"""One reader per kind of source, each turning a fetched document into the same
entries (monitor.sources.feeds.ParsedFeed); and which kind a response is.

    feed      RSS, Atom, RDF (feedparser) and JSON Feed 1.0/1.1
    sitemap   a urlset, a Google News sitemap, or a sitemap index (children followed)
    page      an HTML section or front page: its links to articles
    telegram  a public channel's web preview, https://t.me/s/CHANNEL

A source's kind is its configured ``kind`` when it has one; otherwise it is detected
from each response (``detect_kind``): the URL (t.me/s/), the content type, the markup of
a Telegram preview served from elsewhere, and the first
bytes of the body, since servers often send sitemaps as text/html and feeds as
text/plain. Every reader takes the same arguments and gives a ParsedFeed, so the
pipeline treats every kind alike.
"""

from __future__ import annotations

import re
from typing import Protocol

from monitor.errors import ParseError
from monitor.sources.entries import shown_url
from monitor.sources.feeds import ParsedFeed, parse_document
from monitor.sources.kinds import KINDS, Kind
from monitor.sources.pages import parse_page
from monitor.sources.sitemaps import is_sitemap, parse_sitemap
from monitor.sources.telegram import is_preview, parse_preview
from monitor.tme import is_preview_url

__all__ = ["KINDS", "READERS", "Kind", "Reader", "detect_kind", "read_document"]


class Reader(Protocol):
    def __call__(
        self,
        body: bytes,
        *,
        url: str,
        content_type: str = "",
        max_entries: int | None = None,
        known: bytes | None = None,
    ) -> ParsedFeed: ...


def _read_feed(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    max_entries: int | None = None,
    known: bytes | None = None,
) -> ParsedFeed:
    """RSS, Atom and RDF through feedparser; JSON Feed through its own model (pydantic,
    imported when a JSON Feed first comes)."""
    reader: Reader = parse_document
    if _is_json(body, content_type):
        from monitor.sources.jsonfeed import parse_json_feed

        reader = parse_json_feed
    return reader(body, url=url, content_type=content_type, max_entries=max_entries, known=known)


READERS: dict[str, Reader] = {
    "feed": _read_feed,
    "sitemap": parse_sitemap,
    "page": parse_page,
    "telegram": parse_preview,
}

_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_JSON_TYPES = ("application/feed+json", "application/json", "text/json")


def detect_kind(body: bytes, content_type: str, url: str) -> str:
    """Which reader fits this response: the URL, then the body's first bytes, then
    the content type (servers label sitemaps text/html and feeds text/plain)."""
    if is_preview_url(url):
        return "telegram"
    if _is_json(body, content_type):
        return "feed"
    if is_sitemap(body):
        return "sitemap"
    head = body[:1024].lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(head):
        return "telegram" if is_preview(body) else "page"
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in ("text/html", "application/xhtml+xml") and b"<rss" not in body[:2048]:
        return "page" if b"<feed" not in body[:2048] else "feed"
    return "feed"


def read_document(
    kind: str | None,
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    max_entries: int | None = None,
    known: bytes | None = None,
) -> ParsedFeed:
    """Read ``body`` with the reader of ``kind`` (None: detected). The result's ``kind``
    says which reader read it."""
    read_as = kind or detect_kind(body, content_type, url)
    reader = READERS[read_as]
    try:
        return reader(
            body, url=url, content_type=content_type, max_entries=max_entries, known=known
        )
    except ParseError as exc:
        if kind is not None or read_as != "page":
            raise
        # a feed's URL that serves an HTML page: most often a wrong URL, not a section page
        raise ParseError(
            f"{shown_url(url)} is not an RSS or Atom feed but an HTML page, and {exc.message}",
            'give the feed\'s own URL (the page may link it), or set kind = "page" to '
            "watch a section page's article links",
        ) from None


def _is_json(body: bytes, content_type: str) -> bool:
    """A JSON content type, or a body that starts like a JSON Feed (an object naming
    jsonfeed.org's version)."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in _JSON_TYPES:
        return True
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed.org/version/1" in body[:4096]
