"""Spikes in the database: alert volume per watchlist, and each spike recorded once.

A watchlist has at most one open spike (``ended_at`` empty). A new spike is the
watchlist's next ``number``: instances that detect it at the same time insert the same
(watchlist, number), the unique constraint lets one insert through and the others skip
(insert-or-skip), so only the winner queues the spike's deliveries, in the same
transaction. State lives here, so a restart does not alert a spike again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, func, select
from sqlalchemy.orm import Session

from monitor.model import DeliveryStatus
from monitor.store.db import Database, insert_for
from monitor.store.tables import Delivery, Entry, Spike, StoryClaim

__all__ = [
    "Reading",
    "SpikeView",
    "get_spike",
    "history_start",
    "list_spikes",
    "record_readings",
    "volumes",
]

_SPIKES = cast(Table, Spike.__table__)


@dataclass(frozen=True)
class SpikeView:
    id: int
    watchlist: str
    number: int
    started_at: datetime
    ended_at: datetime | None
    count: int
    peak: int
    expected: float
    window: float
    baseline: float
    factor: float


@dataclass(frozen=True)
class Reading:
    """One watchlist's volume now: its alerts in the window, what is usual, the threshold."""

    watchlist: str
    count: int
    expected: float
    threshold: float
    window: float
    baseline: float
    factor: float

    @property
    def is_spiking(self) -> bool:
        return self.count >= self.threshold


def volumes(
    db: Database, watchlists: Sequence[str], now: datetime, window: float, baseline: float
) -> dict[str, tuple[int, int]]:
    """Per watchlist: (alerts in the ``window`` before ``now``, alerts in the ``baseline``
    before that window), in one aggregate query."""
    recent_from = now - timedelta(seconds=window)
    base_from = recent_from - timedelta(seconds=baseline)
    is_recent = case((StoryClaim.created_at > recent_from, 1), else_=0)
    query = (
        select(StoryClaim.watchlist, func.sum(is_recent), func.count())
        .where(
            StoryClaim.created_at > base_from,
            StoryClaim.created_at <= now,
            StoryClaim.watchlist.in_(list(watchlists)),
        )
        .group_by(StoryClaim.watchlist)
    )
    with db.session() as s:
        return {w: (int(r or 0), int(n) - int(r or 0)) for w, r, n in s.execute(query)}


def history_start(db: Database) -> datetime | None:
    """When newsmon's history begins: the first entry it stored was seen then (entries
    are never deleted; read by the primary key, so it costs one index step)."""
    with db.session() as s:
        return s.scalar(select(Entry.seen_at).order_by(Entry.id).limit(1))


def record_readings(
    db: Database, readings: Sequence[Reading], now: datetime, routes: Mapping[str, Sequence[str]]
) -> list[SpikeView]:
    """Open a spike for each watchlist that spikes and has none open (with one delivery
    per channel of the watchlist), follow open ones, close those that fell below their
    threshold. Returns the spikes opened by this call, in one transaction."""
    opened = []
    with db.session() as s:
        for reading in readings:
            latest = s.scalar(
                select(Spike)
                .where(Spike.watchlist == reading.watchlist)
                .order_by(Spike.number.desc())
                .limit(1)
            )
            is_open = latest is not None and latest.ended_at is None
            if latest is not None and is_open:
                if reading.is_spiking:
                    latest.peak = max(latest.peak, reading.count)
                else:
                    latest.ended_at = now
            elif reading.is_spiking:
                number = latest.number + 1 if latest is not None else 1
                spike = _insert_or_skip(s, reading, number, now)
                if spike is not None:
                    _outbox(s, spike.id, routes.get(reading.watchlist, ()), now)
                    opened.append(spike)
    return opened


def _insert_or_skip(s: Session, reading: Reading, number: int, now: datetime) -> SpikeView | None:
    insert = insert_for(s.get_bind().dialect.name)
    values: dict[str, Any] = {
        "watchlist": reading.watchlist,
        "number": number,
        "started_at": now,
        "count": reading.count,
        "peak": reading.count,
        "expected": reading.expected,
        "window": reading.window,
        "baseline": reading.baseline,
        "factor": reading.factor,
    }
    statement = (
        insert(_SPIKES)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["watchlist", "number"])
        .returning(_SPIKES.c.id)
    )
    spike_id = s.execute(statement).scalar()
    if spike_id is None:
        return None  # another instance recorded this spike first
    return SpikeView(id=int(spike_id), ended_at=None, **values)


def _outbox(s: Session, spike_id: int, channels: Sequence[str], now: datetime) -> None:
    s.add_all(
        Delivery(
            spike_id=spike_id,
            channel=channel,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for channel in dict.fromkeys(channels)
    )


def _view(row: Spike) -> SpikeView:
    return SpikeView(
        row.id,
        row.watchlist,
        row.number,
        row.started_at,
        row.ended_at,
        row.count,
        row.peak,
        row.expected,
        row.window,
        row.baseline,
        row.factor,
    )


def get_spike(db: Database, spike_id: int) -> SpikeView | None:
    with db.session() as s:
        row = s.get(Spike, spike_id)
        return _view(row) if row is not None else None


def list_spikes(
    db: Database, *, watchlist: str | None = None, since: datetime | None = None, limit: int = 50
) -> list[SpikeView]:
    """Newest first."""
    query = select(Spike).order_by(Spike.started_at.desc(), Spike.id.desc()).limit(limit)
    if watchlist:
        query = query.where(Spike.watchlist == watchlist)
    if since:
        query = query.where(Spike.started_at >= since)
    with db.session() as s:
        return [_view(row) for row in s.scalars(query)]
