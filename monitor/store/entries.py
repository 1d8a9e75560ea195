"""Recording entries: which are new, and the one transaction that stores an outcome.

An entry is marked seen only together with its outcome (article, alert, outbox rows),
so a crash between fetch and store means the entry is simply processed again.
Uniqueness is enforced by the database: (feed, entry key), article URL key, one alert
per article, one delivery per (alert, channel). Racing instances cannot double-alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.model import Article, DeliveryStatus, Entry, Match
from monitor.store.db import Database
from monitor.store.tables import Alert, Delivery, MatchRow
from monitor.store.tables import Article as ArticleRow
from monitor.store.tables import Entry as EntryRow

__all__ = ["absorb_backlog", "article_exists", "new_entries", "record_entry"]

_CHUNK = 500


def new_entries(db: Database, feed_id: int, entries: Sequence[Entry]) -> list[Entry]:
    """The entries this feed has not recorded yet, first occurrence only, in feed order."""
    keys = list(dict.fromkeys(e.key for e in entries))
    known: set[str] = set()
    with db.session() as s:
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            query = select(EntryRow.key).where(EntryRow.feed_id == feed_id, EntryRow.key.in_(chunk))
            known.update(s.scalars(query))
    fresh: dict[str, Entry] = {}
    for entry in entries:
        if entry.key not in known and entry.key not in fresh:
            fresh[entry.key] = entry
    return list(fresh.values())


def article_exists(db: Database, url_key: str) -> bool:
    with db.session() as s:
        return s.scalar(select(ArticleRow.id).where(ArticleRow.url_key == url_key)) is not None


def absorb_backlog(db: Database, feed_id: int, entries: Iterable[Entry], now: datetime) -> int:
    """Record a new feed's existing entries as seen, without articles or alerts."""
    count = 0
    with db.session() as s:
        for entry in entries:
            s.add(_entry_row(feed_id, entry, None, now, is_backlog=True))
            count += 1
    return count


def record_entry(
    db: Database,
    /,
    *,
    feed_id: int,
    entry: Entry,
    url_key: str,
    article: Article | None,
    matches: Sequence[Match],
    channels: Sequence[str],
    now: datetime,
) -> int | None:
    """Store the entry, its article and, when it matched, one alert with its outbox rows.

    Returns the new alert's id, or None when nothing was alerted (no match, or the
    article had already alerted through another feed or another instance).
    """
    with db.session() as s:
        try:
            with s.begin_nested():
                row = _entry_row(feed_id, entry, None, now, is_backlog=False)
                s.add(row)
        except IntegrityError:
            return None  # another instance recorded this entry first
        row.article_id = _article_id(s, url_key, article, now)
        if not matches or row.article_id is None:
            return None
        try:
            with s.begin_nested():
                alert = Alert(article_id=row.article_id, feed_id=feed_id, created_at=now)
                s.add(alert)
                s.flush()
        except IntegrityError:
            return None  # this article already alerted
        s.add_all(_match_row(alert.id, m) for m in matches)
        s.add_all(
            Delivery(
                alert_id=alert.id,
                channel=ch,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            for ch in dict.fromkeys(channels)
        )
        return alert.id


def _article_id(s: Session, url_key: str, article: Article | None, now: datetime) -> int | None:
    found = s.scalar(select(ArticleRow.id).where(ArticleRow.url_key == url_key))
    if found is not None or article is None:
        return found
    try:
        with s.begin_nested():
            row = ArticleRow(
                url_key=url_key,
                url=article.url,
                title=article.title,
                text=article.text,
                text_source=article.text_source.value,
                language=article.language,
                sitename=article.sitename,
                published_at=article.published,
                created_at=now,
                fetch_error=article.error,
            )
            s.add(row)
            s.flush()
            return row.id
    except IntegrityError:
        return s.scalar(select(ArticleRow.id).where(ArticleRow.url_key == url_key))


def _entry_row(
    feed_id: int, entry: Entry, article_id: int | None, now: datetime, *, is_backlog: bool
) -> EntryRow:
    return EntryRow(
        feed_id=feed_id,
        key=entry.key,
        article_id=article_id,
        title=entry.title[:2000],
        link=entry.link,
        published_at=entry.published,
        seen_at=now,
        is_backlog=is_backlog,
    )


def _match_row(alert_id: int, m: Match) -> MatchRow:
    return MatchRow(
        alert_id=alert_id,
        watchlist=m.watchlist,
        term=m.term,
        field=m.field,
        start=m.start,
        end=m.end,
        snippet=m.snippet,
        found=m.found,
    )
