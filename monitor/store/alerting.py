"""Raising alerts inside the transaction that stores an article: claims, matches, outbox
and the hourly counts (monitor/store/counts.py).

A story alerts each watchlist once: the alert is kept only for the watchlists whose
(story, watchlist) claim this transaction wins (see stories.claim). Watchlists claim the
story's event (its first story's id), except those that want every story of copies
(``copies_only``). A correction goes to the watchlists the edited article had alerted,
with what changed. A growth alert goes to the watchlists an event has alerted once it
reaches a number of sources (what to announce is the caller's ``Growth``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from monitor.model import DeliveryStatus, Match
from monitor.store import counts, stories
from monitor.store.tables import Alert, Delivery, MatchRow, StoryClaim

__all__ = ["Growth", "Where", "alert", "alerted_by", "correction", "growth"]

# (sources announced so far, the event's members, when the claim was made) ->
# (sources now, what to say) or None
Growth = Callable[[int, Sequence[stories.Member], datetime], tuple[int, str] | None]
# Core statements, built once: they run for every alert
_ALERTS = cast(Table, Alert.__table__)
_INSERT_ALERT = insert(_ALERTS).returning(_ALERTS.c.id)
_INSERT_MATCHES = insert(cast(Table, MatchRow.__table__))
_INSERT_DELIVERIES = insert(cast(Table, Delivery.__table__))


@dataclass(frozen=True)
class Where:
    """Which article and story an alert is about, and where its watchlists send."""

    feed_id: int | None
    article_id: int
    story_id: int
    routes: Mapping[str, Sequence[str]]
    now: datetime
    event_id: int | None = None  # the story's event (None: the story is its own)
    copies_only: frozenset[str] = field(default_factory=frozenset)

    def claimed(self, watchlist: str) -> int:
        """The story or event a watchlist's claim is on."""
        if self.event_id is None or watchlist in self.copies_only:
            return self.story_id
        return self.event_id


def alert(
    s: Session, where: Where, matches: Sequence[Match], raised: list[str] | None = None
) -> int | None:
    """An alert for the matched watchlists this story (or event) has not alerted yet;
    its watchlists are added to ``raised``."""
    wanted = list(dict.fromkeys(m.watchlist for m in matches))
    if not wanted:
        return None
    alert_id = _new_alert(s, where, watchlists=",".join(wanted))  # as it will be, mostly
    by_claim: dict[int, list[str]] = defaultdict(list)
    for watchlist in wanted:
        by_claim[where.claimed(watchlist)].append(watchlist)
    won = [
        w
        for key, lists in by_claim.items()
        for w in stories.claim(s, key, lists, alert_id, where.now)
    ]
    if not won:
        s.connection().execute(delete(_ALERTS).where(_ALERTS.c.id == alert_id))
        return None
    if won != wanted:
        s.connection().execute(
            update(_ALERTS).where(_ALERTS.c.id == alert_id).values(watchlists=",".join(won))
        )
    kept = [m for m in matches if m.watchlist in won]
    _outbox(s, where, alert_id, kept, won)
    counts.count_alert(s, where.now, won, where.feed_id, ((m.watchlist, m.term) for m in kept))
    if raised is not None:
        raised += won
    return alert_id


def alerted_by(s: Session, article_id: int, story_id: int) -> list[str]:
    """The watchlists this article has alerted for its story."""
    return list(
        s.scalars(
            select(StoryClaim.watchlist)
            .join(Alert, Alert.id == StoryClaim.alert_id)
            .where(Alert.article_id == article_id, StoryClaim.story_id == story_id)
            .order_by(StoryClaim.watchlist)
        )
    )


def correction(
    s: Session,
    where: Where,
    matches: Sequence[Match],
    alerted: Sequence[str],
    diff: str,
    raised: list[str] | None = None,
) -> int:
    """A correction, with what changed, for the watchlists the article had alerted
    (added to ``raised``)."""
    alert_id = _new_alert(s, where, kind="correction", diff=diff, watchlists=",".join(alerted))
    _outbox(s, where, alert_id, [m for m in matches if m.watchlist in alerted], alerted)
    if raised is not None:
        raised += alerted
    return alert_id


def growth(s: Session, where: Where, due: Growth, raised: list[str] | None = None) -> list[int]:
    """Growth alerts for the watchlists this event has alerted, once per threshold
    (their watchlists added to ``raised``)."""
    if where.event_id is None:
        return []
    claims = [
        c
        for c in s.scalars(select(StoryClaim).where(StoryClaim.story_id == where.event_id))
        if c.watchlist not in where.copies_only
    ]
    if not claims:
        return []
    crowd = stories.event_members(s, [where.event_id]).get(where.event_id, [])
    announce: dict[tuple[int, str], list[StoryClaim]] = defaultdict(list)
    for c in claims:
        found = due(c.grown_to, crowd, c.created_at)
        if found is not None:
            announce[found].append(c)
    made = []
    for (sources, summary), grown in announce.items():
        watchlists = [c.watchlist for c in grown]
        listed = ",".join(watchlists)
        alert_id = _new_alert(s, where, kind="growth", diff=summary, watchlists=listed)
        _outbox(s, where, alert_id, [], watchlists)
        s.execute(
            update(StoryClaim)
            .where(StoryClaim.story_id == where.event_id, StoryClaim.watchlist.in_(watchlists))
            .values(grown_to=sources)
        )
        made.append(alert_id)
        if raised is not None:
            raised += watchlists
    return made


def _new_alert(s: Session, where: Where, kind: str = "new", **extra: str) -> int:
    values = {
        "article_id": where.article_id,
        "story_id": where.story_id,
        "feed_id": where.feed_id,
        "created_at": where.now,
        "kind": kind,
        "diff": None,
    }
    return int(s.connection().execute(_INSERT_ALERT, values | extra).scalar_one())


def _outbox(
    s: Session, where: Where, alert_id: int, matches: Iterable[Match], watchlists: Sequence[str]
) -> None:
    rows = [_match_row(alert_id, m) for m in matches]
    if rows:
        s.connection().execute(_INSERT_MATCHES, rows)
    channels = dict.fromkeys(ch for wl in watchlists for ch in where.routes.get(wl, ()))
    deliveries = [
        {
            "alert_id": alert_id,
            "channel": ch,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": where.now,
            "next_attempt_at": where.now,
        }
        for ch in channels
    ]
    if deliveries:
        s.connection().execute(_INSERT_DELIVERIES, deliveries)


def _match_row(alert_id: int, m: Match) -> dict[str, object]:
    return {
        "alert_id": alert_id,
        "watchlist": m.watchlist,
        "term": m.term,
        "field": m.field,
        "start": m.start,
        "end": m.end,
        "snippet": m.snippet,
        "found": m.found,
    }
