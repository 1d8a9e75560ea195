"""Feed rows: config sync, the schedule (next_check_at lives here), and poll outcomes.

The next check is computed by the pipeline (monitor.pipeline.polls, with the arithmetic
of monitor.schedule); this module writes what it is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session

from monitor.model import FeedState
from monitor.store.db import Database
from monitor.store.tables import Entry, Feed

__all__ = [
    "ConfiguredFeed",
    "Failure",
    "FeedRow",
    "Parsed",
    "Poll",
    "add_feed",
    "due_feeds",
    "feed_state",
    "list_feeds",
    "record_failure",
    "record_polls",
    "write_poll",
    "sync_feeds",
]


@dataclass(frozen=True)
class FeedRow:
    name: str
    url: str
    title: str | None
    is_enabled: bool
    last_polled_at: datetime | None
    last_status: str
    last_error: str | None
    error_count: int
    entry_count: int
    next_check_at: datetime
    lease_owner: str | None = None  # the instance polling it (or that last held it)
    lease_until: datetime | None = None
    last_success_at: datetime | None = None
    encoding: str | None = None  # its last body's, and why (monitor.fetch.charset)
    encoding_reason: str | None = None
    kind: str | None = None  # as configured; None: detected from each response
    detected_kind: str | None = None  # what its last document was read as


@dataclass(frozen=True)
class ConfiguredFeed:
    """A feed as the config declares it, its defaults applied."""

    name: str
    url: str
    interval: float  # seconds
    is_backlog_absorbed: bool  # a first poll records the feed's backlog without alerts
    is_enabled: bool
    kind: str | None = None  # feed, sitemap, page or telegram; None: detected


def sync_feeds(db: Database, feeds: Sequence[ConfiguredFeed], now: datetime) -> None:
    """Make the feeds table agree with the config: add, update, disable the removed.

    Feeds added from the command line (``origin = 'cli'``) are kept, unless the config
    now declares a feed of the same name: then the config's takes over. Only the columns
    the config sets are read, and only rows that change are written: a daemon of 20,000
    sources starts without building 20,000 ORM objects (60 MB, much of it kept by the
    allocator for good)."""
    wanted = {f.name: f for f in feeds}
    with db.session() as s:
        db.lock_setup(s)  # instances starting together: one at a time
        rows = {row.name: row for row in s.execute(select(*_CONFIGURED))}
        added = [_configured(cfg, now) for name, cfg in wanted.items() if name not in rows]
        for start in range(0, len(added), _BATCH):
            s.execute(insert(Feed), added[start : start + _BATCH])
        for name, cfg in wanted.items():
            row = rows.get(name)
            changed = _changed(row, cfg) if row is not None else None
            if row is not None and changed:
                s.execute(update(Feed).where(Feed.id == row.id).values(changed))
        gone = [
            row.id
            for name, row in rows.items()
            if name not in wanted and row.origin == "config" and row.is_enabled
        ]
        for start in range(0, len(gone), _BATCH):
            batch = gone[start : start + _BATCH]
            s.execute(update(Feed).where(Feed.id.in_(batch)).values(is_enabled=False))


def _configured(cfg: ConfiguredFeed, now: datetime) -> dict[str, Any]:
    absorbed, enabled = cfg.is_backlog_absorbed, cfg.is_enabled
    return _new_feed(cfg.name, cfg.url, now, cfg.interval, absorbed, enabled, cfg.kind)


_CONFIGURED = (Feed.id, Feed.name, Feed.url, Feed.kind, Feed.interval, Feed.is_enabled, Feed.origin)
_BATCH = 500  # rows per statement, under every SQLite's limit of bound parameters


def _changed(row: Any, cfg: ConfiguredFeed) -> dict[str, Any]:
    """The columns of a feed's row that its configuration changes."""
    values: dict[str, Any] = {}
    if row.url != cfg.url or row.kind != cfg.kind:  # read anew: forget the old reading
        values.update(kind=cfg.kind, body_hash=None, item_digests=None)
    if row.url != cfg.url:  # another document: forget what the old one taught
        values.update(url=cfg.url, etag=None, last_modified=None, encoding=None)
        values.update(encoding_reason=None, change_gap=None, last_change_at=None)
    if (row.interval, row.is_enabled, row.origin) != (cfg.interval, cfg.is_enabled, "config"):
        values.update(interval=cfg.interval, is_enabled=cfg.is_enabled, origin="config")
    return values


