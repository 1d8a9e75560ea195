"""Drain the outbox: render each due delivery, send it, record the outcome.

A delivery is sent only when every target of its channel accepted the message; a
partly failed channel stays failed and is retried with exponential backoff and jitter
until ``[delivery] max_attempts``, then it is dead.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor import notify
from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.render import render
from monitor.store import outbox
from monitor.store.alerts import get_alert
from monitor.store.db import Database

__all__ = ["DrainResult", "drain", "retry_delay"]

log = logging.getLogger("newsmon.delivery")


@dataclass(frozen=True)
class DrainResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones, with ±20 % jitter."""
    base = settings.delivery.retry_base * 2 ** min(attempts - 1, 20)
    return float(min(base, settings.delivery.retry_max) * random.uniform(0.8, 1.2))


def drain(db: Database, settings: Settings, now: datetime) -> DrainResult:
    sent = failed = dead = 0
    for due in outbox.due_deliveries(db, now):
        error = _deliver(db, settings, due.alert_id, due.channel)
        if error is None:
            outbox.mark_sent(db, due.id, now)
            sent += 1
            log.info("delivered alert=%s channel=%s", due.alert_id, due.channel)
            continue
        attempts = due.attempts + 1
        is_dead = attempts >= settings.delivery.max_attempts
        next_at = now + timedelta(seconds=retry_delay(settings, attempts))
        outbox.mark_failed(db, due.id, error, next_attempt_at=next_at, is_dead=is_dead)
        dead += is_dead
        failed += not is_dead
        log.warning(
            "delivery failed alert=%s channel=%s attempts=%d status=%s error=%r",
            due.alert_id,
            due.channel,
            attempts,
            "dead" if is_dead else "failed",
            error,
        )
    return DrainResult(sent, failed, dead)


def _deliver(db: Database, settings: Settings, alert_id: int, channel_name: str) -> str | None:
    """Send one alert to one channel; None on success, else a masked error."""
    channel = settings.channel.get(channel_name)
    if channel is None:
        return f"channel {channel_name!r} is no longer in the config"
    try:
        urls = channel.targets()
    except ConfigError as exc:
        return str(exc)
    alert = get_alert(db, alert_id)
    if alert is None:
        return f"alert {alert_id} no longer exists"
    message = render(alert, channel.format or "text")
    failures = [r for r in notify.send(urls, message) if not r.is_ok]
    if not failures:
        return None
    parts = [f"{r.target}: {r.error}" for r in failures]
    return f"{len(failures)} of {len(urls)} target(s) failed: " + "; ".join(parts)
