"""Health figures read from the database, for ``newsmon status`` and the metrics endpoint.

Only reads, and only cheap ones on the paths a scrape takes (``feed_summary``,
``outbox``): each is an aggregate over an index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import DatabaseError
from monitor.model import DeliveryStatus
from monitor.store.db import Database
from monitor.store.health import health_by_feed
from monitor.store.tables import Alert, Delivery, Entry, Feed

__all__ = ["FeedHealth", "FeedSummary", "Outbox", "alerts_since", "feed_summary", "feeds", "outbox"]

T = TypeVar("T")


@dataclass(frozen=True)
class FeedHealth:
    name: str
    status: str  # the last poll's: new, ok, not-modified, error
    errors: int  # failed polls in a row
    created_at: datetime
    last_success_at: datetime | None
    newest_entry_at: datetime | None  # when its newest entry was first seen
    last_polled_at: datetime | None = None  # the last poll, whatever its outcome
    next_check_at: datetime | None = None  # when it is due
    kind: str | None = None  # as configured, else as its last document was read; None: unread


@dataclass(frozen=True)
class FeedSummary:
    enabled: int
    failing: int
    last_success_at: datetime | None


@dataclass(frozen=True)
class Outbox:
    pending: int  # due now, not sent yet
    sending: int  # claimed by a sender right now
    held: int  # waiting on purpose: a digest's schedule, quiet hours, a rate limit
    retrying: int  # failed, tried again later
    dead: int  # given up
    oldest_due_at: datetime | None  # when the oldest delivery that is due was created


def _read(db: Database, query: Callable[[], T]) -> T:
    """A read whose SQL errors (a schema that is behind, say) become a DatabaseError."""
    try:
        return query()
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0]
        raise DatabaseError(first[:300], "run `newsmon db upgrade`") from None


def feeds(db: Database) -> list[FeedHealth]:
    """Every enabled feed, by name, with when its newest entry was first seen."""
    newest = (
        select(Entry.feed_id, func.max(Entry.seen_at).label("at"))
        .group_by(Entry.feed_id)
        .subquery()
    )
    query = (
        select(Feed, newest.c.at)
        .outerjoin(newest, newest.c.feed_id == Feed.id)
        .where(Feed.is_enabled.is_(True))
        .order_by(Feed.name)
    )

    def run() -> list[FeedHealth]:
        with db.session() as s:
            return [
                FeedHealth(
                    f.name,
                    f.last_status,
                    f.error_count,
                    f.created_at,
                    f.last_success_at,
                    at,
                    f.last_polled_at,
                    f.next_check_at,
                    f.kind or f.detected_kind,
                )
                for f, at in s.execute(query)
            ]

    return _read(db, run)


def judged_states(db: Database) -> dict[str, str]:
    """The feed-health state (ok, failing or silent) of every feed, by name."""
    return _read(db, lambda: {name: h.state for name, h in health_by_feed(db).items()})


def feed_summary(db: Database) -> FeedSummary:
    query = select(
        func.count(),
        func.coalesce(func.sum(case((Feed.last_status == "error", 1), else_=0)), 0),
        func.max(Feed.last_success_at),
    ).where(Feed.is_enabled.is_(True))

    def run() -> FeedSummary:
        with db.session() as s:
            enabled, failing, last = s.execute(query).one()
            return FeedSummary(int(enabled), int(failing), last)

    return _read(db, run)


def outbox(db: Database, now: datetime) -> Outbox:
    """Deliveries not sent, by state (sent ones are not read)."""
    is_due = case((Delivery.next_attempt_at <= now, 1), else_=0)
    unsent = [s.value for s in DeliveryStatus if s is not DeliveryStatus.SENT]
    query = (
        select(Delivery.status, is_due, func.count(), func.min(Delivery.created_at))
        .where(Delivery.status.in_(unsent))
        .group_by(Delivery.status, is_due)
    )

    def run() -> Outbox:
        counts = dict.fromkeys(("pending", "sending", "held", "retrying", "dead"), 0)
        oldest: list[datetime] = []
        with db.session() as s:
            for status, due, n, first in s.execute(query):
                state = _STATES[status]
                if state == "pending" and not due:
                    state = "held"
                counts[state] += int(n)
                if first is not None and (status == "sending" or (due and status != "dead")):
                    oldest.append(first)
        return Outbox(**counts, oldest_due_at=min(oldest, default=None))

    return _read(db, run)


_STATES = {"pending": "pending", "sending": "sending", "failed": "retrying", "dead": "dead"}


def alerts_since(db: Database, since: datetime) -> int:
    def run() -> int:
        with db.session() as s:
            return int(s.scalar(select(func.count()).where(Alert.created_at >= since)) or 0)

    return _read(db, run)
