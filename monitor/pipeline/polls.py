"""The schedule of polls: the feeds the config declares, and when each is checked next.

The pipeline computes every next check here (with the arithmetic of monitor.schedule)
from the feed as it was claimed (a claimed feed is polled by nobody else, so the feed as
claimed is the feed as it is); monitor.store.feeds writes what it is given.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from monitor.config.settings import Settings
from monitor.model import FeedState
from monitor.schedule import Bounds, backoff, learn_gap, next_interval
from monitor.store import feeds as feed_store
from monitor.store.db import Database
from monitor.store.feeds import ConfiguredFeed, Failure, Parsed, Poll

__all__ = ["configured_feeds", "failure", "parsed", "sync_feeds", "unchanged"]

TELEGRAM_JITTER = 0.1
_DEFAULT_BOUNDS = Bounds()


def configured_feeds(settings: Settings) -> list[ConfiguredFeed]:
    """The feeds of the config, with its defaults applied."""
    return [
        ConfiguredFeed(
            f.name,
            f.url,
            settings.feed_interval(f),
            settings.feed_alerts_backlog(f),
            f.enabled,
            f.kind,
        )
        for f in settings.feed
    ]


def sync_feeds(db: Database, settings: Settings, now: datetime) -> None:
    """Make the feeds table agree with the config (monitor.store.feeds.sync_feeds)."""
    feed_store.sync_feeds(db, configured_feeds(settings), now)


def _spread(wait: float, kind: str | None) -> float:
    """A Telegram channel's next check, up to a tenth earlier at random: its previews
    are read at a modest pace that does not fall into step with other readers' (a
    feed keeps its exact rhythm, which its server's caching may count on)."""
    return wait * (1 - TELEGRAM_JITTER * random.random()) if kind == "telegram" else wait


def unchanged(
    feed: FeedState,
    now: datetime,
    *,
    is_modified: bool,
    etag: str | None,
    last_modified: str | None,
    max_age: float | None = None,
    bounds: Bounds = _DEFAULT_BOUNDS,
) -> Poll:
    """The record of a poll that found nothing new (304, or the same bytes as the last
    body): the feed's rhythm goes on, and its validators are kept or renewed."""
    quiet = (now - feed.last_change_at).total_seconds() if feed.last_change_at else 0.0
    hint = max(max_age or 0.0, feed.ttl or 0.0) or None
    wait = next_interval(feed.interval, bounds, gap=feed.change_gap, quiet=quiet, hint=hint)
    wait = _spread(wait, feed.kind)
    return Poll(
        feed.id,
        now,
        now + timedelta(seconds=wait),
        "unchanged" if is_modified else "not-modified",
        etag if is_modified else feed.etag,
        last_modified if is_modified else feed.last_modified,
    )


def parsed(
    feed: FeedState,
    now: datetime,
    *,
    title: str | None,
    etag: str | None,
    last_modified: str | None,
    body_hash: str,
    item_digests: bytes | None = None,
    is_changed: bool,
    max_age: float | None = None,
    ttl: float | None = None,
    bounds: Bounds = _DEFAULT_BOUNDS,
    note: str | None = None,
    encoding: tuple[str, str] | None = None,
    kind: str | None = None,
) -> Poll:
    """The record of a poll whose body was parsed (``is_changed``: it had new or edited
    entries, which teaches the feed's rhythm). ``max_age`` (Cache-Control) and ``ttl``
    (the feed's <ttl>) are the waits the server asks for. ``note``: kept as the feed's
    last error although the poll worked (an entry that could not be matched in time).
    ``encoding``: the body's (monitor.fetch.charset), and why. ``kind``: what the body
    was read as (monitor.sources.read.KINDS)."""
    gap, changed_at = feed.change_gap, feed.last_change_at
    if is_changed:
        gap, changed_at = learn_gap(gap, changed_at, now), now
    quiet = (now - changed_at).total_seconds() if changed_at else 0.0
    hint = max(max_age or 0.0, ttl or 0.0) or None
    wait = _spread(
        next_interval(feed.interval, bounds, gap=gap, quiet=quiet, hint=hint), feed.kind or kind
    )
    return Poll(
        feed.id,
        now,
        now + timedelta(seconds=wait),
        "ok",
        etag,
        last_modified,
        Parsed(title or None, body_hash, item_digests, ttl, gap, changed_at, encoding, kind),
        note,
    )


def failure(
    feed: FeedState,
    now: datetime,
    error: str,
    *,
    retry_after: float | None = None,
    bounds: Bounds = _DEFAULT_BOUNDS,
) -> Failure:
    """The record of a failed poll: back off exponentially with jitter (one more error
    in a row than the feed had), and at least ``retry_after``, within the bounds."""
    wait = backoff(
        feed.interval, feed.error_count + 1, bounds, jitter=random.random(), retry_after=retry_after
    )
    return Failure(feed.id, now, now + timedelta(seconds=wait), error)
