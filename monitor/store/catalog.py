"""Feeds added and removed from the command line (``origin = 'cli'``).

They are rows like the config's feeds, so a running daemon polls an added feed at its
next tick and stops polling a removed one, without a reload; ``sync_feeds`` keeps them.
Removing a feed disables its row: its entries stay, so adding it back alerts nothing old.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from monitor.store.db import Database
from monitor.store.tables import Feed

__all__ = ["CatalogFeed", "NewFeed", "add_feeds", "catalog", "disable"]


@dataclass(frozen=True)
class CatalogFeed:
    name: str
    url: str
    title: str | None
    origin: str  # config or cli
    is_enabled: bool
    kind: str | None = None  # as configured (monitor.sources.read.KINDS); None: detected


@dataclass(frozen=True)
class NewFeed:
    name: str
    url: str
    interval: float
    kind: str | None = None


def catalog(db: Database) -> list[CatalogFeed]:
    """Every feed row, by name."""
    with db.session() as s:
        return [
            CatalogFeed(f.name, f.url, f.title, f.origin, f.is_enabled, f.kind)
            for f in s.scalars(select(Feed).order_by(Feed.name))
        ]


def add_feeds(
    db: Database, feeds: Sequence[NewFeed], now: datetime, *, is_backlog_absorbed: bool
) -> None:
    """Add command-line feeds in one transaction, due at once. A disabled row of the same
    name (a removed feed) is taken over; its entries are kept."""
    with db.session() as s:
        rows = {
            f.name: f for f in s.scalars(select(Feed).where(Feed.name.in_([f.name for f in feeds])))
        }
        for new in feeds:
            row = rows.get(new.name)
            if row is None:
                row = Feed(
                    name=new.name,
                    url=new.url,
                    created_at=now,
                    last_status="new",
                    error_count=0,
                    is_backlog_absorbed=is_backlog_absorbed,
                )
                s.add(row)
            elif row.url != new.url:
                row.url, row.etag, row.last_modified = new.url, None, None
                row.body_hash = row.item_digests = None
                row.is_backlog_absorbed = is_backlog_absorbed
            row.kind = new.kind
            row.interval, row.is_enabled, row.origin = new.interval, True, "cli"
            row.next_check_at = now


def disable(db: Database, name: str) -> bool:
    """Stop polling a command-line feed; False when there is no such enabled feed."""
    with db.session() as s:
        row = s.scalar(select(Feed).where(Feed.name == name, Feed.origin == "cli"))
        if row is None or not row.is_enabled:
            return False
        row.is_enabled = False
        return True
