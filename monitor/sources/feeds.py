"""feedparser behind one module: bytes we fetched -> entries with stable identities.

Before feedparser sees them, the bytes are converted to UTF-8 (monitor.fetch.charset decides
from the BOM, the declared charsets and the bytes themselves which encoding they are
in), stripped of characters XML forbids, and checked for entity declarations
(monitor.sources.xmlsafety). What comes out
is cleaned again: no control characters or lone surrogates (PostgreSQL refuses them),
only http(s) links, bounded titles, and at most ``max_entries`` entries, the newest.

Given the digests of the items the last poll handled (``known``), the items of the
document that are byte for byte the same are left out before feedparser reads it
(monitor.sources.known): only the new and edited entries come out, at a fraction of the cost.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.errors import ParseError
from monitor.fetch import charset
from monitor.model import Entry
from monitor.sources import dates
from monitor.sources import known as known_items
from monitor.sources.entries import (
    MAX_TITLE,
    bounded_key,
    clean_text,
    http_link,
    newest,
    shown_url,
)
from monitor.sources.xmlsafety import entity_problem, strip_control_chars

__all__ = ["ParsedFeed", "as_utf8", "parse_document", "parse_feed"]

log = logging.getLogger("newsmon.parse")

_MAX_TITLE = MAX_TITLE
_CHARSET = re.compile(r";\s*charset\s*=\s*[^;]*", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml\s[^>]*>")
_AS_UTF8 = "<?xml version='1.0' encoding='utf-8'?>"


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: list[Entry]  # in document order; with ``known``, of the items not known
    ttl: str | None = None  # RSS <ttl> as written: minutes the feed may be cached
    # of every item of the document, to pass as the next poll's ``known`` (None: the
    # document could not be split, or holds more than ``max_entries``)
    digests: bytes | None = None
    items: int = 0  # entries in the whole document
    dropped: int = 0  # entries read but dropped: no title, no link and no text
    encoding: str = ""  # the encoding the body was read in (monitor.fetch.charset) ...
    encoding_reason: str = ""  # ... and why: "detected; no charset declared"
    kind: str = "feed"  # the reader that read it (monitor.sources.read.READERS)
    # a sitemap index: the child sitemaps to read too, newest first (the caller fetches them)
    children: tuple[str, ...] = ()


def parse_feed(
    body: bytes, *, url: str, content_type: str = "", max_entries: int | None = None
) -> tuple[str, list[Entry]]:
    """Return the feed's title and its entries, in document order."""
    parsed = parse_document(body, url=url, content_type=content_type, max_entries=max_entries)
    return parsed.title, parsed.entries


def parse_document(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    max_entries: int | None = None,
    known: bytes | None = None,
) -> ParsedFeed:
    """The feed's title, its entries and its own caching hint. ``known``: the digests
    (``ParsedFeed.digests``) of the last body, whose items are left out when unchanged."""
    shown = shown_url(url)
    data, content_type, decoded = as_utf8(body, content_type)
    problem = entity_problem(data)
    if problem is not None:
        raise ParseError(
            f"{shown} {problem}; newsmon refuses such feeds",
            "entity declarations are a known attack on XML parsers; ask the publisher",
        )
    # lxml and feedparser read the same text: UTF-8 that says so
    split = known_items.split(data, known)
    if split is not None and max_entries is not None and split.items > max_entries:
        split = None  # the newest are kept of all of them: no digests, nothing left out
    parsed = _feedparser(split.document if split else data, shown, url, content_type)
    if split is not None and len(parsed.entries) != split.kept:
        # feedparser's entries are not the items found: no digests for this document
        if split.kept != split.items:  # and some were left out: read it all
            log.warning("cannot leave known items out url=%s", shown)
            parsed = _feedparser(data, shown, url, content_type)
        split = None
    is_all_known = split is not None and split.items > 0 and split.kept == 0
    if not parsed.entries and not parsed.feed.get("title") and not is_all_known:
        if parsed.get("bozo"):
            reason = clean_text(str(parsed.get("bozo_exception", "unknown problem")))[:200]
            raise ParseError(f"{shown} is not an RSS or Atom feed: {reason}")
        if not parsed.get("version"):
            raise ParseError(f"{shown} is not an RSS or Atom feed (no channel or feed element)")
    title = clean_text(str(parsed.feed.get("title", ""))).strip()[:_MAX_TITLE]
    entries = [e for e in (_entry(raw) for raw in parsed.entries) if e is not None]
    dropped = len(parsed.entries) - len(entries)
    if max_entries is not None and len(entries) > max_entries:
        log.warning(
            "feed too long, keeping the newest url=%s entries=%d kept=%d",
            shown,
            len(entries),
            max_entries,
        )
        entries = newest(entries, max_entries)
    ttl = clean_text(str(parsed.feed.get("ttl") or "")).strip()[:16] or None
    digests, items = (split.digests, split.items) if split else (None, len(parsed.entries))
    return ParsedFeed(
        title, entries, ttl, digests, items, dropped, decoded.encoding, decoded.reason
    )


