"""Events in the database: document frequencies, profiles, the event index, as plain values.

Runs inside the transaction that stores the article, after ``stories.lock_stories``.
What a profile holds and which event an article joins is decided by the caller's
``EventQuery`` callables (monitor/stories/events.py); this module only reads and writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from monitor.store.db import insert_for
from monitor.store.tables import EventProfile, EventTerm, Story, TermCount

__all__ = [
    "EVENTS",
    "MEMBERS",
    "EventQuery",
    "Placed",
    "add_profile",
    "event_of",
    "join_event",
    "place",
]

EVENTS = 5  # candidate events compared, most shared index terms first
MEMBERS = 50  # newest members of a candidate event read within the window
_POSTINGS = 5000  # index rows read at most: a term common in the window costs no more
_TOTAL = 0  # term_counts key holding how many articles were counted
_COUNTS = cast(Table, TermCount.__table__)

# (event id, [(publication time, stored profile)])
Candidates = Sequence[tuple[int, Sequence[tuple[datetime, bytes]]]]


@dataclass(frozen=True)
class EventQuery:
    """What places an article in an event."""

    terms: Sequence[int]  # the article's term keys
    at: datetime  # its publication time
    window: float  # seconds: events reported this close in time are candidates
    # given document frequencies and how many articles were counted: the profile to
    # store and the index keys to find candidates (and to store)
    weigh: Callable[[Mapping[int, int], int], tuple[bytes, Sequence[int]]]
    # given the profile and candidate events: the event to join, or None
    pick: Callable[[bytes, Candidates], int | None]


@dataclass(frozen=True)
class Placed:
    event_id: int | None  # None: a new event
    profile: bytes
    keys: Sequence[int]


# built once: these run for every new article
_COUNTED = select(TermCount.term, TermCount.documents).where(
    TermCount.term.in_(bindparam("terms", expanding=True))
)
_POSTED = (  # the events of the window's articles that share index terms
    select(EventTerm.event_id)
    .where(
        EventTerm.term.in_(bindparam("keys", expanding=True)),
        EventTerm.at.between(bindparam("low"), bindparam("high")),
    )
    .limit(_POSTINGS)
    .subquery()
)
_SHARED = func.count().label("shared")
_RANKED = (
    select(_POSTED.c.event_id, _SHARED)
    .group_by(_POSTED.c.event_id)
    .order_by(_SHARED.desc(), _POSTED.c.event_id.desc())
    .limit(EVENTS)
)
_MEMBERS = (
    select(EventProfile.event_id, EventProfile.at, EventProfile.profile)
    .where(
        EventProfile.event_id.in_(bindparam("events", expanding=True)),
        EventProfile.at.between(bindparam("low"), bindparam("high")),
    )
    .order_by(EventProfile.at.desc())
    .limit(EVENTS * MEMBERS)
)
_EVENT_OF = select(Story.event_id).where(Story.id == bindparam("story"))
_SET_EVENT = update(Story).where(Story.id == bindparam("story")).values(event_id=bindparam("event"))
_REPORTED = (
    update(Story)
    .where(
        Story.id == bindparam("event"),
        or_(Story.reported_at.is_(None), Story.reported_at < bindparam("at")),
    )
    .values(reported_at=bindparam("at"))
)
_INSERT_PROFILE = insert(EventProfile)
_INSERT_TERMS = insert(EventTerm)


def place(s: Session, query: EventQuery) -> Placed:
    """The event a new story's article joins, and what to store for it."""
    conn = s.connection()
    wanted = [_TOTAL, *dict.fromkeys(query.terms)]
    counted = conn.execute(_COUNTED, {"terms": wanted})
    found = {int(term): int(documents) for term, documents in counted}
    total = found.pop(_TOTAL, 0)
    profile, keys = query.weigh(found, total)
    if not keys:
        return Placed(None, profile, keys)
    reach = timedelta(seconds=query.window)
    span = {"low": query.at - reach, "high": query.at + reach}
    ranked = conn.execute(_RANKED, {"keys": list(keys), **span}).all()
    events = [int(e) for e, _ in ranked if e is not None]
    if not events:
        return Placed(None, profile, keys)
    members: dict[int, list[tuple[datetime, bytes]]] = defaultdict(list)
    for event_id, at, stored in conn.execute(_MEMBERS, {"events": events, **span}):
        if event_id is not None and len(members[event_id]) < MEMBERS:
            members[event_id].append((at, bytes(stored)))
    return Placed(query.pick(profile, list(members.items())), profile, keys)


def event_of(s: Session, story_id: int) -> int | None:
    found = s.connection().execute(_EVENT_OF, {"story": story_id}).scalar()
    return None if found is None else int(found)


def join_event(s: Session, story_id: int, event_id: int, at: datetime | None) -> None:
    """The story reports this event; the event was last reported at ``at`` (if later)."""
    conn = s.connection()
    conn.execute(_SET_EVENT, {"story": story_id, "event": event_id})
    if at is not None:
        conn.execute(_REPORTED, {"event": event_id, "at": at})


def add_profile(
    s: Session, article_id: int, event_id: int, query: EventQuery, placed: Placed
) -> None:
    """Store the article's profile and index keys in its event, and count its terms."""
    conn = s.connection()
    where = {"article_id": article_id, "at": query.at, "event_id": event_id}
    conn.execute(_INSERT_PROFILE, {**where, "profile": placed.profile})
    keys = list(dict.fromkeys(placed.keys))
    if keys:
        conn.execute(_INSERT_TERMS, [{**where, "term": k} for k in keys])
    rows = [{"term": t} for t in sorted({_TOTAL, *query.terms})]
    conn.execute(_count_up(conn.dialect.name == "postgresql"), rows)


@lru_cache(maxsize=2)
def _count_up(is_postgresql: bool) -> Any:
    """One more article with each term."""
    return (
        insert_for("postgresql" if is_postgresql else "sqlite")(_COUNTS)
        .values(term=bindparam("term"), documents=1)
        .on_conflict_do_update(
            index_elements=[_COUNTS.c.term], set_={"documents": _COUNTS.c.documents + 1}
        )
    )
