"""A fetched document read by the reader of its source's kind (monitor.sources.read),
the children of a sitemap index fetched and read too, a Telegram channel's older pages
when needed (monitor.pipeline.channel), and the cap on new links.

A sitemap index is not a list of articles: its few newest children (by ``lastmod``,
monitor.sources.sitemaps.FOLLOW of them) are fetched, one host slot at a time, and
their URLs together are the index's entries. The archive's older children are never
walked. A child that fails fails the poll, like a feed that fails.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from monitor.errors import ParseError
from monitor.fetch.client import FEED_ACCEPT
from monitor.model import Entry, FeedState, Fetched
from monitor.pipeline.channel import read_channel
from monitor.pipeline.context import Context, get
from monitor.sources.entries import newest, shown_url
from monitor.sources.feeds import ParsedFeed

__all__ = ["CAPPED_KINDS", "cap_new", "read_source"]

log = logging.getLogger("newsmon.pipeline")

# kinds whose documents list links rather than publish items: a redesign or an archive
# page can bring hundreds of "new" links at once
CAPPED_KINDS = frozenset({"sitemap", "page"})


def read_source(
    ctx: Context, feed: FeedState, fetched: Fetched, *, known: bytes | None
) -> ParsedFeed:
    """The document's entries, read as the feed's kind (configured, else detected)."""
    max_entries = ctx.settings.defaults.max_entries
    parsed = ctx.workers.read_document(
        feed.kind,
        fetched.body,
        url=fetched.url,
        content_type=fetched.content_type,
        max_entries=max_entries,
        known=known,
    )
    if parsed.kind == "telegram":
        return read_channel(ctx, feed, parsed, fetched.url)
    if not parsed.children:
        return parsed
    entries: list[Entry] = []
    digests, items, dropped = b"", 0, 0
    for child in parsed.children:
        got = get(ctx, child, accept=FEED_ACCEPT)
        read = ctx.workers.read_document(
            "sitemap",
            got.body,
            url=got.url,
            content_type=got.content_type,
            max_entries=max_entries,
            known=known,
        )
        if read.children:
            raise ParseError(
                f"the sitemap index {shown_url(feed.url)} lists another index, {shown_url(child)}",
                "point the source at the inner index, or at a news sitemap",
            )
        entries += read.entries
        digests += read.digests or b""
        items, dropped = items + read.items, dropped + read.dropped
        ctx.liveness.beat()
    log.debug(
        "sitemap index read feed=%s children=%d urls=%d", feed.name, len(parsed.children), items
    )
    return dataclasses.replace(
        parsed,
        entries=newest(entries, max_entries),
        digests=digests,
        items=items,
        dropped=dropped,
    )


def cap_new(kind: str, fresh: Sequence[Entry], cap: int) -> tuple[list[Entry], list[Entry]]:
    """The new entries to process, and the excess to record as backlog: of a sitemap
    or page, at most ``cap`` ([defaults] max_new_links), the newest (page order when
    undated, which is the page's order of prominence)."""
    if kind not in CAPPED_KINDS or len(fresh) <= cap:
        return list(fresh), []
    taken = newest(list(fresh), cap)
    kept = {id(e) for e in taken}
    return taken, [e for e in fresh if id(e) not in kept]
