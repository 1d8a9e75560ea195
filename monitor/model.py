"""Frozen values passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_FIELDS",
    "Article",
    "DeliveryStatus",
    "Entry",
    "FeedState",
    "Fetched",
    "Match",
    "TextSource",
    "utcnow",
]


def utcnow() -> datetime:
    """The clock: now, in UTC (the store refuses naive times)."""
    return datetime.now(UTC)


# An alert's fields as exported (CSV columns, JSON keys), in this order ...
ALERT_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "watchlists",
    "terms",
    "title",
    "url",
    "source",
    "feed",
    "published_at",
    "story_id",
    "snippet",
)
# ... and as `newsmon alerts list` shows them: the same first, then the details.
ALERT_FIELDS = (
    *ALERT_COLUMNS,
    "snippet_marks",
    "text_source",
    "deliveries",
    "diff",
    "story_first_seen_at",
    "sources",
    "also_reported_by",
    "also_languages",
    "members",
)


class TextSource(StrEnum):
    """Where an article's text came from."""

    PAGE = "page"  # the linked page, through main-text extraction
    SUMMARY = "summary"  # the feed entry's summary or content
    TITLE = "title"  # nothing but the title was available


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not tried yet
    SENDING = "sending"  # claimed by a sender; retried when its claim expires
    SENT = "sent"  # every target of the channel accepted it
    FAILED = "failed"  # a try failed; it will be retried
    DEAD = "dead"  # gave up after the retry limit


@dataclass(frozen=True)
class FeedState:
    """A feed row as the pipeline needs it."""

    id: int
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    is_backlog_absorbed: bool
    error_count: int
    body_hash: str | None = None  # of the last body parsed: the same bytes are not parsed again
    # of each item of the last body parsed (monitor.sources.known): unchanged ones are left out
    item_digests: bytes | None = None
    # the schedule's inputs (monitor.schedule.next_interval), as they were when claimed
    interval: float = 0.0
    change_gap: float | None = None
    last_change_at: datetime | None = None
    ttl: float | None = None
    kind: str | None = None  # configured (monitor.sources.read.KINDS); None: detected each poll


@dataclass(frozen=True)
class Fetched:
    """The outcome of a GET. ``body`` is empty when ``is_modified`` is false."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    is_modified: bool = True
    cache_control: str | None = None


@dataclass(frozen=True)
class Entry:
    """One feed entry, with its identity inside the feed."""

    key: str  # guid, else link, else content hash
    link: str | None
    title: str
    summary: str
    published: datetime | None
    language: str | None = None  # as the source declares it (a news sitemap's news:language)


@dataclass(frozen=True)
class Article:
    """The text that watchlists are matched against."""

    url: str | None
    title: str
    text: str
    text_source: TextSource
    # a page's: told from its text where it was read (monitor.extract.language), else
    # as declared; a summary's: as declared, if at all
    language: str | None = None
    sitename: str | None = None
    published: datetime | None = None
    canonical_url: str | None = None
    error: str | None = None  # why the page was not used, when it was not


@dataclass(frozen=True)
class Match:
    """One hit of one watchlist term, with where it was found."""

    watchlist: str
    term: str
    field: str  # "title" or "text"
    start: int
    end: int
    snippet: str
    found: str = ""  # the text as it stood in the article
    how: str = ""  # which form hit: "as written", "with inflections", "transliterated from X"
