"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not
read: a small pydantic model of the fields newsmon uses, everything else ignored.

An item keeps the identity rule of the other feeds: its ``id``, else its link, else a
hash of its content. An item that does not fit the model (a number where a title
should be) is dropped and counted, not the whole feed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from monitor.errors import ParseError
from monitor.fetch import charset
from monitor.model import Entry
from monitor.sources import dates
from monitor.sources.entries import (
    MAX_TITLE,
    bounded_key,
    clean_text,
    http_link,
    newest,
    shown_url,
)
from monitor.sources.feeds import ParsedFeed

__all__ = ["parse_json_feed"]

_VERSION = "https://jsonfeed.org/version/1"


def _as_text(value: object) -> object:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


_Text = Annotated[str | None, BeforeValidator(_as_text)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: _Text = None
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    date_published: str | None = None
    date_modified: str | None = None


class _Feed(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: str
    title: str = ""
    items: list[dict[str, Any]] = []


def parse_json_feed(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    max_entries: int | None = None,
    known: bytes | None = None,
) -> ParsedFeed:
    """The JSON Feed's title and entries, in document order (``known`` is not used: a
    JSON document is read whole, and reading it is cheap)."""
    shown = shown_url(url)
    decoded = charset.decode(body, content_type or "application/json")
    try:
        feed = _Feed.model_validate(json.loads(decoded.text))
    except (ValueError, ValidationError) as exc:
        reason = clean_text(str(exc).splitlines()[0])[:200]
        raise ParseError(f"{shown} is not a JSON Feed: {reason}") from None
    if not feed.version.startswith(_VERSION):
        raise ParseError(
            f"{shown} is not a JSON Feed newsmon can read: version {feed.version[:60]!r}",
            "newsmon reads JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)",
        )
    entries: list[Entry] = []
    for raw in feed.items:
        try:
            entry = _entry(_Item.model_validate(raw))
        except ValidationError:
            entry = None
        if entry is not None:
            entries.append(entry)
    dropped = len(feed.items) - len(entries)
    if max_entries is not None and len(entries) > max_entries:
        entries = newest(entries, max_entries)
    title = clean_text(feed.title).strip()[:MAX_TITLE]
    return ParsedFeed(
        title,
        entries,
        items=len(feed.items),
        dropped=dropped,
        encoding=decoded.encoding,
        encoding_reason=decoded.reason,
    )


def _entry(item: _Item) -> Entry | None:
    link = http_link(item.url) or http_link(item.external_url)
    title = clean_text(item.title or "").strip()[:MAX_TITLE]
    texts = [item.content_html or "", item.content_text or "", item.summary or ""]
    summary = clean_text(max(texts, key=len))
    if not (title or link or summary.strip()):
        return None
    guid = clean_text(item.id or "").strip()
    if guid:
        key = bounded_key("guid:" + guid)
    elif link:
        key = bounded_key("link:" + link)
    else:
        key = "hash:" + hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()
    return Entry(key, link, title, summary, _date(item.date_published or item.date_modified))


def _date(value: str | None) -> datetime | None:
    """RFC 3339, as JSON Feed asks; RFC 822 and its translations as a fallback."""
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return dates.parse_date(value)
    return found if found.tzinfo else found.replace(tzinfo=UTC)
