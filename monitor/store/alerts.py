"""Alert history: listing and one alert in full, with its story, as dataclasses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select

from monitor.model import Match
from monitor.store.db import Database
from monitor.store.found import feeds_of
from monitor.store.stories import Member, event_members, members, source_name
from monitor.store.tables import Alert, Delivery, Feed, MatchRow, Story
from monitor.store.tables import Article as ArticleRow

__all__ = [
    "AlertView",
    "DeliveryView",
    "StoryView",
    "alerted_watchlists",
    "get_alert",
    "list_alerts",
]


@dataclass(frozen=True)
class DeliveryView:
    id: int
    channel: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class StoryView:
    """The story an alert belongs to, with every article recorded on it so far."""

    id: int
    title: str
    first_seen_at: datetime
    members: list[Member] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(m.source for m in self.members))


@dataclass(frozen=True)
class AlertView:
    id: int
    created_at: datetime
    title: str
    url: str | None
    feed: str | None
    sitename: str | None
    published_at: datetime | None
    text_source: str
    text: str
    matches: list[Match] = field(default_factory=list)
    deliveries: list[DeliveryView] = field(default_factory=list)
    article_id: int = 0
    kind: str = "new"  # new; correction (headline or lead changed); growth (more sources)
    diff: str | None = None  # what a correction changed
    alerted: tuple[str, ...] = ()  # the watchlists this alert is for
    story: StoryView | None = None

    @property
    def watchlists(self) -> list[str]:
        return list(self.alerted) or list(dict.fromkeys(m.watchlist for m in self.matches))

    @property
    def source(self) -> str:
        return source_name(self.sitename, self.url)

    @property
    def others(self) -> list[Member]:
        """The story's other articles, from sources other than this alert's."""
        if self.story is None:
            return []
        return [
            m
            for m in self.story.members
            if m.article_id != self.article_id and m.source != self.source
        ]

    @property
    def also_reported_by(self) -> int:
        """How many other sources carry the story ("also reported by 4 sources")."""
        return len({m.source for m in self.others})

    @property
    def terms(self) -> list[str]:
        return list(dict.fromkeys(m.term for m in self.matches))

    @property
    def snippet(self) -> str:
        text_hits = [m for m in self.matches if m.field == "text"]
        return (text_hits or self.matches)[0].snippet if self.matches else ""


def _base() -> Any:
    return (
        select(Alert, ArticleRow, Feed.name, Story)
        .join(ArticleRow, ArticleRow.id == Alert.article_id)
        .outerjoin(Feed, Feed.id == Alert.feed_id)
        .outerjoin(Story, Story.id == Alert.story_id)
    )


def list_alerts(
    db: Database,
    *,
    watchlist: str | None = None,
    feed: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
) -> list[AlertView]:
    """Newest first."""
    query = _base().order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    if watchlist:
        # checked per alert, newest first: the page stops after ``limit`` hits instead of
        # collecting and sorting every alert of the watchlist
        query = query.where(
            exists().where(MatchRow.alert_id == Alert.id, MatchRow.watchlist == watchlist)
        )
    if feed:
        query = query.where(Feed.name == feed)
    if since:
        query = query.where(Alert.created_at >= since)
    if until:
        query = query.where(Alert.created_at < until)
    return _views(db, query)


def alerted_watchlists(db: Database, alert_ids: Sequence[int]) -> list[str]:
    """The watchlists these alerts are for, once per alert (no query for no alert)."""
    if not alert_ids:
        return []
    with db.session() as s:
        query = select(Alert.watchlists).where(Alert.id.in_(list(alert_ids)))
        return [w for names in s.scalars(query) for w in (names or "").split(",") if w]


def get_alert(db: Database, alert_id: int) -> AlertView | None:
    """One alert, with the feeds that carried each article of its story."""
    views = _views(db, _base().where(Alert.id == alert_id))
    if not views:
        return None
    view = views[0]
    if view.story is None:
        return view
    with db.session() as s:
        feeds = feeds_of(s, [m.article_id for m in view.story.members])
    crowd = [replace(m, feeds=tuple(feeds.get(m.article_id, ()))) for m in view.story.members]
    return replace(view, story=replace(view.story, members=crowd))


def _views(db: Database, query: Any) -> list[AlertView]:
    with db.session() as s:
        rows = s.execute(query).all()
        ids = [alert.id for alert, _, _, _ in rows]
        crowd = event_members(
            s, (story.event_id or story.id for _, _, _, story in rows if story is not None)
        )
        alone = members(  # stories stored before events: their own members
            s, (story.id for _, _, _, story in rows if story is not None and not story.event_id)
        )
        crowd.update(alone)
        matches: dict[int, list[Match]] = defaultdict(list)
        deliveries: dict[int | None, list[DeliveryView]] = defaultdict(list)
        if ids:
            for m in s.scalars(
                select(MatchRow).where(MatchRow.alert_id.in_(ids)).order_by(MatchRow.id)
            ):
                matches[m.alert_id].append(
                    Match(m.watchlist, m.term, m.field, m.start, m.end, m.snippet, m.found)
                )
            for d in s.scalars(
                select(Delivery).where(Delivery.alert_id.in_(ids)).order_by(Delivery.channel)
            ):
                assert d.alert_id is not None
                deliveries[d.alert_id].append(
                    DeliveryView(
                        d.id,
                        d.channel,
                        d.status,
                        d.attempts,
                        d.last_error,
                        d.next_attempt_at,
                        d.sent_at,
                    )
                )
        return [
            AlertView(
                id=alert.id,
                created_at=alert.created_at,
                title=art.title,
                url=art.url,
                feed=feed_name,
                sitename=art.sitename,
                published_at=art.published_at,
                text_source=art.text_source,
                text=art.text,
                matches=matches[alert.id],
                deliveries=deliveries[alert.id],
                article_id=art.id,
                kind=alert.kind,
                diff=alert.diff,
                alerted=tuple(w for w in (alert.watchlists or "").split(",") if w),
                story=None
                if story is None
                else StoryView(
                    story.event_id or story.id,
                    story.title,
                    story.first_seen_at,
                    crowd[story.event_id or story.id],
                ),
            )
            for alert, art, feed_name, story in rows
        ]