def _headers(url: str, content_type: str) -> dict[str, str]:
    """The response headers feedparser reads: where the document is from, its type."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    return headers


def load_parser() -> Any:
    """feedparser, imported on first use: a poll whose feeds all answer 304 never
    parses, and need not pay for the import (worker processes call this at start)."""
    import feedparser

    return feedparser


def _feedparser(data: bytes, shown: str, url: str, content_type: str) -> Any:
    feedparser = load_parser()
    headers = _headers(url, content_type)
    try:
        # entry links resolve against the feed's URL either way; links inside summaries
        # would be rewritten too (a quarter of the parse), but only their text is used
        return feedparser.parse(
            data, response_headers=headers, sanitize_html=True, resolve_relative_uris=False
        )
    except (ValueError, LookupError, TypeError, IndexError, AssertionError, RecursionError) as exc:
        # feedparser's loose parser has bugs on hostile input (e.g. "&#xD800;")
        raise ParseError(f"{shown} is not a feed newsmon can read: {type(exc).__name__}") from None


def as_utf8(body: bytes, content_type: str) -> tuple[bytes, str, charset.Decoded]:
    """The body as UTF-8 that says so, without characters XML forbids; a content type
    that says so too; and the encoding it was read in, and why."""
    decoded = charset.decode(body, content_type)
    text, count = _XML_DECLARATION.subn(_AS_UTF8, decoded.text, count=1)
    if not count:
        text = f"{_AS_UTF8}\n{text}"
    if content_type:
        content_type = _CHARSET.sub("", content_type) + "; charset=utf-8"
    return strip_control_chars(text.encode("utf-8", "replace")), content_type, decoded


def _entry(raw: Any) -> Entry | None:
    link = http_link(raw.get("link"))
    title = clean_text(str(raw.get("title") or "")).strip()[:_MAX_TITLE]
    summary = _summary(raw)
    if not (title or link or summary.strip()):
        return None  # nothing to read, match or show
    return Entry(
        key=_identity(raw, link, title, summary),
        link=link,
        title=title,
        summary=summary,
        published=_date(raw),
    )


def _identity(raw: Any, link: str | None, title: str, summary: str) -> str:
    """guid, else link, else a hash of the content."""
    guid = clean_text(str(raw.get("id") or "")).strip()
    if guid:
        return bounded_key("guid:" + guid)
    if link:
        return bounded_key("link:" + link)
    digest = hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()
    return "hash:" + digest


def _summary(raw: Any) -> str:
    """The longest of content and summary, still HTML; extract turns it into text."""
    candidates = [str(c.get("value", "")) for c in raw.get("content", []) or []]
    candidates.append(str(raw.get("summary") or ""))
    return clean_text(max(candidates, key=len))


def _date(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = raw.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    for key in ("published", "updated"):  # a date feedparser could not read, as written
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            found = dates.parse_date(value)
            if found is not None:
                return found
    return None
