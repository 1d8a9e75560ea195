"""The per-feed order, in one function that the daemon and ``poll --once`` share.

refresh_feed:  fetch (conditional GET) -> parse -> keep new and edited entries
               -> first poll of a feed: record the backlog, alert nothing
               -> else, per new or edited entry (process_entry):
                    same URL (or canonical link) already stored, entry not edited?
                      record the entry, alert nothing (unless corrections re-read it)
                    -> read the article (page via trafilatura, else the summary)
                    -> match watchlists -> fingerprint the text (stories.py)
                    -> store entry, article, story, alerts and outbox rows in one
                       transaction: the story alerts each watchlist once
               -> record the feed's success, or its error and backoff
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx

from monitor.config import Settings
from monitor.errors import NewsmonError
from monitor.extract import html_to_text
from monitor.fetch import fetch
from monitor.match import Watchlist, find_matches
from monitor.model import Article, Entry, FeedState, TextSource
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
    # parsing and extraction run here (monitor.workers); in this process by default
    workers: Workers = field(default_factory=lambda: Workers(0))
    owner: str = field(default_factory=instance_name)  # names this instance in leases


@dataclass(frozen=True)
class FeedResult:
    feed: str
    status: str  # ok, not-modified or error
    new_entries: int = 0
    backlog: int = 0
    alerts: list[int] = field(default_factory=list)
    error: str | None = None


def refresh_feed(ctx: Context, feed: FeedState) -> FeedResult:
    """Poll one feed, start to finish. Never raises: a failure is recorded on the feed."""
    now = ctx.clock()
    try:
        fetched = fetch(
            ctx.client,
            feed.url,
            max_bytes=ctx.settings.http.max_bytes,
            etag=feed.etag,
            last_modified=feed.last_modified,
            accept=FEED_ACCEPT,
        )
        if not fetched.is_modified:
            feed_store.record_success(ctx.db, feed.id, now, is_modified=False)
            log.info("polled feed=%s status=not-modified", feed.name)
            return FeedResult(feed.name, "not-modified")
        title, entries = ctx.workers.parse_feed(
            fetched.body,
            url=fetched.url,
            content_type=fetched.content_type,
            max_entries=ctx.settings.defaults.max_entries,
        )
        fresh = entry_store.new_entries(ctx.db, feed.id, entries)
        backlog, alerts = 0, []
        if not feed.is_backlog_absorbed:
            backlog = entry_store.absorb_backlog(ctx.db, feed.id, fresh, now)
        else:
            for entry in fresh:
                alerts += process_entry(ctx, feed, entry)
            for entry in entry_store.changed_entries(ctx.db, feed.id, entries):
                alerts += process_entry(ctx, feed, entry, is_edited=True)
        feed_store.record_success(
            ctx.db,
            feed.id,
            now,
            is_modified=True,
            title=title,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
        )
    except NewsmonError as exc:
        return _failed(ctx, feed, now, str(exc))
    except Exception as exc:  # a bug must cost one feed one cycle, not the daemon
        log.exception("internal error feed=%s", feed.name)
        return _failed(ctx, feed, now, f"internal error: {type(exc).__name__}: {exc}")
    log.info(
        "polled feed=%s status=ok entries=%d new=%d backlog=%d alerts=%d",
        feed.name,
        len(entries),
        len(fresh),
        backlog,
        len(alerts),
    )
    return FeedResult(feed.name, "ok", len(fresh), backlog, alerts)


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
    if known is not None and (known.url_key != key or not is_rereading):
        # the same URL, or a page that named this URL as its canonical link: a re-read
        # of another URL is no edit of the stored article
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
    configured = next((f for f in ctx.settings.feed if f.name == feed.name), None)
    is_fetching = (
        ctx.settings.defaults.fetch_articles
        if configured is None
        else (ctx.settings.feed_fetches_articles(configured))
    )
    if entry.link and is_fetching:
        try:
            page = fetch(
                ctx.client, entry.link, max_bytes=ctx.settings.http.max_bytes, accept=PAGE_ACCEPT
            )
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


def _failed(ctx: Context, feed: FeedState, now: datetime, error: str) -> FeedResult:
    log.warning("poll failed feed=%s error=%r", feed.name, error)
    try:
        feed_store.record_failure(ctx.db, feed.id, now, error)
    except NewsmonError as exc:  # the database itself is failing: the feed stays due
        log.error("cannot record the failure feed=%s error=%r", feed.name, str(exc))
    return FeedResult(feed.name, "error", error=error)