def add_feed(
    db: Database, name: str, url: str, now: datetime, *, is_backlog_absorbed: bool = True
) -> int:
    """Add one enabled feed (checked every 10 minutes) and return its id."""
    with db.session() as s:
        row = Feed(**_new_feed(name, url, now, 600.0, is_backlog_absorbed, True))
        s.add(row)
        s.flush()
        return row.id


def _new_feed(
    name: str,
    url: str,
    now: datetime,
    interval: float,
    is_backlog_absorbed: bool,
    enabled: bool,
    kind: str | None = None,
) -> dict[str, Any]:
    """The columns of a new feed's row."""
    return {
        "name": name,
        "url": url,
        "kind": kind,
        "interval": interval,
        "is_enabled": enabled,
        "created_at": now,
        "next_check_at": now,
        "last_status": "new",
        "error_count": 0,
        "is_backlog_absorbed": is_backlog_absorbed,
        "origin": "config",
    }


def due_feeds(
    db: Database, now: datetime, *, names: Sequence[str] | None = None, is_forced: bool = False
) -> list[FeedState]:
    """Enabled feeds whose next check has come (all of them, or ``names``, when forced)."""
    query = select(Feed).where(Feed.is_enabled.is_(True)).order_by(Feed.next_check_at, Feed.id)
    if names:
        query = query.where(Feed.name.in_(list(names)))
    if not is_forced:
        query = query.where(Feed.next_check_at <= now)
    with db.session() as s:
        return [feed_state(r) for r in s.scalars(query)]


def feed_state(row: Feed) -> FeedState:
    """What the pipeline needs of a feed row."""
    return FeedState(
        row.id,
        row.name,
        row.url,
        row.etag,
        row.last_modified,
        row.is_backlog_absorbed,
        row.error_count,
        row.body_hash,
        row.item_digests,
        row.interval,
        row.change_gap,
        row.last_change_at,
        row.ttl,
        row.kind,
    )


@dataclass(frozen=True)
class Poll:
    """A poll that worked and the next check it schedules (computed by
    monitor.pipeline.polls): one that found nothing new (304, or the same bytes as the
    last body), or, with ``parsed``, one whose body was parsed. Written at once
    (``write_poll``) or with others (``record_polls``)."""

    feed_id: int
    polled_at: datetime
    next_check_at: datetime
    status: str  # not-modified, unchanged, or ok (parsed)
    etag: str | None
    last_modified: str | None
    parsed: Parsed | None = None
    note: str | None = None  # a problem with an entry that did not fail the poll

    @property
    def wait(self) -> float:
        return (self.next_check_at - self.polled_at).total_seconds()


@dataclass(frozen=True)
class Parsed:
    """What a parsed body adds to a poll's record."""

    title: str | None  # None: keep the one stored
    body_hash: str | None
    item_digests: bytes | None
    ttl: float | None
    change_gap: float | None
    last_change_at: datetime | None
    encoding: tuple[str, str] | None = None  # the body's encoding and why
    kind: str | None = None  # what it was read as (monitor.sources.read.KINDS)


def record_polls(s: Session, owner: str | None, polls: Sequence[Poll]) -> None:
    """Write these polls in the caller's transaction, one statement per kind. With an
    ``owner``, only on the feeds it still holds (a lease that expired and was claimed
    by another instance belongs to that instance's newer poll)."""
    for statement, kind in ((_RECORD_POLL, False), (_RECORD_PARSED, True)):
        rows = [_poll_values(p, owner) for p in polls if (p.parsed is not None) == kind]
        if rows:
            held = Feed.lease_owner == bindparam("owner") if owner else true()
            s.connection().execute(statement.where(Feed.id == bindparam("feed_id"), held), rows)


