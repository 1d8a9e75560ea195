"""The outbox: one delivery per (alert, channel), or per (feed-health notice, channel),
claimed before it is sent.

A sender claims due deliveries (status ``sending``, ``claimed_at``, ``claimed_by``) in
one short transaction that also reads what they are about, records each target's outcome
as soon as it is known, then marks the delivery sent or failed (``record``: the outcomes
of many deliveries in one transaction). A sender that dies leaves its claims behind; once
a claim is older than the lease, the delivery is due again and only the targets that had
not accepted it are sent to: at most the sends in flight or not yet recorded repeat.

Several instances: a claim skips rows another is claiming (PostgreSQL ``FOR UPDATE SKIP
LOCKED``; SQLite serialises writes), and a sender writes only to deliveries it still
holds, so a late outcome after a takeover cannot undo the new holder's (a late "failed"
would send a sent delivery again).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.orm import Session

from monitor.model import DeliveryStatus
from monitor.store import schema
from monitor.store.alerts import AlertView, alerts_by_id
from monitor.store.db import Database
from monitor.store.health import NoticeView
from monitor.store.leases import instance_name
from monitor.store.spikes import SpikeView
from monitor.store.tables import Alert, Delivery, FeedNotice, Spike
from monitor.store.tables import Article as ArticleRow

__all__ = [
    "Claim",
    "DeliveryRow",
    "NoticeFacts",
    "SpikeFacts",
    "TargetOutcome",
    "Outcome",
    "claim_due",
    "claim_next",
    "count_by_status",
    "list_deliveries",
    "mark_failed",
    "recent_sends",
    "record",
    "requeue",
]

_RETRYABLE = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)


@dataclass(frozen=True)
class TargetOutcome:
    key: str  # fingerprint of the URL
    target: str  # masked URL
    is_ok: bool
    error: str | None


@dataclass(frozen=True)
class Claim:
    id: int
    alert_id: int | None  # a delivery is about an alert, a feed-health notice or a spike
    channel: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    done: frozenset[str]  # keys of the targets that already accepted it
    notice_id: int | None = None
    spike_id: int | None = None
    # what it is about, read with the claim (None: no longer stored)
    alert: AlertView | None = None
    notice: NoticeView | None = None
    spike: SpikeView | None = None

    @property
    def subject(self) -> tuple[str, int | None]:
        """What is delivered, as a log key and value: ``("alert", 12)``, ``("notice", 3)``
        or ``("spike", 2)``."""
        if self.notice_id is not None:
            return "notice", self.notice_id
        if self.spike_id is not None:
            return "spike", self.spike_id
        return "alert", self.alert_id


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed delivery, for ``record``: still ``SENDING`` (the claim
    renewed), ``SENT`` at ``at``, ``FAILED`` or ``DEAD`` (next try at ``at``), or
    ``PENDING``: given back untried until ``at``. ``targets``: outcomes to remember."""

    id: int
    status: DeliveryStatus
    at: datetime | None = None
    targets: Sequence[TargetOutcome] = ()
    error: str | None = None


@dataclass(frozen=True)
class NoticeFacts:
    """The feed-health notice a delivery carries."""

    feed: str
    kind: str


@dataclass(frozen=True)
class SpikeFacts:
    """The spike a delivery carries."""

    watchlist: str
    count: int  # alerts in the window when detected
    window: float  # seconds


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as stored; its title is monitor.deliver.render.delivery_title's."""

    id: int
    alert_id: int | None
    article_title: str | None  # the alert's article
    channel: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    targets: list[dict[str, Any]]
    notice_id: int | None = None
    spike_id: int | None = None
    notice: NoticeFacts | None = None
    spike: SpikeFacts | None = None


def _due(now: datetime, lease: float) -> Any:
    return or_(
        and_(Delivery.status.in_(_RETRYABLE), Delivery.next_attempt_at <= now),
        and_(
            Delivery.status == DeliveryStatus.SENDING.value,
            Delivery.claimed_at <= now - timedelta(seconds=lease),
        ),
    )


