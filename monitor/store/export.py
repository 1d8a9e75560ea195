"""Alerts for export, streamed newest first in batches: a million alerts never sit in
memory at once. Each batch is one keyset page (``created_at``, ``id``) and one query
for its matches, so a page costs the same at the start and at the end of the history
(an OR of the two conditions would make SQLite scan the index from the top every time)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_

from monitor.store.db import Database
from monitor.store.stories import source_name
from monitor.store.tables import Alert, Feed, MatchRow
from monitor.store.tables import Article as ArticleRow

__all__ = ["BATCH", "ExportRow", "count_alerts", "iter_alerts"]

BATCH = 500


@dataclass(frozen=True)
class ExportRow:
    """One alert as exported: what a feed reader or a spreadsheet needs, no more."""

    id: int
    created_at: datetime
    updated_at: datetime  # the alert, or the last edit of its article if later
    kind: str
    title: str
    url: str | None
    feed: str | None
    feed_url: str | None
    source: str
    published_at: datetime | None
    story_id: int | None
    watchlists: tuple[str, ...]
    terms: tuple[str, ...]
    snippet: str


def _filtered(query: Any, watchlist: str | None, since: datetime | None) -> Any:
    if watchlist:
        query = query.where(
            Alert.id.in_(select(MatchRow.alert_id).where(MatchRow.watchlist == watchlist))
        )
    if since:
        query = query.where(Alert.created_at >= since)
    return query


def count_alerts(
    db: Database, *, watchlist: str | None = None, since: datetime | None = None
) -> int:
    """How many alerts an export with these filters holds (before ``limit``)."""
    with db.session() as s:
        return int(s.scalar(_filtered(select(func.count(Alert.id)), watchlist, since)) or 0)


def iter_alerts(
    db: Database,
    *,
    watchlist: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    batch: int = BATCH,
) -> Iterator[ExportRow]:
    """Alerts newest first, ``batch`` rows per query, at most ``limit`` in all."""
    columns = (
        select(
            Alert.id,
            Alert.created_at,
            Alert.kind,
            Alert.watchlists,
            Alert.story_id,
            ArticleRow.title,
            ArticleRow.url,
            ArticleRow.sitename,
            ArticleRow.published_at,
            ArticleRow.updated_at,
            Feed.name,
            Feed.url,
        )
        .join(ArticleRow, ArticleRow.id == Alert.article_id)
        .outerjoin(Feed, Feed.id == Alert.feed_id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
    )
    query = _filtered(columns, watchlist, since)
    left = limit
    after: tuple[datetime, int] | None = None
    while left is None or left > 0:
        size = batch if left is None else min(batch, left)
        page = query.limit(size)
        if after is not None:
            created, last_id = after
            # the bound on created_at alone lets both databases seek in its index
            page = page.where(
                Alert.created_at <= created,
                tuple_(Alert.created_at, Alert.id) < (created, last_id),
            )
        rows = _page(db, page)
        yield from rows
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id)
        left = None if left is None else left - len(rows)


def _page(db: Database, query: Any) -> list[ExportRow]:
    with db.session() as s:
        found = s.execute(query).all()
        matched: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
        if found:
            for alert_id, wl, term, field, snippet in s.execute(
                select(
                    MatchRow.alert_id,
                    MatchRow.watchlist,
                    MatchRow.term,
                    MatchRow.field,
                    MatchRow.snippet,
                )
                .where(MatchRow.alert_id.in_([row[0] for row in found]))
                .order_by(MatchRow.id)
            ):
                matched[alert_id].append((wl, term, field, snippet))
    return [_row(row, matched[row[0]]) for row in found]


def _row(row: Any, matches: list[tuple[str, str, str, str]]) -> ExportRow:
    (alert_id, created, kind, alerted, story_id, title, url, site, published, edited) = row[:10]
    feed, feed_url = row[10], row[11]
    text_hits = [m for m in matches if m[2] == "text"] or matches
    watchlists = tuple(w for w in (alerted or "").split(",") if w)
    return ExportRow(
        id=alert_id,
        created_at=created,
        updated_at=max(created, edited) if edited else created,
        kind=kind,
        title=title,
        url=url,
        feed=feed,
        feed_url=feed_url,
        source=source_name(site, url),
        published_at=published,
        story_id=story_id,
        watchlists=watchlists or tuple(dict.fromkeys(m[0] for m in matches)),
        terms=tuple(dict.fromkeys(m[1] for m in matches)),
        snippet=text_hits[0][3] if text_hits else "",
    )
