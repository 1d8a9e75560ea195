"""The per-feed order, in one function that the daemon and ``poll --once`` share.

refresh_feed:  fetch (conditional GET, one of [http] per_host slots for its host)
               -> 304, or the very bytes of the last body? reschedule, parse nothing
               -> parse -> keep new and edited entries
               -> first poll of a feed: record the backlog, alert nothing
               -> else, per new or edited entry: monitor.pipeline.entry.process_entry
                  (read the article, match, place in a story, store with its alerts)
               -> record the feed's success, or its error and backoff; the next check
                  follows the feed's rhythm and the server's wishes (schedule.py)
A stop request (ctx.liveness) ends the work between feeds and between entries.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from monitor import metrics, schedule
from monitor.errors import NewsmonError, ThrottledError
from monitor.fetch.client import FEED_ACCEPT
from monitor.model import FeedState, Fetched
from monitor.pipeline.context import Context, feed_settings, get
from monitor.pipeline.entry import process_entry
from monitor.schedule import Bounds
from monitor.store import entries as entry_store
from monitor.store import feeds as feed_store

__all__ = ["FeedResult", "refresh_feed"]

log = logging.getLogger("newsmon.pipeline")


@dataclass(frozen=True)
class FeedResult:
    feed: str
    status: str  # ok, not-modified, unchanged, error, skipped or interrupted (stopping)
    new_entries: int = 0
    backlog: int = 0
    alerts: list[int] = field(default_factory=list)
    error: str | None = None
    dropped: int = 0  # entries read but dropped: no title, no link and no text
    # the poll's record, not written yet: the caller writes it (refresh_feed(..., defer=True))
    pending: feed_store.Poll | None = None


@metrics.timed_poll
def refresh_feed(ctx: Context, feed: FeedState, *, defer: bool = False) -> FeedResult:
    """Poll one feed, start to finish. Never raises: a failure is recorded on the feed.

    ``defer``: the feed's record of a poll that worked (but not of a feed's first poll)
    is not written but returned (``pending``), for the caller to write with others in
    one statement (monitor.pipeline.cycle does, with the lease's release). Lost in a crash, it
    costs one more poll: the entries and alerts were stored as they came."""
    if ctx.liveness.is_stopping:
        return FeedResult(feed.name, "skipped")  # still due: the next start takes it
    now = ctx.clock()
    bounds = ctx.settings.feed_bounds(feed_settings(ctx, feed))
    try:
        started = time.perf_counter()
        fetched = get(
            ctx, feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT
        )
        metrics.fetch_seconds(time.perf_counter() - started)
        max_age = schedule.max_age(fetched.cache_control)
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        if not fetched.is_modified or body_hash == feed.body_hash:
            return _unchanged(ctx, feed, now, fetched, max_age, bounds, defer)
        parsed = ctx.workers.parse_document(
            fetched.body,
            url=fetched.url,
            content_type=fetched.content_type,
            max_entries=ctx.settings.defaults.max_entries,
            # a first poll takes every entry for backlog: none may be left out
            known=feed.item_digests if feed.is_backlog_absorbed else None,
        )
        log.debug(
            "feed read feed=%s encoding=%s reason=%r",
            feed.name,
            parsed.encoding,
            parsed.encoding_reason,
        )
        fresh, changed = entry_store.sort_entries(ctx.db, feed.id, parsed.entries)
        backlog, alerts, edited = 0, [], 0
        problems: list[str] = []  # entries stored without matching (over match_timeout)
        if not feed.is_backlog_absorbed:
            backlog = entry_store.absorb_backlog(ctx.db, feed.id, fresh, now)
        else:
            for entry in fresh:
                if ctx.liveness.is_stopping:
                    return _interrupted(feed, alerts)
                alerts += process_entry(ctx, feed, entry, problems=problems)
                ctx.liveness.beat()
            for entry in changed:
                if ctx.liveness.is_stopping:
                    return _interrupted(feed, alerts)
                alerts += process_entry(ctx, feed, entry, is_edited=True, problems=problems)
                edited += 1
                ctx.liveness.beat()
        poll = feed_store.parsed(
            feed,
            now,
            title=parsed.title,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            body_hash=body_hash,
            item_digests=parsed.digests,
            is_changed=bool(fresh) or edited > 0,
            max_age=max_age,
            ttl=schedule.feed_ttl(parsed.ttl),
            bounds=bounds,
            note=problems[-1] if problems else None,
            encoding=(parsed.encoding, parsed.encoding_reason),
        )
        # a first poll's record (the backlog is absorbed) is written at once: lost, the
        # next poll would take entries that arrived since for backlog too
        is_deferred = defer and feed.is_backlog_absorbed
        if not is_deferred:
            feed_store.write_poll(ctx.db, poll)
    except ThrottledError as exc:
        return _failed(ctx, feed, now, str(exc), schedule.retry_after(exc.retry_after, now))
    except NewsmonError as exc:
        return _failed(ctx, feed, now, str(exc))
    except Exception as exc:  # a bug must cost one feed one cycle, not the daemon
        log.exception("internal error feed=%s", feed.name)
        return _failed(ctx, feed, now, f"internal error: {type(exc).__name__}: {exc}")
    ctx.liveness.beat()
    log.info(
        "polled feed=%s status=ok entries=%d new=%d edited=%d backlog=%d dropped=%d alerts=%d "
        "next_in=%.0fs",
        feed.name,
        parsed.items,
        len(fresh),
        edited,
        backlog,
        parsed.dropped,
        len(alerts),
        poll.wait,
    )
    pending = poll if is_deferred else None
    return FeedResult(
        feed.name, "ok", len(fresh), backlog, alerts, dropped=parsed.dropped, pending=pending
    )


def _unchanged(
    ctx: Context,
    feed: FeedState,
    now: datetime,
    fetched: Fetched,
    max_age: float | None,
    bounds: Bounds,
    defer: bool,
) -> FeedResult:
    """304, or a body byte for byte the last one: nothing to parse, just reschedule."""
    poll = feed_store.unchanged(
        feed,
        now,
        is_modified=fetched.is_modified,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        max_age=max_age,
        bounds=bounds,
    )
    if not defer:
        feed_store.write_poll(ctx.db, poll)
    ctx.liveness.beat()
    # debug: most polls find nothing new, and a line each would flood the journal
    log.debug("polled feed=%s status=%s next_in=%.0fs", feed.name, poll.status, poll.wait)
    return FeedResult(feed.name, poll.status, pending=poll if defer else None)


def _interrupted(feed: FeedState, alerts: list[int]) -> FeedResult:
    """Stopping mid-feed: the feed stays due with its old validators, so the next start
    fetches it again and finds the entries not reached yet still new."""
    log.info("poll interrupted by stop feed=%s alerts=%d", feed.name, len(alerts))
    return FeedResult(feed.name, "interrupted", alerts=alerts)


def _failed(
    ctx: Context, feed: FeedState, now: datetime, error: str, retry_after: float | None = None
) -> FeedResult:
    ctx.liveness.beat()
    bounds = ctx.settings.feed_bounds(feed_settings(ctx, feed))
    try:
        wait = feed_store.record_failure(
            ctx.db, feed.id, now, error, retry_after=retry_after, bounds=bounds
        )
    except NewsmonError as exc:  # the database itself is failing: the feed stays due
        log.warning("poll failed feed=%s error=%s", feed.name, error)
        log.error("cannot record the failure feed=%s error=%s", feed.name, str(exc))
    else:
        log.warning("poll failed feed=%s next_in=%.0fs error=%s", feed.name, wait, error)
    return FeedResult(feed.name, "error", error=error)
