"""What search needs about the articles it found: their text for the exact check, their
alerts with matched terms and deliveries, and the feeds that carried them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.model import Article
from monitor.store.backfill import as_article
from monitor.store.tables import Alert, Delivery, Entry, Feed, MatchRow
from monitor.store.tables import Article as ArticleRow

__all__ = ["AlertBrief", "StoredText", "alerts_of", "feed_id", "feeds_of", "texts"]


@dataclass(frozen=True)
class StoredText:
    """A stored article, as the exact check and the result list need it."""

    id: int
    article: Article
    stored_at: datetime
    story_id: int | None


@dataclass(frozen=True)
class AlertBrief:
    id: int
    created_at: datetime
    kind: str
    watchlists: tuple[str, ...]  # those it alerted
    terms: tuple[str, ...]  # the query parts that matched
    feed: str | None
    deliveries: tuple[tuple[str, str], ...]  # (channel, status)


def texts(s: Session, ids: Sequence[int]) -> list[StoredText]:
    """The articles with these ids, in the order given."""
    if not ids:
        return []
    rows = s.execute(
        select(
            ArticleRow.id,
            ArticleRow.url,
            ArticleRow.title,
            ArticleRow.text,
            ArticleRow.text_source,
            ArticleRow.language,
            ArticleRow.sitename,
            ArticleRow.published_at,
            ArticleRow.created_at,
            ArticleRow.story_id,
        ).where(ArticleRow.id.in_(list(ids)))
    ).all()
    by_id = {r.id: StoredText(r.id, as_article(r), r.created_at, r.story_id) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def alerts_of(s: Session, article_ids: Sequence[int]) -> dict[int, list[AlertBrief]]:
    """Each article's alerts, newest first."""
    found: dict[int, list[AlertBrief]] = defaultdict(list)
    if not article_ids:
        return found
    rows = s.execute(
        select(Alert, Feed.name)
        .outerjoin(Feed, Feed.id == Alert.feed_id)
        .where(Alert.article_id.in_(list(article_ids)))
        .order_by(Alert.id.desc())
    ).all()
    alert_ids = [a.id for a, _ in rows]
    terms: dict[int, dict[str, None]] = defaultdict(dict)
    matched: dict[int, dict[str, None]] = defaultdict(dict)
    sent: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if alert_ids:
        for alert_id, watchlist, term in s.execute(
            select(MatchRow.alert_id, MatchRow.watchlist, MatchRow.term)
            .where(MatchRow.alert_id.in_(alert_ids))
            .order_by(MatchRow.id)
        ):
            terms[alert_id][term] = None
            matched[alert_id][watchlist] = None
        for about, channel, status in s.execute(
            select(Delivery.alert_id, Delivery.channel, Delivery.status)
            .where(Delivery.alert_id.in_(alert_ids))
            .order_by(Delivery.channel)
        ):
            if about is not None:
                sent[about].append((channel, status))
    for alert, feed in rows:
        alerted = tuple(w for w in (alert.watchlists or "").split(",") if w)
        found[alert.article_id].append(
            AlertBrief(
                alert.id,
                alert.created_at,
                alert.kind,
                alerted or tuple(matched[alert.id]),
                tuple(terms[alert.id]),
                feed,
                tuple(sent[alert.id]),
            )
        )
    return found


def feeds_of(s: Session, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """The feeds whose entries link to each article, the first to carry it first."""
    found: dict[int, list[str]] = defaultdict(list)
    if not article_ids:
        return found
    for article_id, name in s.execute(
        select(Entry.article_id, Feed.name)
        .join(Feed, Feed.id == Entry.feed_id)
        .where(Entry.article_id.in_(list(article_ids)))
        .order_by(Entry.seen_at, Entry.id)
    ):
        if article_id is not None and name not in found[article_id]:
            found[article_id].append(name)
    return found


def feed_id(s: Session, name: str) -> tuple[int | None, list[str]]:
    """(the id of the feed with this name or None, every feed name known)."""
    known = {n: i for n, i in s.execute(select(Feed.name, Feed.id).order_by(Feed.name))}
    return known.get(name), list(known)
