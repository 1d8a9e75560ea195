"""Alert history: listing and one alert in full, with its story, as dataclasses.

Read with Core statements on monitor/store/schema.py: ``newsmon alerts list`` does not
import the ORM."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, select

from monitor.model import Match
from monitor.store.db import Database
from monitor.store.members import Member, event_members, members, source_name
from monitor.store.schema import alerts, articles, deliveries, feeds, matches, stories

__all__ = [
    "AlertView",
    "DeliveryView",
    "StoryView",
    "alerts_by_id",
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
    def also_languages(self) -> list[str]:
        """The languages the other sources' reports are in, as far as known ("in 2
        languages")."""
        return sorted({m.language for m in self.others if m.language})

    @property
    def terms(self) -> list[str]:
        return list(dict.fromkeys(m.term for m in self.matches))

    @property
    def snippet(self) -> str:
        text_hits = [m for m in self.matches if m.field == "text"]
        return (text_hits or self.matches)[0].snippet if self.matches else ""


_A, _ART, _S = alerts.c, articles.c, stories.c


def _base() -> Any:
    return (
        select(
            _A.id,
            _A.created_at,
            _A.kind,
            _A.diff,
            _A.watchlists,
            _ART.id.label("article_id"),
            _ART.title,
            _ART.url,
            _ART.sitename,
            _ART.published_at,
            _ART.text_source,
            _ART.text,
            feeds.c.name.label("feed"),
            _S.id.label("story_id"),
            _S.title.label("story_title"),
            _S.first_seen_at.label("story_first_seen_at"),
            _S.event_id.label("story_event_id"),
        )
        .select_from(alerts)
        .join(articles, _ART.id == _A.article_id)
        .outerjoin(feeds, feeds.c.id == _A.feed_id)
        .outerjoin(stories, _S.id == _A.story_id)
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
    query = _base().order_by(_A.created_at.desc(), _A.id.desc()).limit(limit)
    if watchlist:
        # checked per alert, newest first: the page stops after ``limit`` hits instead of
        # collecting and sorting every alert of the watchlist
        m = matches.c
        query = query.where(exists().where(m.alert_id == _A.id, m.watchlist == watchlist))
    if feed:
        query = query.where(feeds.c.name == feed)
    if since:
        query = query.where(_A.created_at >= since)
    if until:
        query = query.where(_A.created_at < until)
    return _views(db, query)


def get_alert(db: Database, alert_id: int) -> AlertView | None:
    """One alert, with the feeds that carried each article of its story."""
    from monitor.store.found import feeds_of

    views = _views(db, _base().where(_A.id == alert_id))
    if not views:
        return None
    view = views[0]
    if view.story is None:
        return view
    with db.session() as s:
        feeds_by = feeds_of(s, [m.article_id for m in view.story.members])
    crowd = [replace(m, feeds=tuple(feeds_by.get(m.article_id, ()))) for m in view.story.members]
    return replace(view, story=replace(view.story, members=crowd))


def alerts_by_id(conn: Connection, alert_ids: Sequence[int]) -> dict[int, AlertView]:
    """Alerts as a message needs them (matches, story and its members; no deliveries, no
    feeds per member), read on ``conn`` in four statements however many."""
    if not alert_ids:
        return {}
    query = _base().where(_A.id.in_(list(dict.fromkeys(alert_ids))))
    return {v.id: v for v in _views_on(conn, query, is_with_deliveries=False)}


def _views(db: Database, query: Any) -> list[AlertView]:
    with db.connection() as conn:
        return _views_on(conn, query)


def _views_on(conn: Connection, query: Any, *, is_with_deliveries: bool = True) -> list[AlertView]:
    rows = conn.execute(query).all()
    ids = [row.id for row in rows]
    crowd = event_members(conn, (row.story_event_id for row in rows if row.story_event_id))
    crowd.update(  # stories stored before events: their own members
        members(conn, (r.story_id for r in rows if r.story_id and not r.story_event_id))
    )
    found = _matches(conn, ids)
    sent = _deliveries(conn, ids) if is_with_deliveries else defaultdict(list)
    return [
        AlertView(
            id=row.id,
            created_at=row.created_at,
            title=row.title,
            url=row.url,
            feed=row.feed,
            sitename=row.sitename,
            published_at=row.published_at,
            text_source=row.text_source,
            text=row.text,
            matches=found[row.id],
            deliveries=sent[row.id],
            article_id=row.article_id,
            kind=row.kind,
            diff=row.diff,
            alerted=tuple(w for w in (row.watchlists or "").split(",") if w),
            story=None
            if row.story_id is None
            else StoryView(  # the story's event: every outlet's report
                row.story_event_id or row.story_id,
                row.story_title,
                row.story_first_seen_at,
                crowd[row.story_event_id or row.story_id],
            ),
        )
        for row in rows
    ]


def _matches(conn: Connection, ids: list[int]) -> dict[int, list[Match]]:
    found: dict[int, list[Match]] = defaultdict(list)
    if not ids:
        return found
    m = matches.c
    query = select(
        m.alert_id, m.watchlist, m.term, m.field, m.start, m.end, m.snippet, m.found
    ).where(m.alert_id.in_(ids))
    for alert_id, *hit in conn.execute(query.order_by(m.id)):
        found[alert_id].append(Match(*hit))
    return found


def _deliveries(conn: Connection, ids: list[int]) -> dict[int, list[DeliveryView]]:
    found: dict[int, list[DeliveryView]] = defaultdict(list)
    if not ids:
        return found
    d = deliveries.c
    query = select(
        d.alert_id, d.id, d.channel, d.status, d.attempts, d.last_error, d.next_attempt_at
    ).add_columns(d.sent_at)
    for alert_id, *rest in conn.execute(query.where(d.alert_id.in_(ids)).order_by(d.channel)):
        found[alert_id].append(DeliveryView(*rest))
    return found
