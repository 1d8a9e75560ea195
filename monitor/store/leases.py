"""Feed leases: how several instances on one database share the feeds.

An instance claims due feeds a batch at a time: in one transaction it selects feeds that
are due and not leased (or whose lease has expired), and writes its name and the lease's
expiry on them. On PostgreSQL the select locks the rows it returns and passes over rows
another instance is claiming at that moment (``SELECT ... FOR UPDATE SKIP LOCKED``), so
no two instances claim one feed; on SQLite every write transaction begins IMMEDIATE,
which serialises the claims. The owner renews its leases while it works and releases
each feed when done. An instance that dies renews nothing: once its leases expire, its
feeds are claimed by the others.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from monitor.model import FeedState
from monitor.store.db import Database
from monitor.store.feeds import Poll, feed_state, record_polls
from monitor.store.tables import Feed

__all__ = [
    "Lease",
    "claim_feeds",
    "held_elsewhere",
    "instance_name",
    "release_feeds",
    "renew_leases",
]


@dataclass(frozen=True)
class Lease:
    """A feed another instance holds: by whom (host:pid:tag), and until when."""

    feed: str
    owner: str
    until: datetime


@cache
def instance_name() -> str:
    """This process, as leases name it: host, process id and a random tag (a restarted
    container may get the same process id)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


def claim_feeds(
    db: Database,
    owner: str,
    now: datetime,
    lease: float,
    *,
    due_by: datetime | None,
    names: Sequence[str] | None = None,
    limit: int | None = None,
    release: Collection[int] = (),
    polls: Sequence[Poll] = (),
) -> list[FeedState]:
    """Claim up to ``limit`` enabled feeds due by ``due_by`` (any, when None), oldest
    first, that no live lease holds; write ``polls`` (monitor.store.feeds) and release
    ``release`` in the same transaction."""
    query = (
        select(Feed)
        .where(Feed.is_enabled.is_(True), or_(Feed.lease_until.is_(None), Feed.lease_until <= now))
        .order_by(Feed.next_check_at, Feed.id)
    )
    if due_by is not None:
        query = query.where(Feed.next_check_at <= due_by)
    if names:
        query = query.where(Feed.name.in_(list(names)))
    if limit is not None:
        query = query.limit(limit)
    with db.session() as s:
        record_polls(s, owner, polls)
        if release:
            _release(s, owner, release)
        rows = list(s.scalars(query.with_for_update(skip_locked=True)))
        claimed = [feed_state(r) for r in rows]
        if claimed:
            s.execute(
                update(Feed)
                .where(Feed.id.in_([f.id for f in claimed]))
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease))
                .execution_options(synchronize_session=False)
            )
    return claimed


def renew_leases(db: Database, owner: str, now: datetime, lease: float) -> int:
    """Extend every lease ``owner`` holds to ``now + lease``; how many it holds."""
    with db.session() as s:
        result = s.execute(
            update(Feed)
            .where(Feed.lease_owner == owner)
            .values(lease_until=now + timedelta(seconds=lease))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def release_feeds(
    db: Database, owner: str, feed_ids: Collection[int], polls: Sequence[Poll] = ()
) -> None:
    """Give these feeds back (only those ``owner`` still holds), after writing the polls
    in ``polls``."""
    if feed_ids or polls:
        with db.session() as s:
            record_polls(s, owner, polls)
            if feed_ids:
                _release(s, owner, feed_ids)


def held_elsewhere(
    db: Database, owner: str, now: datetime, names: Sequence[str] | None = None
) -> list[Lease]:
    """The enabled feeds (or the named ones) under a live lease of an instance other than
    ``owner``: polling them now, or dead and not yet expired."""
    query = select(Feed.name, Feed.lease_owner, Feed.lease_until).where(
        Feed.is_enabled.is_(True), Feed.lease_owner != owner, Feed.lease_until > now
    )
    if names:
        query = query.where(Feed.name.in_(list(names)))
    with db.session() as s:
        rows = s.execute(query.order_by(Feed.name)).all()
    return [Lease(name, holder, until) for name, holder, until in rows if holder and until]


def _release(s: Session, owner: str, feed_ids: Collection[int]) -> None:
    s.execute(
        update(Feed)
        .where(Feed.id.in_(list(feed_ids)), Feed.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
