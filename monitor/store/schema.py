"""The tables as SQLAlchemy Core ``Table`` objects, for reads that need no ORM.

Importing the ORM and the declarative mapping (monitor/store/tables.py) takes a few
tenths of a second; a command that only reads, such as ``newsmon alerts list``, queries
these tables instead and starts in less. Each table here matches its ORM model column
for column (tests/test_schema.py compares the two); ``Base.metadata`` stays what
alembic and the writers use.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

__all__ = [
    "NAMING",
    "ONE_SUBJECT",
    "UtcDateTime",
    "alert_counts",
    "alerts",
    "articles",
    "deliveries",
    "entries",
    "event_profiles",
    "event_terms",
    "feed_health",
    "feed_notices",
    "feeds",
    "matches",
    "metadata",
    "spikes",
    "stories",
    "story_claims",
    "story_keys",
    "term_counts",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# a delivery is about exactly one of: an alert, a feed-health notice, a spike
ONE_SUBJECT = (
    "(CASE WHEN alert_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN notice_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN spike_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _when(name: str, *, nullable: bool = True, index: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable, index=index)


def _article_key() -> Column[int]:
    """``article_id`` as part of the primary key, gone with its article."""
    return Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )


feeds = Table(
    "feeds",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("is_enabled", Boolean, nullable=False, default=True),
    Column("interval", Float, nullable=False),
    _when("created_at", nullable=False),
    _when("next_check_at", nullable=False, index=True),
    _when("last_polled_at"),
    _when("last_success_at"),
    Column("last_status", String(16), nullable=False, default="new"),
    Column("last_error", Text),
    Column("error_count", Integer, nullable=False, default=0),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("is_backlog_absorbed", Boolean, nullable=False, default=False),
    Column("origin", String(16), nullable=False, default="config", server_default="config"),
    Column("change_gap", Float),
    _when("last_change_at"),
    Column("body_hash", String(64)),
    Column("item_digests", LargeBinary),
    Column("ttl", Float),
    Column("encoding", String(32)),
    Column("encoding_reason", String(200)),
    Column("kind", String(16)),
    Column("detected_kind", String(16)),
    Column("lease_owner", String(128)),
    _when("lease_until"),
)

feed_health = Table(
    "feed_health",
    metadata,
    Column(
        "feed_id",
        Integer,
        ForeignKey("feeds.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("state", String(16), nullable=False),
    _when("since"),
    _when("failing_since"),
    Column("rhythm", Float),
    _when("checked_at", nullable=False),
    Column("rhythm_basis", String(64)),
)

feed_notices = Table(
    "feed_notices",
    metadata,
    _id(),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="SET NULL"), index=True),
    Column("feed", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    _when("since"),
    Column("detail", Text),
    _when("created_at", nullable=False, index=True),
)

stories = Table(
    "stories",
    metadata,
    _id(),
    Column("title", Text, nullable=False),
    _when("first_seen_at", nullable=False, index=True),
    _when("last_seen_at", nullable=False),
    Column("event_id", Integer, index=True),
    _when("reported_at"),
)

articles = Table(
    "articles",
    metadata,
    _id(),
    Column("url_key", String(2048), nullable=False, unique=True),
    Column("canonical_key", String(2048), index=True),
    Column("story_id", Integer, ForeignKey("stories.id"), index=True),
    Column("revision", Integer, nullable=False, default=0, server_default="0"),
    _when("updated_at"),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("text_source", String(16), nullable=False),
    Column("language", String(16)),
    Column("sitename", Text),
    _when("published_at"),
    _when("created_at", nullable=False, index=True),
    Column("fetch_error", Text),
    _when("pruned_at"),
    Index("ix_articles_pruned_at_created_at", "pruned_at", "created_at"),
)

story_keys = Table(
    "story_keys",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    _article_key(),
    sqlite_with_rowid=False,
)

event_profiles = Table(
    "event_profiles",
    metadata,
    _article_key(),
    Column("event_id", Integer, nullable=False),
    _when("at", nullable=False),
    Column("profile", LargeBinary, nullable=False),
    Index("ix_event_profiles_event_id_at", "event_id", "at"),
)

event_terms = Table(
    "event_terms",
    metadata,
    Column("term", BigInteger, primary_key=True, autoincrement=False),
    _article_key(),
    _when("at", nullable=False),
    Column("event_id", Integer, nullable=False),
    Index("ix_event_terms_term_at", "term", "at"),
    Index("ix_event_terms_article_id", "article_id"),
    sqlite_with_rowid=False,
)

term_counts = Table(
    "term_counts",
    metadata,
    Column("term", BigInteger, primary_key=True, autoincrement=False),
    Column("documents", Integer, nullable=False),
)

entries = Table(
    "entries",
    metadata,
    _id(),
    Column(
        "feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("key", String(600), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id"), index=True),
    Column("title", Text, nullable=False),
    Column("link", Text),
    _when("published_at"),
    _when("seen_at", nullable=False),
    Column("is_backlog", Boolean, nullable=False, default=False),
    Column("digest", String(64)),
    UniqueConstraint("feed_id", "key"),
)

alerts = Table(
    "alerts",
    metadata,
    _id(),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False, index=True),
    Column("story_id", Integer, ForeignKey("stories.id"), index=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="SET NULL")),
    _when("created_at", nullable=False, index=True),
    Column("kind", String(16), nullable=False, default="new", server_default="new"),
    Column("diff", Text),
    Column("watchlists", Text),
)

story_claims = Table(
    "story_claims",
    metadata,
    Column(
        "story_id",
        Integer,
        ForeignKey("stories.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("watchlist", String(64), primary_key=True),
    Column(
        "alert_id",
        Integer,
        ForeignKey("alerts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    _when("created_at", nullable=False),
    Column("grown_to", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_story_claims_created_at_watchlist", "created_at", "watchlist"),
)

matches = Table(
    "matches",
    metadata,
    _id(),
    Column(
        "alert_id",
        Integer,
        ForeignKey("alerts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("watchlist", String(64), nullable=False, index=True),
    Column("term", Text, nullable=False),
    Column("field", String(16), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("snippet", Text, nullable=False),
    Column("found", Text, nullable=False),
)

alert_counts = Table(
    "alert_counts",
    metadata,
    Column("dimension", String(16), primary_key=True),
    Column("hour", UtcDateTime(), primary_key=True),
    Column("name", String(600), primary_key=True),
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,
)

spikes = Table(
    "spikes",
    metadata,
    _id(),
    Column("watchlist", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    _when("started_at", nullable=False, index=True),
    _when("ended_at"),
    Column("count", Integer, nullable=False),
    Column("peak", Integer, nullable=False),
    Column("expected", Float, nullable=False),
    Column("window", Float, nullable=False),
    Column("baseline", Float, nullable=False),
    Column("factor", Float, nullable=False),
    UniqueConstraint("watchlist", "number"),
)

deliveries = Table(
    "deliveries",
    metadata,
    _id(),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE")),
    Column("notice_id", Integer, ForeignKey("feed_notices.id", ondelete="CASCADE")),
    Column("spike_id", Integer, ForeignKey("spikes.id", ondelete="CASCADE")),
    Column("channel", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    _when("created_at", nullable=False),
    _when("next_attempt_at", nullable=False),
    _when("sent_at"),
    _when("claimed_at"),
    Column("claimed_by", String(128)),
    Column("targets", JSON),
    UniqueConstraint("alert_id", "channel"),
    UniqueConstraint("notice_id", "channel"),
    UniqueConstraint("spike_id", "channel"),
    CheckConstraint(ONE_SUBJECT, name="one_subject"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_channel_sent_at", "channel", "sent_at"),
)
