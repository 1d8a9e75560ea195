"""A drain pass's shared state, and its outcomes handed to the recorder: held, one
target's result, sent, failed or dead; counted, logged and measured once written."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor import metrics
from monitor.config.settings import Settings
from monitor.deliver.recorder import Recorder
from monitor.model import DeliveryStatus
from monitor.store import outbox
from monitor.store.db import Database
from monitor.store.outbox import Claim, Outcome, TargetOutcome

__all__ = ["Pass", "retry_delay"]

log = logging.getLogger("newsmon.delivery")
# one template per kind, so that the log key is literal (``alert=`` or ``notice=``)
_SENT = {k: f"delivered {k}=%s channel=%s" for k in ("alert", "notice", "spike")}
_FAILED = {
    k: f"delivery failed {k}=%s channel=%s attempts=%d status=%s error=%r"
    for k in ("alert", "notice", "spike")
}


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones, with ±20 % jitter."""
    base = settings.delivery.retry_base * 2 ** min(attempts - 1, 20)
    return float(min(base, settings.delivery.retry_max) * random.uniform(0.8, 1.2))


@dataclass
class Pass:
    """One drain pass: what the lanes share, and how an outcome is handed to the recorder
    (counted, logged and measured once it is written)."""

    db: Database
    settings: Settings
    now: datetime
    owner: str
    recorder: Recorder
    clock: Callable[[], datetime]
    is_stopping: Callable[[], bool]
    held_channels: set[str] = field(default_factory=set)  # rate limited for this pass
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("sent", "failed", "dead", "held"), 0)
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim_digest(self, channel: str) -> list[Claim]:
        """The channel's other due alert deliveries, for a digest."""
        found = outbox.claim_due(
            self.db,
            self.now,
            self.settings.delivery.lease,
            limit=None,
            channel=channel,
            claimed_at=self.clock(),
            owner=self.owner,
        )
        self.recorder.hold(c.id for c in found)
        return found

    def is_stored(self, c: Claim) -> bool:
        """Whether what ``c`` is about is still stored; if not, the delivery fails."""
        kind, ref = c.subject
        if (c.alert or c.notice or c.spike) is not None:
            return True
        self.fail([c], f"{kind} {ref} no longer exists")
        return False

    def _count(self, key: str, n: int) -> None:
        with self._lock:
            self.counts[key] += n

    def hold(
        self, claims: Sequence[Claim], until: datetime | None = None, *, is_counted: bool = True
    ) -> None:
        """Give claims back untried, due again at ``until`` (default: as they were)."""
        if not claims:
            return
        status = DeliveryStatus.PENDING
        outcomes = [Outcome(c.id, status, until or c.next_attempt_at) for c in claims]

        def then(held: set[int]) -> None:
            if is_counted:
                for c in claims:
                    metrics.delivered(c.channel, "held")
                self._count("held", len(claims))

        self.recorder.put(outcomes, then)

    def note(self, claims: Sequence[Claim], outcome: TargetOutcome) -> None:
        """One target's outcome, remembered while the others are sent to."""
        self.recorder.put([Outcome(c.id, DeliveryStatus.SENDING, None, [outcome]) for c in claims])

    def sent(self, claims: Sequence[Claim], last: Sequence[TargetOutcome]) -> None:
        at = self.clock()  # one time for a digest's claims: the rate limit counts it once
        outcomes = [Outcome(c.id, DeliveryStatus.SENT, at, last) for c in claims]

        def then(held: set[int]) -> None:
            kept = [c for c in claims if c.id in held]
            self._count("sent", len(kept))
            for c in kept:
                kind, ref = c.subject
                log.info(_SENT[kind], ref, c.channel)
                metrics.delivered(c.channel, "sent", (self.clock() - c.created_at).total_seconds())
            if len(kept) < len(claims):
                _lost(claims[0].channel, len(claims) - len(kept))

        self.recorder.put(outcomes, then)

    def fail(self, claims: Sequence[Claim], error: str, last: Sequence[TargetOutcome] = ()) -> None:
        now, cfg = self.clock(), self.settings.delivery
        outcomes = []
        for c in claims:
            attempts = c.attempts + 1
            is_dead = (
                attempts >= cfg.max_attempts or (now - c.created_at).total_seconds() >= cfg.max_age
            )
            next_at = now + timedelta(seconds=retry_delay(self.settings, attempts))
            status = DeliveryStatus.DEAD if is_dead else DeliveryStatus.FAILED
            outcomes.append(Outcome(c.id, status, next_at, last, error))

        def then(held: set[int]) -> None:
            for c, o in zip(claims, outcomes, strict=True):
                if c.id not in held:
                    _lost(c.channel, 1)
                    continue
                word = o.status.value
                self._count(word, 1)
                metrics.delivered(c.channel, word)
                kind, ref = c.subject
                log.warning(_FAILED[kind], ref, c.channel, c.attempts + 1, word, error)

        self.recorder.put(outcomes, then)


def _lost(channel: str, count: int) -> None:
    log.warning(
        "claim expired and another sender took it over; outcome dropped channel=%s count=%d",
        channel,
        count,
    )
