"""The per-entry order: one new (or edited) entry, from its link to its alerts.

process_entry:  same URL (or canonical link) already stored, entry not edited?
                  record the entry, alert nothing (unless corrections re-read it)
                -> read the article (the page through trafilatura in a worker, else
                   the entry's summary) -> a page's language (extract/language.py;
                   a summary's is detected only if a match depends on it)
                -> match watchlists -> fingerprint the text (stories/copies.py)
                   and weigh its terms (stories/events.py)
                -> its words for the search index (match/fulltext.py)
                -> store entry, article, story (copies first, then the event that
                   other outlets' reports form), alerts and outbox rows in one
                   transaction: the event alerts each watchlist once; a growing
                   event announces its thresholds of sources (stories/growth.py)
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from monitor import metrics
from monitor.errors import MatchTimeoutError, NewsmonError
from monitor.extract.article import html_to_text
from monitor.extract.language import with_language
from monitor.fetch.client import PAGE_ACCEPT
from monitor.match.fulltext import index_text
from monitor.match.watchlists import find_matches
from monitor.model import Article, Entry, FeedState, TextSource
from monitor.pipeline.context import Context, feed_settings, get
from monitor.sources.telegram import first_link
from monitor.store import entries as entry_store
from monitor.store.entries import IndexWords, KnownArticle, Outcome
from monitor.store.events import EventQuery
from monitor.store.stories import Identity
from monitor.stories import events
from monitor.stories.copies import fingerprint, short_diff, story_picker
from monitor.stories.growth import grower
from monitor.stories.urlkeys import canonical_key, url_key

__all__ = ["index_words", "process_entry", "read_article", "read_message"]

log = logging.getLogger("newsmon.pipeline")


def process_entry(
    ctx: Context,
    feed: FeedState,
    entry: Entry,
    *,
    is_edited: bool = False,
    problems: list[str] | None = None,
    kind: str = "feed",
) -> list[int]:
    """One new (or edited) entry: dedup by URL, read, match, place in a story, store.

    ``kind``: the source's, as read (a Telegram message is its own article). Returns
    the ids of the alerts it raised. An article whose matching runs over
    [scale] match_timeout is stored without alerts, with the error; the error is also
    added to ``problems`` (for the feed's record).
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
    article = (
        read_message(ctx, feed, entry) if kind == "telegram" else read_article(ctx, feed, entry)
    )
    if known is not None and article.text_source.value != known.text_source:
        article = _as_known(article, known)  # a failed re-read is not an edit
    if article.text_source is TextSource.PAGE:
        article = with_language(article)  # once, for matching, stories and search
    try:
        matches = find_matches(ctx.watchlists, article, budget=ctx.settings.scale.match_timeout)
    except MatchTimeoutError as exc:
        # stored as handled: the next poll must not spend the same time on it again
        matches, article = [], replace(article, error=str(exc))
        metrics.match_timed_out(feed.name)
        log.warning("match over time feed=%s url=%s error=%s", feed.name, entry.link, exc)
        if problems is not None:
            problems.append(f"{exc} (entry {entry.link or entry.key})")
    outcome = Outcome(
        entry=entry,
        url_key=key,
        article=article,
        matches=matches,
        routes=ctx.settings.routes(),
        identity=_identity(ctx, article),
        known=known,
        diff=short_diff(known.title, known.text, article.title, article.text) if known else None,
        is_correcting=is_correcting,
        is_edited_entry=is_edited,
        words=index_words(article, known),
        event=_event(ctx, article) if known is None else None,
        copies_only=ctx.settings.copies_only(),
        growth=grower(ctx.settings.stories.growth) if ctx.settings.stories.growth else None,
    )
    raised: list[str] = []  # the new alerts' watchlists, for the metrics
    alerts = entry_store.record_entry(
        ctx.db, feed_id=feed.id, outcome=outcome, now=ctx.clock(), raised=raised
    )
    metrics.alerted(raised)
    for alert in alerts:
        log.info(
            "alert alert=%d feed=%s matched=%s url=%s",
            alert,
            feed.name,
            ",".join(sorted({m.watchlist for m in outcome.matches})),
            entry.link,
        )
    if alerts:
        ctx.alerted(alerts)
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


def _event(ctx: Context, article: Article) -> EventQuery | None:
    """What places the article in an event: its weighted terms and publication time
    (the feed entry's, else the page's, else now: when newsmon first saw it)."""
    config = ctx.settings.stories
    if not config.events:
        return None
    counts = events.terms(article.title, article.text, article.language)
    at = article.published or ctx.clock()
    return EventQuery(
        terms=list(counts),
        at=at,
        window=config.event_window,
        weigh=events.weigher(counts, at),
        pick=events.picker(at, config.event_threshold),
    )


def index_words(article: Article, known: KnownArticle | None = None) -> IndexWords:
    """The article's words for the search index; re-reading ``known``, also the words it
    was indexed under (an edit keeps the stored site name and URL)."""
    if known is None:
        return IndexWords(index_text(article.title, article.text, article.sitename, article.url))
    return IndexWords(
        index_text(article.title, article.text, known.sitename, known.url),
        index_text(known.title, known.text, known.sitename, known.url),
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
    configured = feed_settings(ctx, feed)
    is_fetching = (
        ctx.settings.defaults.fetch_articles
        if configured is None
        else (ctx.settings.feed_fetches_articles(configured))
    )
    if entry.link and is_fetching:
        try:
            page = get(ctx, entry.link, accept=PAGE_ACCEPT)
            text = ctx.workers.extract_page(page.body, url=page.url, content_type=page.content_type)
            log.debug("page read feed=%s url=%s encoding=%r", feed.name, page.url, text.encoding)
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


def read_message(ctx: Context, feed: FeedState, entry: Entry) -> Article:
    """A Telegram message: its text is the article. With the source's ``follow_links``,
    the article its first outside link leads to is read too, and follows the text."""
    text = html_to_text(entry.summary)
    configured = feed_settings(ctx, feed)
    link = first_link(entry.summary) if configured and configured.follow_links else None
    message = Article(
        url=entry.link,
        title=entry.title,
        text=text,
        text_source=TextSource.SUMMARY if text else TextSource.TITLE,
        published=entry.published,
    )
    if link is None:
        return message
    try:
        page = get(ctx, link, accept=PAGE_ACCEPT)
        found = ctx.workers.extract_page(page.body, url=page.url, content_type=page.content_type)
    except NewsmonError as exc:
        metrics.page_failed(feed.name)
        log.info("linked page unusable feed=%s url=%s error=%r", feed.name, link, str(exc))
        return replace(message, error=str(exc))
    return replace(
        message,
        text=f"{text}\n\n{found.text}" if found.text else text,
        text_source=TextSource.PAGE,
        language=found.language,
        sitename=found.sitename,
        # the linked article's own address: the message joins that article's story
        canonical_url=found.canonical_url or page.url,
    )
