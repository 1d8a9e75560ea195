"""The per-feed order, in one function that the daemon and ``poll --once`` share.

refresh_feed:  fetch (conditional GET, one of [http] per_host slots for its host)
               -> 304, or the very bytes of the last body? reschedule, parse nothing
               -> read, by the source's kind (monitor.pipeline.source: a feed, a
                  sitemap and its newest children, a page's article links, a Telegram
                  channel's messages and, when none was seen before, older pages)
               -> keep new and edited entries
               -> first poll of a feed: record the backlog, alert nothing
               -> a sitemap or page with more new links than [defaults] max_new_links:
                  the newest are processed, the rest recorded as backlog
               -> else, per new entry (oldest first by publication time, the
                  undated last), then per edited one: monitor.pipeline.entry.process_entry
                  (read the article, match, place in a story, store with its alerts)
               -> record the feed's success, or its error and backoff; the next check
                  follows the feed's rhythm and the server's wishes (schedule.py)
A stop request (ctx.liveness) ends the work between feeds and between entries.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from monitor import metrics, schedule
from monitor.errors import NewsmonError, ThrottledError
from monitor.fetch.client import FEED_ACCEPT
from monitor.model import Entry, FeedState, Fetched
from monitor.pipeline import polls
from monitor.pipeline.context import Context, feed_settings, get
from monitor.schedule import Bounds
from monitor.store import feeds as feed_store

if TYPE_CHECKING:
    from monitor.sources.feeds import ParsedFeed

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
        fetched = _fetch(ctx, feed)
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        if not fetched.is_modified or body_hash == feed.body_hash:
            return _unchanged(ctx, feed, now, fetched, bounds, defer)
        parsed = _parse(ctx, feed, fetched)
        done = _take_entries(ctx, feed, parsed, now)
        if done.is_interrupted:
            return _interrupted(feed, done.alerts)
        poll = _parsed_poll(feed, now, fetched, body_hash, parsed, done, bounds)
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
    return _polled(ctx, feed, parsed, done, poll, is_deferred)


@dataclass
class _Done:
    """What the entries of one parsed body came to."""

    new: int  # entries not recorded before
    edited: int = 0
    backlog: int = 0  # of a feed's first poll: recorded, not read
    alerts: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # stored without matching (timeout)
    is_interrupted: bool = False  # a stop request came before the last entry


def _fetch(ctx: Context, feed: FeedState) -> Fetched:
    """The feed's document, asked for with its validators (conditional GET)."""
    started = time.perf_counter()
    fetched = get(
        ctx, feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT
    )
    metrics.fetch_seconds(time.perf_counter() - started)
    return fetched


def _parse(ctx: Context, feed: FeedState, fetched: Fetched) -> ParsedFeed:
    # parsing, and storing what it finds (below), imported once a feed has changed: a poll
    # that finds every feed unchanged does without the parsers and the entry stage
    from monitor.pipeline.source import read_source

    # a first poll takes every entry for backlog: none may be left out
    known = feed.item_digests if feed.is_backlog_absorbed else None
    parsed = read_source(ctx, feed, fetched, known=known)
    log.debug(
        "feed read feed=%s encoding=%s reason=%r",
        feed.name,
        parsed.encoding,
        parsed.encoding_reason,
    )
    return parsed