def _claim(s: Session, query: Any, now: datetime, owner: str | None) -> list[Claim]:
    """Claim the rows ``query`` finds, and read what each is about, in ``s``'s transaction."""
    rows = list(s.scalars(query.with_for_update(skip_locked=True)))
    for row in rows:
        row.status, row.claimed_at = DeliveryStatus.SENDING.value, now
        row.claimed_by = owner or instance_name()
    conn = s.connection()
    views = alerts_by_id(conn, [r.alert_id for r in rows if r.alert_id is not None])
    notices = _notices(conn, [r.notice_id for r in rows if r.notice_id is not None])
    spikes = _spikes(conn, [r.spike_id for r in rows if r.spike_id is not None])
    return [
        Claim(
            row.id,
            row.alert_id,
            row.channel,
            row.attempts,
            row.created_at,
            row.next_attempt_at,
            frozenset(k for k, t in (row.targets or {}).items() if t.get("ok")),
            row.notice_id,
            row.spike_id,
            views.get(row.alert_id) if row.alert_id is not None else None,
            notices.get(row.notice_id) if row.notice_id is not None else None,
            spikes.get(row.spike_id) if row.spike_id is not None else None,
        )
        for row in rows
    ]


def _notices(conn: Connection, ids: Sequence[int]) -> dict[int, NoticeView]:
    if not ids:
        return {}
    n = schema.feed_notices.c
    query = select(n.id, n.feed, n.url, n.kind, n.since, n.detail, n.created_at)
    return {row.id: NoticeView(*row) for row in conn.execute(query.where(n.id.in_(list(ids))))}


def _spikes(conn: Connection, ids: Sequence[int]) -> dict[int, SpikeView]:
    if not ids:
        return {}
    k = schema.spikes.c
    query = select(
        k.id, k.watchlist, k.number, k.started_at, k.ended_at, k.count, k.peak, k.expected
    ).add_columns(k.window, k.baseline, k.factor)
    return {row.id: SpikeView(*row) for row in conn.execute(query.where(k.id.in_(list(ids))))}


