"""Running a watchlist over stored articles: reading them, and recording what it found.

``record_backfill`` is the one writer: per article, in one transaction, it raises an
alert for the watchlists the article's story has not alerted yet (outbox rows only when
asked to notify); a story that already alerted a watchlist is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from monitor.model import Article, Match, TextSource
from monitor.store import alerting
from monitor.store.db import Database
from monitor.store.tables import Article as ArticleRow
from monitor.store.tables import Delivery, MatchRow
from monitor.store.tables import Entry as EntryRow

__all__ = [
    "Backfilled",
    "StoredArticle",
    "as_article",
    "count_articles",
    "read_articles",
    "record_backfill",
]


@dataclass(frozen=True)
class StoredArticle:
    id: int
    article: Article


@dataclass(frozen=True)
class Backfilled:
    alert_id: int
    is_new_alert: bool
    added: int  # match rows added
    queued: int  # outbox rows added


def as_article(row: Any) -> Article:
    """The article of a stored row: an ``articles`` row, or a result with its columns."""
    return Article(
        url=row.url,
        title=row.title,
        text=row.text,
        text_source=TextSource(row.text_source),
        language=row.language,
        sitename=row.sitename,
        published=row.published_at,
    )


def count_articles(db: Database, since: datetime | None = None) -> int:
    query = select(func.count(ArticleRow.id))
    if since is not None:
        query = query.where(ArticleRow.created_at >= since)
    with db.session() as s:
        return int(s.scalar(query) or 0)


def read_articles(
    db: Database, *, after_id: int = 0, since: datetime | None = None, limit: int = 200
) -> list[StoredArticle]:
    """Stored articles in id order, a page at a time (``after_id`` = the last id seen)."""
    query = select(ArticleRow).where(ArticleRow.id > after_id).order_by(ArticleRow.id).limit(limit)
    if since is not None:
        query = query.where(ArticleRow.created_at >= since)
    with db.session() as s:
        return [StoredArticle(row.id, as_article(row)) for row in s.scalars(query)]


def record_backfill(
    db: Database,
    article_id: int,
    matches: Sequence[Match],
    channels: Sequence[str],
    notify: bool,
    now: datetime,
) -> Backfilled | None:
    """Record a backfill's matches for one stored article; None when nothing was new.

    As in the pipeline, a story alerts each watchlist once: the alert is raised only for
    the watchlists the article's story has not alerted yet, with outbox rows only when
    asked to notify.
    """
    if not matches:
        return None
    with db.session() as s:
        story_id = s.scalar(select(ArticleRow.story_id).where(ArticleRow.id == article_id))
        if story_id is None:
            return None
        feed_id = s.scalar(
            select(func.min(EntryRow.feed_id)).where(EntryRow.article_id == article_id)
        )
        wanted = dict.fromkeys(m.watchlist for m in matches)
        routes = {wl: list(channels) for wl in wanted} if notify else {}
        where = alerting.Where(feed_id, article_id, story_id, routes, now)
        alert_id = alerting.alert(s, where, matches)
        if alert_id is None:
            return None
        added = s.scalar(select(func.count(MatchRow.id)).where(MatchRow.alert_id == alert_id))
        queued = s.scalar(select(func.count(Delivery.id)).where(Delivery.alert_id == alert_id))
        return Backfilled(alert_id, True, int(added or 0), int(queued or 0))