def _take_entries(ctx: Context, feed: FeedState, parsed: ParsedFeed, now: datetime) -> _Done:
    """Keep the new and edited entries. A feed's first poll records them as its backlog,
    alerting nothing; a later one processes each new entry, then each edited one
    (monitor.pipeline.entry). Of a sitemap or page, at most [defaults] max_new_links new
    entries are processed, the rest recorded as backlog. A stop request ends the work
    between entries."""
    from monitor.pipeline.entry import process_entry
    from monitor.pipeline.source import cap_new
    from monitor.store import entries as entry_store

    fresh, changed = entry_store.sort_entries(ctx.db, feed.id, parsed.entries)
    if not feed.is_backlog_absorbed:
        return _Done(len(fresh), backlog=entry_store.absorb_backlog(ctx.db, feed.id, fresh, now))
    taken, excess = cap_new(parsed.kind, fresh, ctx.settings.defaults.max_new_links)
    done = _Done(len(fresh))
    if excess:
        done.backlog = entry_store.absorb_backlog(ctx.db, feed.id, excess, now)
        log.warning(
            "too many new links, the rest recorded as backlog feed=%s kind=%s new=%d "
            "taken=%d backlog=%d",
            feed.name,
            parsed.kind,
            len(fresh),
            len(taken),
            done.backlog,
        )
    taken = _in_time_order(taken)  # the first report founds its story and alerts
    for is_edited, batch in ((False, taken), (True, changed)):
        for entry in batch:
            if ctx.liveness.is_stopping:
                done.is_interrupted = True
                return done
            done.alerts += process_entry(
                ctx, feed, entry, is_edited=is_edited, problems=done.problems, kind=parsed.kind
            )
            done.edited += int(is_edited)
            ctx.liveness.beat()
    return done


def _in_time_order(entries: Sequence[Entry]) -> list[Entry]:
    """The entries oldest first by publication time (a feed lists the newest first),
    the undated after them in feed order: an event's first report is read first, so it
    founds the event and alerts, and later ones join it."""
    dated = sorted((e for e in entries if e.published is not None), key=_published)
    return dated + [e for e in entries if e.published is None]


def _published(entry: Entry) -> datetime:
    assert entry.published is not None
    return entry.published


def _parsed_poll(
    feed: FeedState,
    now: datetime,
    fetched: Fetched,
    body_hash: str,
    parsed: ParsedFeed,
    done: _Done,
    bounds: Bounds,
) -> feed_store.Poll:
    return polls.parsed(
        feed,
        now,
        title=parsed.title,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        body_hash=body_hash,
        item_digests=parsed.digests,
        is_changed=done.new > 0 or done.edited > 0,
        max_age=schedule.max_age(fetched.cache_control),
        ttl=schedule.feed_ttl(parsed.ttl),
        bounds=bounds,
        note=done.problems[-1] if done.problems else None,
        encoding=(parsed.encoding, parsed.encoding_reason),
        kind=parsed.kind,
    )


def _polled(
    ctx: Context,
    feed: FeedState,
    parsed: ParsedFeed,
    done: _Done,
    poll: feed_store.Poll,
    is_deferred: bool,
) -> FeedResult:
    ctx.liveness.beat()
    log.info(
        "polled feed=%s kind=%s status=ok entries=%d new=%d edited=%d backlog=%d dropped=%d "
        "alerts=%d next_in=%.0fs",
        feed.name,
        parsed.kind,
        parsed.items,
        done.new,
        done.edited,
        done.backlog,
        parsed.dropped,
        len(done.alerts),
        poll.wait,
    )
    pending = poll if is_deferred else None
    return FeedResult(
        feed.name,
        "ok",
        done.new,
        done.backlog,
        done.alerts,
        dropped=parsed.dropped,
        pending=pending,
    )


def _unchanged(
    ctx: Context, feed: FeedState, now: datetime, fetched: Fetched, bounds: Bounds, defer: bool
) -> FeedResult:
    """304, or a body byte for byte the last one: nothing to parse, just reschedule."""
    poll = polls.unchanged(
        feed,
        now,
        is_modified=fetched.is_modified,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        max_age=schedule.max_age(fetched.cache_control),
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
        failed = polls.failure(feed, now, error, retry_after=retry_after, bounds=bounds)
        feed_store.record_failure(ctx.db, failed)
    except NewsmonError as exc:  # the database itself is failing: the feed stays due
        log.warning("poll failed feed=%s error=%s", feed.name, error)
        log.error("cannot record the failure feed=%s error=%s", feed.name, str(exc))
    else:
        log.warning("poll failed feed=%s next_in=%.0fs error=%s", feed.name, failed.wait, error)
    return FeedResult(feed.name, "error", error=error)
