"""The outbox: deliveries that are due, and their outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from monitor.model import DeliveryStatus
from monitor.store.db import Database
from monitor.store.tables import Delivery

__all__ = ["DueDelivery", "due_deliveries", "mark_failed", "mark_sent"]

_RETRYABLE = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)


@dataclass(frozen=True)
class DueDelivery:
    id: int
    alert_id: int
    channel: str
    attempts: int
    created_at: datetime


def due_deliveries(db: Database, now: datetime, limit: int = 200) -> list[DueDelivery]:
    query = (
        select(Delivery)
        .where(Delivery.status.in_(_RETRYABLE), Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    with db.session() as s:
        return [
            DueDelivery(d.id, d.alert_id, d.channel, d.attempts, d.created_at)
            for d in s.scalars(query)
        ]


def mark_sent(db: Database, delivery_id: int, now: datetime) -> None:
    with db.session() as s:
        row = s.get_one(Delivery, delivery_id)
        row.status, row.sent_at, row.last_error = DeliveryStatus.SENT.value, now, None
        row.attempts += 1


def mark_failed(
    db: Database, delivery_id: int, error: str, *, next_attempt_at: datetime, is_dead: bool
) -> None:
    with db.session() as s:
        row = s.get_one(Delivery, delivery_id)
        row.attempts += 1
        row.last_error = error[:1000]
        row.next_attempt_at = next_attempt_at
        row.status = (DeliveryStatus.DEAD if is_dead else DeliveryStatus.FAILED).value
