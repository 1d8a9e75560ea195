"""Feed health in the database: the facts a judgement needs, incidents, and notices.

An incident changes state with a compare-and-set on ``feed_health.state``, in the
transaction that writes its notice and the notice's outbox rows: when two instances
judge the same feed at once, one notice goes out.

A feed's rhythm is learned from its newest entries; the health row keeps it with its
basis (the feed's newest entry, its interval and the caller's way of learning it).
While the basis holds, nothing it was learned from has changed: ``facts`` then hands
out the stored rhythm and reads none of those entries (an unchanged poll pass of 500
feeds read 25,000 timestamps for nothing).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.model import DeliveryStatus
from monitor.store.db import Database
from monitor.store.tables import Delivery, Entry, Feed, FeedHealth, FeedNotice

__all__ = [
    "FeedFacts",
    "HealthView",
    "NoticeDraft",
    "NoticeView",
    "facts",
    "get_notice",
    "health_by_feed",
    "record",
]


@dataclass(frozen=True)
class FeedFacts:
    """One feed as health judges it: its row, its incident, and when entries came."""

    id: int
    name: str
    url: str
    interval: float
    last_status: str
    last_error: str | None
    error_count: int
    created_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_check_at: datetime
    state: str  # the incident announced: ok, failing or silent
    since: datetime | None
    failing_since: datetime | None
    arrivals: tuple[datetime, ...]  # first-seen times of new entries (not backlog), newest first
    published: tuple[datetime, ...]  # published times of the newest entries, newest first
    last_seen: datetime | None  # when the newest entry was first seen, backlog included
    rhythm: float | None = None  # as last stored
    is_stored: bool = False  # the feed has a health row
    basis: str | None = None  # what its rhythm would be learned from now
    is_rhythm_current: bool = False  # the stored rhythm was learned from ``basis``: no
    # arrivals or published times were read


@dataclass(frozen=True)
class NoticeDraft:
    kind: str  # failing, silent or recovered
    since: datetime | None
    detail: str


@dataclass(frozen=True)
class NoticeView:
    id: int
    feed: str
    url: str
    kind: str
    since: datetime | None
    detail: str | None
    created_at: datetime


@dataclass(frozen=True)
class HealthView:
    origin: str
    state: str
    since: datetime | None
    failing_since: datetime | None
    rhythm: float | None


# feeds whose entries are read in one statement: bounded, as SQLite bounds the
# parameters of one statement
CHUNK = 500


def facts(
    db: Database, names: Sequence[str] | None, sample: int, method: str = ""
) -> Iterator[FeedFacts]:
    """The enabled feeds (or the named ones), by id, with up to ``sample`` arrivals each,
    but for those whose rhythm was learned, by ``method``, from what they hold now.

    Read ``CHUNK`` feeds at a time, three statements per chunk rather than three per
    feed (the health check follows every cycle), each chunk in a read of its own that is
    over before its feeds are handed out: the caller writes between chunks, and only
    one chunk's facts are held at once (20,000 sources' would be about 75 MB)."""
    wanted = select(Feed.id).where(Feed.is_enabled.is_(True))
    ids: list[int] = []
    with db.session() as s:
        if names is None:
            ids = list(s.scalars(wanted))
        else:
            listed = list(dict.fromkeys(names))
            for start in range(0, len(listed), CHUNK):
                part = wanted.where(Feed.name.in_(listed[start : start + CHUNK]))
                ids += s.scalars(part)
    ids.sort()
    for start in range(0, len(ids), CHUNK):
        with db.session() as s:
            found = _chunk(s, ids[start : start + CHUNK], f"{method}:{sample}", sample)
        yield from found


def basis(method: str, newest_entry: int | None, interval: float) -> str:
    """What a feed's rhythm is learned from: its entries up to its newest (ids only grow;
    entries are never removed but with their feed), its interval and the way."""
    return f"{method}:{newest_entry or 0}:{interval!r}"[:64]


def _chunk(s: Session, ids: Sequence[int], method: str, sample: int) -> list[FeedFacts]:
    query = (
        select(Feed, FeedHealth)
        .outerjoin(FeedHealth, FeedHealth.feed_id == Feed.id)
        .where(Feed.id.in_(ids))
        .order_by(Feed.id)
    )
    latest = (
        select(Entry.feed_id, func.max(Entry.seen_at), func.max(Entry.id))
        .where(Entry.feed_id.in_(ids))
        .group_by(Entry.feed_id)
    )
    # Core, not the session: no ORM loading for rows of a few columns
    newest = {feed: (seen, entry) for feed, seen, entry in s.connection().execute(latest)}
    rows = s.execute(query).all()
    bases = {f.id: basis(method, newest.get(f.id, (None, None))[1], f.interval) for f, _ in rows}
    current = {f.id for f, h in rows if h is not None and h.rhythm_basis == bases[f.id]}
    learning = [i for i in ids if i not in current]
    arrivals = _newest(s, Entry.seen_at, learning, sample, Entry.is_backlog.is_(False))
    published = _newest(s, Entry.published_at, learning, sample, Entry.published_at.is_not(None))
    return [
        FeedFacts(
            f.id,
            f.name,
            f.url,
            f.interval,
            f.last_status,
            f.last_error,
            f.error_count,
            f.created_at,
            f.last_polled_at,
            f.last_success_at,
            f.next_check_at,
            h.state if h else "ok",
            h.since if h else None,
            h.failing_since if h else None,
            tuple(arrivals.get(f.id, ())),
            tuple(published.get(f.id, ())),
            newest.get(f.id, (None, None))[0],
            h.rhythm if h else None,
            h is not None,
            bases[f.id],
            f.id in current,
        )
        for f, h in rows
    ]


def _newest(
    s: Session, column: Any, ids: Sequence[int], sample: int, *where: Any
) -> dict[int, list[datetime]]:
    """Up to ``sample`` values of ``column`` per feed of ``ids``, newest first."""
    rank = func.row_number().over(partition_by=Entry.feed_id, order_by=column.desc())
    ranked = (
        select(Entry.feed_id, column.label("at"), rank.label("n"))
        .where(Entry.feed_id.in_(ids), *where)
        .subquery()
    )
    found: dict[int, list[datetime]] = {}
    if not ids:
        return found
    query = (
        select(ranked.c.feed_id, ranked.c.at)
        .where(ranked.c.n <= sample)
        .order_by(ranked.c.feed_id, ranked.c.n)
    )
    for feed_id, at in s.connection().execute(query).all():  # Core, as in _chunk
        found.setdefault(feed_id, []).append(at)
    return found


def _ensure_row(db: Database, feed_id: int, now: datetime) -> None:
    try:
        with db.session() as s:
            if s.get(FeedHealth, feed_id) is None:
                s.add(FeedHealth(feed_id=feed_id, state="ok", checked_at=now))
    except IntegrityError:
        pass  # another instance made it first


def record(
    db: Database,
    feed: FeedFacts,
    now: datetime,
    *,
    state: str,
    since: datetime | None,
    failing_since: datetime | None,
    rhythm: float | None,
    notice: NoticeDraft | None,
    channels: Sequence[str],
) -> int | None:
    """Store a judgement. With a notice, only if the state is still ``feed.state`` (else
    another instance got there first): the notice and one delivery per channel, in the
    same transaction. Returns the notice's id, or None when no notice was written."""
    _ensure_row(db, feed.id, now)
    with db.session() as s:
        values = {
            "failing_since": failing_since,
            "rhythm": rhythm,
            "rhythm_basis": feed.basis,
            "checked_at": now,
        }
        if notice is None:
            s.execute(update(FeedHealth).where(FeedHealth.feed_id == feed.id).values(**values))
            return None
        changed = s.execute(
            update(FeedHealth)
            .where(FeedHealth.feed_id == feed.id, FeedHealth.state == feed.state)
            .values(state=state, since=since, **values)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = FeedNotice(
            feed_id=feed.id,
            feed=feed.name,
            url=feed.url,
            kind=notice.kind,
            since=notice.since,
            detail=notice.detail[:2000],
            created_at=now,
        )
        s.add(row)
        s.flush()
        s.add_all(
            Delivery(
                notice_id=row.id,
                channel=ch,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            for ch in dict.fromkeys(channels)
        )
        return row.id


def get_notice(db: Database, notice_id: int) -> NoticeView | None:
    with db.session() as s:
        n = s.get(FeedNotice, notice_id)
        if n is None:
            return None
        return NoticeView(n.id, n.feed, n.url, n.kind, n.since, n.detail, n.created_at)


def health_by_feed(db: Database) -> dict[str, HealthView]:
    """Every feed's origin and last judged health, by feed name."""
    query = select(Feed.name, Feed.origin, FeedHealth).outerjoin(
        FeedHealth, FeedHealth.feed_id == Feed.id
    )
    with db.session() as s:
        return {
            name: HealthView(
                origin,
                h.state if h else "ok",
                h.since if h else None,
                h.failing_since if h else None,
                h.rhythm if h else None,
            )
            for name, origin, h in s.execute(query).all()
        }
