"""feedparser behind one module: bytes we fetched -> entries with stable identities."""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.model import Entry

__all__ = ["parse_feed"]

_MAX_KEY = 500


def parse_feed(body: bytes, *, url: str, content_type: str = "") -> tuple[str, list[Entry]]:
    """Return the feed's title and its entries, in document order."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed: Any = feedparser.parse(body, response_headers=headers, sanitize_html=True)
    if not parsed.entries and not parsed.feed.get("title"):
        if parsed.get("bozo"):
            reason = str(parsed.get("bozo_exception", "unknown problem"))[:200]
            raise ParseError(f"{url} is not an RSS or Atom feed: {reason}")
        if not parsed.get("version"):
            raise ParseError(f"{url} is not an RSS or Atom feed (no channel or feed element)")
    title = str(parsed.feed.get("title", "")).strip()
    return title, [_entry(raw) for raw in parsed.entries]


def _entry(raw: Any) -> Entry:
    link = str(raw.get("link") or "").strip() or None
    title = str(raw.get("title") or "").strip()
    summary = _summary(raw)
    return Entry(
        key=_identity(raw, link, title, summary),
        link=link,
        title=title,
        summary=summary,
        published=_date(raw),
    )


def _identity(raw: Any, link: str | None, title: str, summary: str) -> str:
    """guid, else link, else a hash of the content."""
    guid = str(raw.get("id") or "").strip()
    if guid:
        return _bounded("guid:" + guid)
    if link:
        return _bounded("link:" + link)
    digest = hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()
    return "hash:" + digest


def _bounded(key: str) -> str:
    if len(key) <= _MAX_KEY:
        return key
    return key[:8] + "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _summary(raw: Any) -> str:
    """The longest of content and summary, still HTML; extract turns it into text."""
    candidates = [str(c.get("value", "")) for c in raw.get("content", []) or []]
    candidates.append(str(raw.get("summary") or ""))
    return max(candidates, key=len)


def _date(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = raw.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None
