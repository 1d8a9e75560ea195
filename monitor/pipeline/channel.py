"""A Telegram channel's older preview pages, read when its first page holds no message
this source has seen: a busy channel pushed them off the page since the last poll.

read_channel:  first page read (monitor.sources.telegram.parse_preview)
               -> a first poll? the page is the backlog: nothing older is read
               -> a message of the page seen before? done
               -> else the page before its oldest message (?before=ID), one host slot
                  at a time, until one holds a seen message, the channel's first
                  message, or [defaults] telegram_pages pages were read (a warning)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from monitor.fetch.client import PAGE_ACCEPT
from monitor.model import Entry, FeedState
from monitor.pipeline.context import Context, get
from monitor.sources import telegram
from monitor.sources.feeds import ParsedFeed
from monitor.store import entries as entry_store

__all__ = ["read_channel"]

log = logging.getLogger("newsmon.pipeline")


def read_channel(ctx: Context, feed: FeedState, first: ParsedFeed, url: str) -> ParsedFeed:
    """The first page's entries, and those of the older pages needed to reach a message
    seen before, oldest first."""
    if not feed.is_backlog_absorbed:
        return first

    def load(target: str) -> ParsedFeed:
        got = get(ctx, target, accept=PAGE_ACCEPT)
        ctx.liveness.beat()
        return ctx.workers.read_document(
            "telegram", got.body, url=got.url, content_type=got.content_type
        )

    def reaches_known(entries: Sequence[Entry]) -> bool:
        fresh, _changed = entry_store.sort_entries(ctx.db, feed.id, entries)
        return len(fresh) < len({e.key for e in entries})

    gathered = telegram.gather(
        first,
        url=url,
        load=load,
        reaches_known=reaches_known,
        max_pages=ctx.settings.defaults.telegram_pages,
    )
    if gathered.is_gap:
        log.warning(
            "telegram paging stopped before a known message feed=%s pages=%d: messages "
            "older than these may be missed; shorten its interval or raise [defaults] "
            "telegram_pages",
            feed.name,
            gathered.pages,
        )
    elif gathered.pages > 1:
        log.info("telegram pages read feed=%s pages=%d", feed.name, gathered.pages)
    return gathered.parsed
