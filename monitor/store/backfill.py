"""Running a watchlist over stored articles: reading them, and recording what it found.

``record_backfill`` is the one writer: per article, in one transaction, it creates the
article's alert when there is none yet (outbox rows only when asked to notify), or adds
the new match rows to the alert it has (rows already there are skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from monitor.model import Article, DeliveryStatus, Match, TextSource
from monitor.store.db import Database
from monitor.store.entries import _match_row
from monitor.store.tables import Alert, Delivery, MatchRow
from monitor.store.tables import Article as ArticleRow
from monitor.store.tables import Entry as EntryRow

__all__ = ["Backfilled", "StoredArticle", "count_articles", "read_articles", "record_backfill"]


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
        return [
            StoredArticle(
                row.id,
                Article(
                    url=row.url,
                    title=row.title,
                    text=row.text,
                    text_source=TextSource(row.text_source),
                    language=row.language,
                    sitename=row.sitename,
                    published=row.published_at,
                ),
            )
            for row in s.scalars(query)
        ]


def record_backfill(
    db: Database,
    article_id: int,
    matches: Sequence[Match],
    channels: Sequence[str],
    notify: bool,
    now: datetime,
) -> Backfilled | None:
    """Record a backfill's matches for one stored article; None when nothing was new."""
    if not matches:
        return None
    with db.session() as s:
        alert_id = s.scalar(select(Alert.id).where(Alert.article_id == article_id))
        is_new = alert_id is None
        if alert_id is None:
            feed_id = s.scalar(
                select(func.min(EntryRow.feed_id)).where(EntryRow.article_id == article_id)
            )
            try:
                with s.begin_nested():
                    alert = Alert(article_id=article_id, feed_id=feed_id, created_at=now)
                    s.add(alert)
                    s.flush()
                    alert_id = alert.id
            except IntegrityError:  # the daemon alerted on it meanwhile
                alert_id = s.scalar(select(Alert.id).where(Alert.article_id == article_id))
                is_new = False
        assert alert_id is not None
        known = {
            (r.watchlist, r.field, r.start, r.end)
            for r in s.scalars(select(MatchRow).where(MatchRow.alert_id == alert_id))
        }
        rows = [
            _match_row(alert_id, m)
            for m in matches
            if (m.watchlist, m.field, m.start, m.end) not in known
        ]
        s.add_all(rows)
        queued = 0
        if notify:
            routed = set(s.scalars(select(Delivery.channel).where(Delivery.alert_id == alert_id)))
            for channel in dict.fromkeys(channels):
                if channel not in routed:
                    s.add(
                        Delivery(
                            alert_id=alert_id,
                            channel=channel,
                            status=DeliveryStatus.PENDING.value,
                            attempts=0,
                            created_at=now,
                            next_attempt_at=now,
                        )
                    )
                    queued += 1
        if not rows and not queued and not is_new:
            return None
        return Backfilled(alert_id, is_new, len(rows), queued)
