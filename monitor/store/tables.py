"""SQLAlchemy tables. Only the store package sees these; it hands out dataclasses.

The same tables as Core ``Table`` objects, for reads without the ORM, are in
monitor/store/schema.py (tests/test_schema.py checks that the two agree)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from monitor.store.schema import NAMING, ONE_SUBJECT, UtcDateTime

__all__ = [
    "Alert",
    "AlertCount",
    "Article",
    "Base",
    "Delivery",
    "Entry",
    "EventProfile",
    "EventTerm",
    "Feed",
    "FeedHealth",
    "FeedNotice",
    "MatchRow",
    "Spike",
    "Story",
    "StoryClaim",
    "StoryKey",
    "TermCount",
    "UtcDateTime",
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Feed(Base):
    __tablename__ = "feeds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_check_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_status: Mapped[str] = mapped_column(String(16), default="new")
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    is_backlog_absorbed: Mapped[bool] = mapped_column(Boolean, default=False)
    # "config": a [[feed]] of the config file; "cli": added by `newsmon feeds add/import`
    origin: Mapped[str] = mapped_column(String(16), default="config", server_default="config")
    # the feed's rhythm: its usual gap between changes (EWMA, seconds) and its last change
    change_gap: Mapped[float | None] = mapped_column(Float)
    last_change_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    body_hash: Mapped[str | None] = mapped_column(String(64))  # of the last body parsed
    # a digest of each of its items (monitor.sources.known), written with body_hash
    item_digests: Mapped[bytes | None] = mapped_column(LargeBinary)
    ttl: Mapped[float | None] = mapped_column(Float)  # the feed's own <ttl>, in seconds
    # the encoding its last body parsed was read in, and why (monitor.fetch.charset)
    encoding: Mapped[str | None] = mapped_column(String(32))
    encoding_reason: Mapped[str | None] = mapped_column(String(200))
    # its kind (monitor.sources.read.KINDS): as configured (None: detected), and as last read
    kind: Mapped[str | None] = mapped_column(String(16))
    detected_kind: Mapped[str | None] = mapped_column(String(16))
    # the instance polling it right now, until when (renewed while it works; see leases.py)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class FeedHealth(Base):
    """A feed's health as last judged: ok, or the incident that was announced."""

    __tablename__ = "feed_health"
    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    state: Mapped[str] = mapped_column(String(16))  # ok, failing or silent
    since: Mapped[datetime | None] = mapped_column(UtcDateTime())  # when the incident began
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime())  # first failed poll
    rhythm: Mapped[float | None] = mapped_column(Float)  # usual seconds between new entries
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime())  # when last written
    # what the rhythm was learned from (monitor.store.health.basis): while it holds, the
    # rhythm is this one, and the feed's entries are not read again to learn it
    rhythm_basis: Mapped[str | None] = mapped_column(String(64))