def write_poll(db: Database, poll: Poll) -> None:
    """Write one poll now, in a transaction of its own."""
    with db.session() as s:
        record_polls(s, None, [poll])


def _poll_values(p: Poll, owner: str | None) -> dict[str, object]:
    values: dict[str, object] = {
        "feed_id": p.feed_id,
        "owner": owner,
        "polled_at": p.polled_at,
        "next_check_at": p.next_check_at,
        "status": p.status,
        "etag": p.etag,
        "last_modified": p.last_modified,
        "note": p.note[:1000] if p.note else None,
    }
    if p.parsed is not None:
        values.update(
            new_title=p.parsed.title,
            body_hash=p.parsed.body_hash,
            item_digests=p.parsed.item_digests,
            ttl=p.parsed.ttl,
            change_gap=p.parsed.change_gap,
            last_change_at=p.parsed.last_change_at,
            encoding=p.parsed.encoding[0][:32] if p.parsed.encoding else None,
            encoding_reason=p.parsed.encoding[1][:200] if p.parsed.encoding else None,
            detected_kind=p.parsed.kind,
        )
    return values


# run on the connection: a plain executemany, no ORM bookkeeping (``record_polls`` adds
# which rows)
_RECORD_POLL = update(Feed).values(
    last_polled_at=bindparam("polled_at"),
    last_success_at=bindparam("polled_at"),
    next_check_at=bindparam("next_check_at"),
    last_status=bindparam("status"),
    last_error=bindparam("note"),
    error_count=0,
    etag=bindparam("etag"),
    last_modified=bindparam("last_modified"),
)
_RECORD_PARSED = _RECORD_POLL.values(
    title=func.coalesce(bindparam("new_title", type_=Feed.title.type), Feed.title),
    is_backlog_absorbed=True,
    body_hash=bindparam("body_hash"),
    item_digests=bindparam("item_digests", type_=Feed.item_digests.type),
    ttl=bindparam("ttl"),
    change_gap=bindparam("change_gap"),
    last_change_at=bindparam("last_change_at"),
    encoding=bindparam("encoding"),
    encoding_reason=bindparam("encoding_reason"),
    detected_kind=func.coalesce(
        bindparam("detected_kind", type_=Feed.detected_kind.type), Feed.detected_kind
    ),
)


@dataclass(frozen=True)
class Failure:
    """A poll that failed, and the next check its backoff schedules."""

    feed_id: int
    polled_at: datetime
    next_check_at: datetime
    error: str

    @property
    def wait(self) -> float:
        return (self.next_check_at - self.polled_at).total_seconds()


def record_failure(db: Database, failure: Failure) -> None:
    """Keep the error and the next check, and count one more error in a row."""
    with db.session() as s:
        row = s.get_one(Feed, failure.feed_id)
        row.error_count += 1
        row.last_polled_at = failure.polled_at
        row.next_check_at = failure.next_check_at
        row.last_status, row.last_error = "error", failure.error[:1000]


def list_feeds(db: Database) -> list[FeedRow]:
    counts = select(Entry.feed_id, func.count().label("n")).group_by(Entry.feed_id).subquery()
    query = (
        select(Feed, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.feed_id == Feed.id)
        .order_by(Feed.name)
    )
    with db.session() as s:
        return [
            FeedRow(
                r.name,
                r.url,
                r.title,
                r.is_enabled,
                r.last_polled_at,
                r.last_status,
                r.last_error,
                r.error_count,
                int(n),
                r.next_check_at,
                r.lease_owner,
                r.lease_until,
                r.last_success_at,
                r.encoding,
                r.encoding_reason,
                r.kind,
                r.detected_kind,
            )
            for r, n in s.execute(query)
        ]
