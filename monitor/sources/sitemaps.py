"""Sitemaps (https://www.sitemaps.org/protocol.html) as a source: a ``urlset``, a Google
News sitemap (``news:title``, ``news:publication_date``, ``news:language``), or a
``sitemapindex``, whose few newest children the caller reads in turn.

Each URL becomes an entry, keyed by its link like a feed item without a guid, dated by
its news publication date, else its ``lastmod``. Only the ``max_entries`` newest are
kept: a sitemap of a whole archive yields its recent end. Each URL is known by a digest
(``ParsedFeed.digests``): with ``known``, the URLs the last poll read are left out.

The XML passes the same checks as a feed's (monitor.sources.xmlsafety) and lxml reads
it without entities, DTDs or the network. A gzipped sitemap is unpacked up to
``MAX_UNPACKED`` bytes, the protocol's own limit.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime
from typing import Any

from monitor.errors import ParseError
from monitor.extract.markup import xml_root
from monitor.model import Entry
from monitor.sources import dates
from monitor.sources.entries import (
    MAX_TITLE,
    bounded_key,
    clean_text,
    http_link,
    shown_url,
)
from monitor.sources.feeds import ParsedFeed, as_utf8
from monitor.sources.known import DIGEST
from monitor.sources.xmlsafety import entity_problem

__all__ = [
    "FOLLOW",
    "MAX_UNPACKED",
    "MAX_URLS",
    "is_sitemap",
    "known_digests",
    "parse_sitemap",
    "url_digest",
]

FOLLOW = 3  # children of a sitemap index read per poll: the newest by lastmod
MAX_UNPACKED = 50 * 1024 * 1024  # the protocol's limit for one sitemap, unpacked
MAX_URLS = 50_000  # the protocol's limit of URLs in one sitemap
_GZIP = b"\x1f\x8b"
_ROOTS = (b"<urlset", b"<sitemapindex")
Element = Any  # an lxml element (monitor.extract.markup.xml_root)
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


def is_sitemap(body: bytes) -> bool:
    """Whether ``body`` looks like a sitemap: gzip, or an XML ``urlset``/``sitemapindex``."""
    if body.startswith(_GZIP):
        return True
    head = body[:2048]
    return any(root in head for root in _ROOTS) or b"/schemas/sitemap/" in head


def url_digest(link: str) -> bytes:
    """What a sitemap URL or a page link is known by in ``ParsedFeed.digests``."""
    return hashlib.blake2b(link.encode("utf-8", "replace"), digest_size=DIGEST).digest()


def parse_sitemap(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    max_entries: int | None = None,
    known: bytes | None = None,
) -> ParsedFeed:
    """The sitemap's entries (or, for an index, the children to read: ``children``)."""
    shown = shown_url(url)
    root = _root(_unpacked(body, shown), shown, content_type)
    name = _local(root.tag) if isinstance(root.tag, str) else ""
    if name == "sitemapindex":
        return ParsedFeed("", [], kind="sitemap", children=_children(root))
    if name != "urlset":
        raise ParseError(
            f"{shown} is not a sitemap (its root element is <{name[:40]}>)",
            "a sitemap's root is <urlset> or <sitemapindex>; check the URL, or its `kind`",
        )
    seen = known_digests(known) if known else set()
    sm, news = _namespaces(root)
    paths = _Paths(sm, news)
    fresh: list[tuple[datetime | None, Element, str]] = []
    digests, count = [], 0
    for node in root.iterfind(f"{sm}url"):
        count += 1
        if count > MAX_URLS:
            break
        link = http_link(node.findtext(paths.loc) or "")
        if link is None:
            continue
        digest = url_digest(link)
        digests.append(digest)
        if digest not in seen:
            fresh.append((_published(node, paths), node, link))
    if max_entries is not None and len(fresh) > max_entries:
        fresh = _newest(fresh, max_entries)  # the rest are never read further
    entries = [_entry(node, paths, link, published) for published, node, link in fresh]
    title = _clean(root.findtext(f"{sm}url/{paths.name}"))
    dropped = min(count, MAX_URLS) - len(digests)
    return ParsedFeed(
        clean_text(title).strip()[:MAX_TITLE],
        entries,
        digests=b"".join(digests),
        items=len(digests),
        dropped=dropped,
        kind="sitemap",
    )


def _unpacked(body: bytes, shown: str) -> bytes:
    if not body.startswith(_GZIP):
        return body
    unpack = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = unpack.decompress(body, MAX_UNPACKED + 1)
    except zlib.error as exc:
        raise ParseError(f"{shown} is a broken gzip file: {exc}") from None
    if len(data) > MAX_UNPACKED or unpack.unconsumed_tail:
        raise ParseError(
            f"{shown} unpacks to more than {MAX_UNPACKED} bytes, the sitemap protocol's limit",
            "point the source at a smaller sitemap, e.g. the site's news sitemap",
        )
    return data