class FeedNotice(Base):
    """A feed-health notice (failing, silent, recovered), sent through the outbox."""

    __tablename__ = "feed_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("feeds.id", ondelete="SET NULL"), index=True
    )
    feed: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class Story(Base):
    """Articles that tell the same story: syndicated copies, re-posts, edits.

    Stories that report one news event share an ``event_id``: the id of the event's
    first story (its own id for that one; no foreign key, so SQLite adds the column in
    place). ``reported_at`` is the latest publication time of the event's reports, kept
    on the event's first story."""

    __tablename__ = "stories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)  # the first member's headline
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    event_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Article(Base):
    __tablename__ = "articles"
    # retention finds the articles whose text is due for pruning without reading the rest
    __table_args__ = (Index("ix_articles_pruned_at_created_at", "pruned_at", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url_key: Mapped[str] = mapped_column(String(2048), unique=True)
    # the page's own rel=canonical / og:url, normalised, when it names another URL
    canonical_key: Mapped[str | None] = mapped_column(String(2048), index=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_source: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    sitename: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    fetch_error: Mapped[str | None] = mapped_column(Text)
    # when retention removed the text (the row stays: it stops the URL alerting again)
    pruned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StoryKey(Base):
    """Near-duplicate index: a few integer keys per article (see monitor/stories/minhash.py)."""

    __tablename__ = "story_keys"
    __table_args__ = {"sqlite_with_rowid": False}  # one B-tree: the primary key is the index
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class EventProfile(Base):
    """An article's weighted terms (monitor/stories/events.py), publication time and
    event (an article's event never changes: kept here, lookups need no join)."""

    __tablename__ = "event_profiles"
    __table_args__ = (Index("ix_event_profiles_event_id_at", "event_id", "at"),)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    event_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    profile: Mapped[bytes] = mapped_column(LargeBinary)


class EventTerm(Base):
    """Event index: an article's heaviest terms, with its publication time and event."""

    __tablename__ = "event_terms"
    __table_args__ = (
        Index("ix_event_terms_term_at", "term", "at"),
        Index("ix_event_terms_article_id", "article_id"),  # retention finds its rows
        {"sqlite_with_rowid": False},
    )
    term: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    event_id: Mapped[int] = mapped_column(Integer)


class TermCount(Base):
    """How many articles had each term (key 0: how many articles were counted)."""

    __tablename__ = "term_counts"
    term: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    documents: Mapped[int] = mapped_column(Integer)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("feed_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(600))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    is_backlog: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str | None] = mapped_column(String(64))  # of title and summary, for edits


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    diff: Mapped[str | None] = mapped_column(Text)  # what a correction changed
    watchlists: Mapped[str | None] = mapped_column(Text)  # comma-separated, the ones alerted


class StoryClaim(Base):
    """A story has alerted this watchlist: the primary key makes that happen once."""

    __tablename__ = "story_claims"
    # alerts per watchlist in a time range: spike detection (monitor/pipeline/spikes.py)
    __table_args__ = (Index("ix_story_claims_created_at_watchlist", "created_at", "watchlist"),)
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id"), primary_key=True, autoincrement=False
    )
    watchlist: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # the largest number of sources a growth alert has announced for this event
    grown_to: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MatchRow(Base):
    __tablename__ = "matches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    watchlist: Mapped[str] = mapped_column(String(64), index=True)
    term: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(16))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    snippet: Mapped[str] = mapped_column(Text)
    found: Mapped[str] = mapped_column(Text)


class AlertCount(Base):
    """New alerts per UTC hour, per watchlist, feed or term: what ``newsmon stats`` reads,
    kept in the transaction that raises each alert (monitor/store/counts.py)."""

    __tablename__ = "alert_counts"
    __table_args__ = {"sqlite_with_rowid": False}  # one B-tree: the primary key holds it all
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    name: Mapped[str] = mapped_column(String(600), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class Spike(Base):
    """A watchlist busier than usual. ``number`` counts a watchlist's spikes: instances
    that detect the same spike insert the same (watchlist, number), and only one wins."""

    __tablename__ = "spikes"
    __table_args__ = (UniqueConstraint("watchlist", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watchlist: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # None while it lasts
    count: Mapped[int] = mapped_column(Integer)  # alerts in the window when detected
    peak: Mapped[int] = mapped_column(Integer)  # the most alerts in a window while it lasted
    expected: Mapped[float] = mapped_column(Float)  # usual alerts per window (the baseline)
    window: Mapped[float] = mapped_column(Float)  # seconds
    baseline: Mapped[float] = mapped_column(Float)  # seconds
    factor: Mapped[float] = mapped_column(Float)


class Delivery(Base):
    """One message to one channel: about an alert, or about a spike."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        UniqueConstraint("notice_id", "channel"),
        UniqueConstraint("spike_id", "channel"),
        CheckConstraint(ONE_SUBJECT, name="one_subject"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_channel_sent_at", "channel", "sent_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # an alert's delivery, a feed-health notice's or a spike's (exactly one is set)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("feed_notices.id", ondelete="CASCADE"))
    spike_id: Mapped[int | None] = mapped_column(ForeignKey("spikes.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # a send in progress: who holds it since when; a crashed holder's claim expires
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(128))  # the instance sending it
    # per target (keyed by a hash of its URL): masked target, ok, error, time
    targets: Mapped[dict[str, dict[str, object]] | None] = mapped_column(JSON)