def claim_due(
    db: Database,
    now: datetime,
    lease: float,
    *,
    limit: int | None = 1,
    skip_channels: Iterable[str] = (),
    channel: str | None = None,
    claimed_at: datetime | None = None,
    owner: str | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` deliveries due at ``now`` (None: all), longest waiting first,
    each with what it is about already read, in one transaction. ``channel``: only that
    channel's alert deliveries (a digest's), oldest first."""
    query = select(Delivery).where(_due(now, lease))
    if channel is not None:
        query = query.where(Delivery.channel == channel, Delivery.alert_id.is_not(None))
        query = query.order_by(Delivery.created_at, Delivery.id)
    else:
        query = query.order_by(Delivery.next_attempt_at, Delivery.id)
    if skip := list(skip_channels):
        query = query.where(Delivery.channel.not_in(skip))
    if limit is not None:
        query = query.limit(limit)
    with db.session() as s:
        return _claim(s, query, claimed_at or now, owner)


def claim_next(
    db: Database,
    now: datetime,
    lease: float,
    skip_channels: Iterable[str] = (),
    claimed_at: datetime | None = None,
    *,
    owner: str | None = None,
) -> Claim | None:
    """Claim the delivery that has waited longest, or None when nothing is due at ``now``."""
    found = claim_due(
        db, now, lease, skip_channels=skip_channels, claimed_at=claimed_at, owner=owner
    )
    return found[0] if found else None


def _rows(s: Session, ids: Sequence[int], owner: str | None) -> list[Delivery]:
    """The deliveries among ``ids`` that ``owner`` still holds."""
    query = select(Delivery).where(
        Delivery.id.in_(list(ids)),
        Delivery.status == DeliveryStatus.SENDING.value,
        Delivery.claimed_by == (owner or instance_name()),
    )
    return list(s.scalars(query))


def _remember(row: Delivery, outcomes: Sequence[TargetOutcome]) -> None:
    if outcomes:
        targets = dict(row.targets or {})
        for o in outcomes:
            targets[o.key] = {"target": o.target, "ok": o.is_ok, "error": o.error}
        row.targets = targets


def _apply(row: Delivery, o: Outcome, now: datetime) -> None:
    _remember(row, o.targets)
    if o.status is DeliveryStatus.SENDING:
        row.claimed_at = now  # still in hand: the claim renewed
        return
    row.claimed_at, row.claimed_by = None, None
    if o.status is DeliveryStatus.PENDING:  # given back untried
        is_new = row.attempts == 0
        row.status = (DeliveryStatus.PENDING if is_new else DeliveryStatus.FAILED).value
        row.next_attempt_at = o.at or row.next_attempt_at
        return
    row.attempts += 1
    row.status = o.status.value
    if o.status is DeliveryStatus.SENT:
        row.sent_at, row.last_error = o.at or now, None
    else:
        row.last_error = (o.error or "")[:1000]
        row.next_attempt_at = o.at or now


def record(
    db: Database, outcomes: Sequence[Outcome], now: datetime, *, owner: str | None = None
) -> set[int]:
    """Write what became of claimed deliveries, in one transaction; the ids among them
    still held by ``owner`` (the others were taken over after their lease: untouched)."""
    if not outcomes:
        return set()
    with db.session() as s:
        rows = {row.id: row for row in _rows(s, list({o.id for o in outcomes}), owner)}
        for o in outcomes:
            if o.id in rows:
                _apply(rows[o.id], o, now)
        return set(rows)


def mark_failed(
    db: Database,
    ids: Sequence[int],
    error: str,
    *,
    next_attempt_at: datetime,
    is_dead: bool,
    outcomes: Sequence[TargetOutcome] = (),
    owner: str | None = None,
) -> int:
    """Failed (or dead); how many of ``ids`` were still held."""
    status = DeliveryStatus.DEAD if is_dead else DeliveryStatus.FAILED
    done = [Outcome(i, status, next_attempt_at, outcomes, error) for i in ids]
    return len(record(db, done, next_attempt_at, owner=owner))


def recent_sends(db: Database, channel: str, since: datetime, limit: int) -> list[datetime]:
    """When this channel's last ``limit`` messages went out (a digest counts once), newest
    first, as far back as ``since``."""
    query = (
        select(Delivery.sent_at)
        .where(Delivery.channel == channel, Delivery.sent_at >= since)
        .group_by(Delivery.sent_at)
        .order_by(Delivery.sent_at.desc())
        .limit(limit)
    )
    with db.session() as s:
        return [t for t in s.scalars(query) if t is not None]


def list_deliveries(
    db: Database, *, status: str | None = None, channel: str | None = None, limit: int = 100
) -> list[DeliveryRow]:
    """Newest first."""
    query = (
        select(Delivery, ArticleRow.title, FeedNotice.feed, FeedNotice.kind, Spike)
        .outerjoin(Alert, Alert.id == Delivery.alert_id)
        .outerjoin(ArticleRow, ArticleRow.id == Alert.article_id)
        .outerjoin(FeedNotice, FeedNotice.id == Delivery.notice_id)
        .outerjoin(Spike, Spike.id == Delivery.spike_id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Delivery.status == status)
    if channel:
        query = query.where(Delivery.channel == channel)
    with db.session() as s:
        return [
            DeliveryRow(
                d.id,
                d.alert_id,
                title,
                d.channel,
                d.status,
                d.attempts,
                d.last_error,
                d.created_at,
                d.next_attempt_at,
                d.sent_at,
                [{"key": k, **v} for k, v in (d.targets or {}).items()],
                d.notice_id,
                d.spike_id,
                NoticeFacts(feed, kind) if feed is not None and kind is not None else None,
                SpikeFacts(spike.watchlist, spike.count, spike.window) if spike else None,
            )
            for d, title, feed, kind, spike in s.execute(query)
        ]


def requeue(
    db: Database, now: datetime, *, ids: Sequence[int] = (), is_all_dead: bool = False
) -> list[int]:
    """Queue failed or dead deliveries for a new round of tries now; the ids requeued."""
    query = select(Delivery).where(Delivery.status.in_([*_RETRYABLE, DeliveryStatus.DEAD.value]))
    if is_all_dead:
        query = query.where(Delivery.status == DeliveryStatus.DEAD.value)
    else:
        query = query.where(Delivery.id.in_(list(ids)))
    with db.session() as s:
        rows = list(s.scalars(query.order_by(Delivery.id)))
        for row in rows:
            row.status, row.attempts = DeliveryStatus.PENDING.value, 0
            row.next_attempt_at, row.claimed_at, row.claimed_by = now, None, None
        return [row.id for row in rows]


def count_by_status(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
        return {status: int(n) for status, n in rows}
