"""The per-feed order, in one function that the daemon and ``poll --once`` share.

refresh_feed:  fetch (conditional GET, one of [http] per_host slots for its host)
               -> 304, or the very bytes of the last body? reschedule, parse nothing
               -> parse -> keep new and edited entries
               -> first poll of a feed: record the backlog, alert nothing
               -> else, per new or edited entry (process_entry):
                    same URL (or canonical link) already stored, entry not edited?
                      record the entry, alert nothing (unless corrections re-read it)
                    -> read the article (page via trafilatura, else the summary)
                    -> match watchlists -> fingerprint the text (stories.py)
                    -> store entry, article, story, alerts and outbox rows in one
                       transaction: the story alerts each watchlist once
               -> record the feed's success, or its error and backoff; the next check
                  follows the feed's rhythm and the server's wishes (politeness.py)
A stop request (ctx.liveness) ends the work between feeds and between entries.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx

from monitor import metrics, politeness
from monitor.config import FeedSettings, Settings
from monitor.errors import NewsmonError, ThrottledError
from monitor.extract import html_to_text
from monitor.fetch import fetch
from monitor.hosts import HostLimiter
from monitor.liveness import Liveness
from monitor.match import Watchlist, find_matches
from monitor.model import Article, Entry, FeedState, Fetched, TextSource
from monitor.politeness import Bounds
from monitor.store import alerts as alert_store
from monitor.store import entries as entry_store
from monitor.store import feeds as feed_store
from monitor.store.db import Database
from monitor.store.entries import KnownArticle, Outcome
from monitor.store.leases import instance_name
from monitor.store.stories import Identity
from monitor.stories import fingerprint, short_diff, story_picker
from monitor.urls import canonical_key, url_key
from monitor.workers import Workers

__all__ = ["Context", "FeedResult", "process_entry", "refresh_feed"]

log = logging.getLogger("newsmon.pipeline")

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"  # noqa: E501
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """What the stages need, handed in explicitly."""

    db: Database
    client: httpx.Client
    settings: Settings
    watchlists: Sequence[Watchlist]
    clock: Callable[[], datetime] = utcnow
    hosts: HostLimiter = field(default_factory=HostLimiter)  # [http] per_host
    liveness: Liveness = field(default_factory=Liveness)  # stop requests, heartbeat
    # parsing and extraction run here (monitor.workers); in this process by default
    workers: Workers = field(default_factory=lambda: Workers(0))
    owner: str = field(default_factory=instance_name)  # names this instance in leases


@dataclass(frozen=True)
class FeedResult:
    feed: str
    status: str  # ok, not-modified, unchanged, error, skipped or interrupted (stopping)
    new_entries: int = 0
    backlog: int = 0
    alerts: list[int] = field(default_factory=list)
    error: str | None = None
    # nothing new, not written yet: the caller writes it (refresh_feed(..., defer=True))
    unchanged: feed_store.Unchanged | None = None


@metrics.timed_poll
def refresh_feed(ctx: Context, feed: FeedState, *, defer: bool = False) -> FeedResult:
    """Poll one feed, start to finish. Never raises: a failure is recorded on the feed.

    ``defer``: a poll that finds nothing new is not written but returned (``unchanged``),
    for the caller to write with others in one statement (monitor.cycle does, with the
    lease's release; lost, it costs one more poll of an unchanged feed)."""
    if ctx.liveness.is_stopping:
        return FeedResult(feed.name, "skipped")  # still due: the next start takes it
    now = ctx.clock()
    bounds = ctx.settings.feed_bounds(_configured(ctx, feed))
    try:
        started = time.perf_counter()
        fetched = _get(
            ctx, feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT
        )
        metrics.fetch_seconds(time.perf_counter() - started)
        max_age = politeness.max_age(fetched.cache_control)
        body_hash = hashlib.sha256(fetched.body).hexdigest()
        if not fetched.is_modified or body_hash == feed.body_hash:
            return _unchanged(ctx, feed, now, fetched, max_age, bounds, defer)
        parsed = ctx.workers.parse_document(
            fetched.body,
            url=fetched.url,
            content_type=fetched.content_type,
            max_entries=ctx.settings.defaults.max_entries,
        )
        fresh = entry_store.new_entries(ctx.db, feed.id, parsed.entries)
        backlog, alerts, edited = 0, [], 0
        if not feed.is_backlog_absorbed:
            backlog = entry_store.absorb_backlog(ctx.db, feed.id, fresh, now)
        else:
            for entry in fresh:
                if ctx.liveness.is_stopping:
                    return _interrupted(feed, alerts)
                alerts += process_entry(ctx, feed, entry)
                ctx.liveness.beat()
            for entry in entry_store.changed_entries(ctx.db, feed.id, parsed.entries):
                if ctx.liveness.is_stopping:
                    return _interrupted(feed, alerts)
                alerts += process_entry(ctx, feed, entry, is_edited=True)
                edited += 1
                ctx.liveness.beat()
        wait = feed_store.record_success(
            ctx.db,
            feed.id,
            now,
            is_modified=True,
            title=parsed.title,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            body_hash=body_hash,
            is_changed=bool(fresh) or edited > 0,
            max_age=max_age,
            ttl=politeness.feed_ttl(parsed.ttl),
            bounds=bounds,
        )
    except ThrottledError as exc:
        return _failed(ctx, feed, now, str(exc), politeness.retry_after(exc.retry_after, now))
    except NewsmonError as exc:
        return _failed(ctx, feed, now, str(exc))
    except Exception as exc:  # a bug must cost one feed one cycle, not the daemon
        log.exception("internal error feed=%s", feed.name)
        return _failed(ctx, feed, now, f"internal error: {type(exc).__name__}: {exc}")
    ctx.liveness.beat()
    log.info(
        "polled feed=%s status=ok entries=%d new=%d edited=%d backlog=%d alerts=%d next_in=%.0fs",
        feed.name,
        len(parsed.entries),
        len(fresh),
        edited,
        backlog,
        len(alerts),
        wait,
    )
    return FeedResult(feed.name, "ok", len(fresh), backlog, alerts)


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
        feed_store.record_success(
            ctx.db,
            feed.id,
            now,
            is_modified=fetched.is_modified,
            status=poll.status,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            max_age=max_age,
            bounds=bounds,
        )
    ctx.liveness.beat()
    log.info("polled feed=%s status=%s next_in=%.0fs", feed.name, poll.status, poll.wait)
    return FeedResult(feed.name, poll.status, unchanged=poll if defer else None)


def _interrupted(feed: FeedState, alerts: list[int]) -> FeedResult:
    """Stopping mid-feed: the feed stays due with its old validators, so the next start
    fetches it again and finds the entries not reached yet still new."""
    log.info("poll interrupted by stop feed=%s alerts=%d", feed.name, len(alerts))
    return FeedResult(feed.name, "interrupted", alerts=alerts)


def _get(
    ctx: Context,
    url: str,
    *,
    accept: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """One GET, holding one of the URL's host slots ([http] per_host) while it runs."""
    with ctx.hosts.slot(url):
        return fetch(
            ctx.client,
            url,
            max_bytes=ctx.settings.http.max_bytes,
            etag=etag,
            last_modified=last_modified,
            accept=accept,
        )


def _configured(ctx: Context, feed: FeedState) -> FeedSettings | None:
    return next((f for f in ctx.settings.feed if f.name == feed.name), None)


def process_entry(
    ctx: Context, feed: FeedState, entry: Entry, *, is_edited: bool = False
) -> list[int]:
    """One new (or edited) entry: dedup by URL, read, match, place in a story, store.

    Returns the ids of the alerts it raised.
    """
    key = url_key(entry.link) if entry.link else f"entry:{feed.id}:{entry.key}"
    known = entry_store.find_article(ctx.db, key) if entry.link else None
    is_correcting = ctx.settings.stories.corrections
    is_rereading = is_edited or is_correcting
    if known is not None and (known.url_key != key or not is_rereading or known.is_pruned):
        # the same URL, or a page that named this URL as its canonical link: a re-read
        # of another URL is no edit of the stored article, nor one whose text was pruned
        outcome = Outcome(entry, key, None, known=known, is_edited_entry=is_edited)
        entry_store.record_entry(ctx.db, feed_id=feed.id, outcome=outcome, now=ctx.clock())
        log.info("seen before feed=%s url=%s", feed.name, key)
        return []
    article = read_article(ctx, feed, entry)
    if known is not None and article.text_source.value != known.text_source:
        article = _as_known(article, known)  # a failed re-read is not an edit
    outcome = Outcome(
        entry=entry,
        url_key=key,
        article=article,
        matches=find_matches(ctx.watchlists, article),
        routes=ctx.settings.routes(),
        identity=_identity(ctx, article),
        known=known,
        diff=short_diff(known.title, known.text, article.title, article.text) if known else None,
        is_correcting=is_correcting,
        is_edited_entry=is_edited,
    )
    alerts = entry_store.record_entry(ctx.db, feed_id=feed.id, outcome=outcome, now=ctx.clock())
    metrics.alerted(alert_store.alerted_watchlists(ctx.db, alerts))
    for alert in alerts:
        log.info(
            "alert alert=%d feed=%s matched=%s url=%s",
            alert,
            feed.name,
            ",".join(sorted({m.watchlist for m in outcome.matches})),
            entry.link,
        )
    return alerts


def _identity(ctx: Context, article: Article) -> Identity | None:
    """What places the article in a story: its canonical link and, if enabled, its text."""
    canonical = canonical_key(article.canonical_url, article.url) if article.url else None
    found = fingerprint(article.text) if ctx.settings.stories.group else None
    if canonical is None and (found is None or not found.keys):
        return None
    mine = found.shingles if found is not None else ()
    since = ctx.clock() - timedelta(seconds=ctx.settings.stories.window)
    return Identity(
        canonical_key=canonical,
        keys=found.keys if found is not None else (),
        pick=story_picker(mine),
        since=since,
    )


def _as_known(article: Article, known: KnownArticle) -> Article:
    """The re-read article with the stored title and text: nothing to compare."""
    return replace(
        article, title=known.title, text=known.text, text_source=TextSource(known.text_source)
    )


def read_article(ctx: Context, feed: FeedState, entry: Entry) -> Article:
    """The linked page's main text, or the entry's summary when the page fails."""
    summary = html_to_text(entry.summary)
    error = None
    configured = _configured(ctx, feed)
    is_fetching = (
        ctx.settings.defaults.fetch_articles
        if configured is None
        else (ctx.settings.feed_fetches_articles(configured))
    )
    if entry.link and is_fetching:
        try:
            page = _get(ctx, entry.link, accept=PAGE_ACCEPT)
            text = ctx.workers.extract_page(page.body, url=page.url, content_type=page.content_type)
            return Article(
                url=entry.link,
                title=entry.title or text.title,
                text=text.text,
                text_source=TextSource.PAGE,
                language=text.language,
                sitename=text.sitename,
                published=entry.published or text.published,
                canonical_url=text.canonical_url,
            )
        except NewsmonError as exc:
            error = str(exc)
            metrics.page_failed(feed.name)
            log.info(
                "page unusable, using summary feed=%s url=%s error=%r", feed.name, entry.link, error
            )
    source = TextSource.SUMMARY if summary else TextSource.TITLE
    return Article(
        url=entry.link,
        title=entry.title,
        text=summary,
        text_source=source,
        published=entry.published,
        error=error,
    )


def _failed(
    ctx: Context, feed: FeedState, now: datetime, error: str, retry_after: float | None = None
) -> FeedResult:
    ctx.liveness.beat()
    bounds = ctx.settings.feed_bounds(_configured(ctx, feed))
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
