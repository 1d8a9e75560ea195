"""Synthetic alert history with chosen timestamps, stored through the store's own write
path (``record_entry``: entry, article, story, claims, matches, counts and outbox rows in
one transaction), so what stats and spikes read is what the pipeline would have written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import count

from monitor.model import Article, Entry, Match, TextSource
from monitor.pipeline.entry import index_words
from monitor.store import entries as entry_store
from monitor.store.db import Database

_KEYS = count(1)


def add_alert(
    db: Database,
    when: datetime,
    watchlists: Sequence[str],
    *,
    feed_id: int = 1,
    terms: Sequence[str] = ("term",),
    routes: Mapping[str, Sequence[str]] | None = None,
) -> list[int]:
    """A new article, in a story of its own, that alerts ``watchlists`` at ``when`` with a
    match of each of ``terms``; no deliveries unless ``routes`` are given. Its alert ids."""
    key = f"synthetic-{next(_KEYS)}"
    text = " ".join(terms) + " in the news."
    entry = Entry(key=key, link=f"http://127.0.0.1/{key}", title=key, summary="", published=None)
    matches = [
        Match(w, t, "text", 0, len(t), text, t) for w in watchlists for t in dict.fromkeys(terms)
    ]
    article = Article(entry.link, key, text, TextSource.PAGE)
    outcome = entry_store.Outcome(
        entry=entry,
        url_key=f"127.0.0.1/{key}",
        article=article,
        matches=matches,
        routes=routes or {},
        words=index_words(article),
    )
    return entry_store.record_entry(db, feed_id=feed_id, outcome=outcome, now=when)