def _root(data: bytes, shown: str, content_type: str) -> Element:
    utf8, _, _ = as_utf8(data, content_type)
    problem = entity_problem(utf8)
    if problem is not None:
        raise ParseError(
            f"{shown} {problem}; newsmon refuses such sitemaps",
            "entity declarations are a known attack on XML parsers; ask the publisher",
        )
    try:
        root = xml_root(utf8)
    except ValueError as exc:
        raise ParseError(f"{shown} is not a sitemap newsmon can read: {exc}") from None
    if root is None:
        raise ParseError(f"{shown} is not a sitemap newsmon can read (no XML element)")
    return root


def _children(root: Element) -> tuple[str, ...]:
    """The index's FOLLOW newest children by lastmod (undated ones after, in order)."""
    found: list[tuple[datetime | None, int, str]] = []
    for i, node in enumerate(root):
        if not isinstance(node.tag, str) or _local(node.tag) != "sitemap":
            continue
        fields = _fields(node)
        link = http_link(_text(fields.get("loc")) or clean_text(node.text or "").strip())
        if link is not None:
            found.append((_date(_text(fields.get("lastmod"))), i, link))
        if len(found) >= MAX_URLS:
            break
    floor = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda f: (f[0] is not None, f[0] or floor, -f[1]), reverse=True)
    return tuple(link for _, _, link in found[:FOLLOW])


class _Paths:
    """The ElementPath of each field read, in the document's own namespaces."""

    def __init__(self, sm: str, news: str) -> None:
        self.loc, self.lastmod = f"{sm}loc", f"{sm}lastmod"
        self.title = f"{news}news/{news}title"
        self.published = f"{news}news/{news}publication_date"
        self.name = f"{news}news/{news}publication/{news}name"
        self.language = f"{news}news/{news}publication/{news}language"


def _namespaces(root: Element) -> tuple[str, str]:
    """``{uri}`` of the sitemap's elements (as its root's; empty for none) and of the
    Google News extension (as declared, whatever its version)."""
    tag = root.tag if isinstance(root.tag, str) else ""
    sm = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    uri = next((u for u in root.nsmap.values() if u and "sitemap-news" in u), _NEWS)
    return sm, f"{{{uri}}}"


def _published(node: Element, paths: _Paths) -> datetime | None:
    """The news publication date, else the lastmod."""
    published = _date(_clean(node.findtext(paths.published)))
    return published or _date(_clean(node.findtext(paths.lastmod)))


def _newest(
    fresh: list[tuple[datetime | None, Element, str]], count: int
) -> list[tuple[datetime | None, Element, str]]:
    """The ``count`` newest (undated ones last, in document order), in document order."""
    floor = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(
        range(len(fresh)),
        key=lambda i: (fresh[i][0] is not None, fresh[i][0] or floor),
        reverse=True,
    )
    return [fresh[i] for i in sorted(ranked[:count])]


def _entry(node: Element, paths: _Paths, link: str, published: datetime | None) -> Entry:
    title = _clean(node.findtext(paths.title))[:MAX_TITLE]
    language = _clean(node.findtext(paths.language))[:16] or None
    return Entry(bounded_key("link:" + link), link, title, "", published, language=language)


def _clean(text: str | None) -> str:
    return clean_text(text).strip() if text else ""


def _local(tag: str) -> str:
    """``{namespace}name`` -> ``name``: sitemaps come with and without their namespaces."""
    return tag.rpartition("}")[2]


def _fields(node: Element | None) -> dict[str, Element]:
    """The element's children by local name (the first of each)."""
    if node is None:
        return {}
    found: dict[str, Element] = {}
    for child in node:
        if isinstance(child.tag, str):
            found.setdefault(_local(child.tag), child)
    return found


def _text(node: Element | None) -> str:
    return clean_text(node.text or "").strip() if node is not None and node.text else ""


def _date(value: str) -> datetime | None:
    """W3C datetime (``2024-05-01``, ``2024-05-01T10:00:00+02:00``), RFC 822 as a fallback."""
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return dates.parse_date(value)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def known_digests(known: bytes) -> set[bytes]:
    """The digests in ``known`` (``ParsedFeed.digests`` of the last poll), as a set."""
    return {known[i : i + DIGEST] for i in range(0, len(known) - DIGEST + 1, DIGEST)}
