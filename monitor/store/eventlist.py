"""Reading event stories: the newest first, one with every report, as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select

from monitor.store.db import Database
from monitor.store.found import feeds_of
from monitor.store.stories import Member, event_members
from monitor.store.tables import Story, StoryClaim

__all__ = ["EventView", "get_event", "list_events"]


@dataclass(frozen=True)
class EventView:
    """An event: its first story's headline, when it was seen, every report, oldest first."""

    id: int
    title: str
    first_seen_at: datetime
    last_seen_at: datetime
    members: list[Member] = field(default_factory=list)


def list_events(
    db: Database,
    *,
    since: datetime | None = None,
    watchlist: str | None = None,
    limit: int | None = 50,
    event_id: int | None = None,
) -> list[EventView]:
    """Events seen since ``since`` (claimed by ``watchlist``), the most recently seen first."""
    last = func.max(Story.last_seen_at)
    query = (
        select(Story.event_id, func.min(Story.first_seen_at), last)
        .where(Story.event_id.is_not(None))
        .group_by(Story.event_id)
        .order_by(last.desc(), Story.event_id.desc())
    )
    if since is not None:
        query = query.having(last >= since)
    if event_id is not None:
        query = query.where(Story.event_id == event_id)
    if watchlist is not None:
        claimed = (
            select(Story.event_id)
            .join(StoryClaim, StoryClaim.story_id == Story.id)
            .where(StoryClaim.watchlist == watchlist)
        )
        query = query.where(Story.event_id.in_(claimed))
    if limit is not None:
        query = query.limit(limit)
    with db.session() as s:
        rows = [(int(e), first, latest) for e, first, latest in s.execute(query) if e is not None]
        ids = [e for e, _, _ in rows]
        titles = {
            int(i): str(t)
            for i, t in s.execute(select(Story.id, Story.title).where(Story.id.in_(ids)))
        }
        crowd = event_members(s, ids)
        feeds = feeds_of(s, [m.article_id for e in ids for m in crowd.get(e, [])])
    return [
        EventView(
            e,
            titles.get(e, ""),
            first,
            latest,
            [replace(m, feeds=tuple(feeds.get(m.article_id, ()))) for m in crowd.get(e, [])],
        )
        for e, first, latest in rows
    ]


def get_event(db: Database, story_id: int) -> EventView | None:
    """The event of this story (an event's id is its first story's)."""
    with db.session() as s:
        event_id = s.scalar(select(Story.event_id).where(Story.id == story_id))
    found = list_events(db, event_id=event_id or story_id, limit=1)
    return found[0] if found else None
