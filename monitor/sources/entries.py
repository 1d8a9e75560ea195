"""What every reader does to what it read before it becomes an Entry: no control
characters or lone surrogates (PostgreSQL refuses them), only http(s) links, bounded
keys and titles, and the newest entries when there are too many."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from monitor.model import Entry

__all__ = ["MAX_LINK", "MAX_TITLE", "bounded_key", "clean_text", "http_link", "newest", "shown_url"]

MAX_KEY = 500
MAX_TITLE = 1000
MAX_LINK = 2048
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_HTTP = re.compile(r"(?i)^https?://[^/\s]")


def clean_text(text: str) -> str:
    """``text`` without control characters, lone surrogates and non-characters."""
    return _UNSAFE_TEXT.sub("", text)


def http_link(value: object) -> str | None:
    """Only http and https links are kept: no javascript:, file: or data: in alerts."""
    link = clean_text(str(value or "")).strip()
    if len(link) > MAX_LINK or not _HTTP.match(link):
        return None
    return link


def bounded_key(key: str) -> str:
    """``key`` as it is when short enough, else its prefix and a digest of it all."""
    if len(key) <= MAX_KEY:
        return key
    return key[:8] + "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def newest(entries: list[Entry], count: int) -> list[Entry]:
    """The ``count`` newest entries (undated ones last, in document order), kept in
    document order."""
    floor = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (entries[i].published is not None, entries[i].published or floor),
        reverse=True,
    )
    return [entries[i] for i in sorted(ranked[:count])]


def shown_url(url: str) -> str:
    """The URL for messages: without credentials, query or fragment, which may hold tokens."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "<invalid url>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
