"""Drain the outbox: claim each due delivery, apply the channel's noise control, render,
send to every target, record each target's outcome, then mark the delivery.

- A delivery is sent only when every target of its channel accepted the message. A
  retry goes only to the targets that have not accepted it yet.
- A failed delivery is retried with exponential backoff and jitter until
  ``[delivery] max_attempts`` tries or ``max_age``, then it is dead.
- A claim outlives a crash by at most ``[delivery] lease``: then the delivery is due
  again, so a kill -9 loses nothing, and repeats at most the send that was in flight.
- Digest channels hold alerts until their schedule fires, then send one message.
  Quiet hours hold alerts (not urgent ones) until they end. A rate limit holds the
  excess in the queue; nothing is dropped.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor import noise, notify
from monitor.config import ChannelSettings, Settings
from monitor.digest import render_digest
from monitor.errors import ConfigError, NewsmonError
from monitor.render import Message, render
from monitor.store import outbox
from monitor.store.alerts import AlertView, get_alert
from monitor.store.db import Database
from monitor.store.leases import instance_name
from monitor.store.outbox import Claim, TargetOutcome

__all__ = ["DrainResult", "drain", "retry_delay"]

log = logging.getLogger("newsmon.delivery")


@dataclass(frozen=True)
class DrainResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0  # waiting for a digest, quiet hours to end or a rate limit


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones, with ±20 % jitter."""
    base = settings.delivery.retry_base * 2 ** min(attempts - 1, 20)
    return float(min(base, settings.delivery.retry_max) * random.uniform(0.8, 1.2))


@dataclass
class _Pass:
    db: Database
    settings: Settings
    now: datetime
    owner: str
    started: float = field(default_factory=time.monotonic)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("sent", "failed", "dead", "held"), 0)
    )

    def clock(self) -> datetime:
        """The pass's time: ``now`` at its start, moving on with the real clock."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def hold(self, claims: Sequence[Claim], until: datetime | None = None) -> None:
        for c in claims:
            outbox.release(self.db, [c.id], until or c.next_attempt_at, owner=self.owner)
        self.counts["held"] += len(claims)

    def fail(self, claims: Sequence[Claim], error: str, last: Sequence[TargetOutcome] = ()) -> None:
        now, cfg = self.clock(), self.settings.delivery
        for c in claims:
            attempts = c.attempts + 1
            age = (now - c.created_at).total_seconds()
            is_dead = attempts >= cfg.max_attempts or age >= cfg.max_age
            next_at = now + timedelta(seconds=retry_delay(self.settings, attempts))
            held = outbox.mark_failed(
                self.db,
                [c.id],
                error,
                next_attempt_at=next_at,
                is_dead=is_dead,
                outcomes=last,
                owner=self.owner,
            )
            if not held:
                _lost(c.channel, 1)
                continue
            self.counts["dead" if is_dead else "failed"] += 1
            log.warning(
                "delivery failed alert=%s channel=%s attempts=%d status=%s error=%r",
                c.alert_id,
                c.channel,
                attempts,
                "dead" if is_dead else "failed",
                error,
            )


def drain(
    db: Database,
    settings: Settings,
    now: datetime,
    *,
    limit: int = 1000,
    owner: str | None = None,
) -> DrainResult:
    """Send what is due at ``now``; at most ``limit`` deliveries per pass. ``owner`` names
    this instance in its claims (default: this process)."""
    p = _Pass(db, settings, now, owner or instance_name())
    held_channels: set[str] = set()
    for _ in range(limit):
        # due at the start of the pass: a delivery that fails is not retried in the same pass
        claim = outbox.claim_next(
            db, now, settings.delivery.lease, held_channels, p.clock(), owner=p.owner
        )
        if claim is None:
            break
        channel = settings.channel.get(claim.channel)
        if channel is None:
            p.fail([claim], f"channel {claim.channel!r} is no longer in the config")
            continue
        is_rate_limited = _deliver(p, claim, channel)
        if is_rate_limited:
            held_channels.add(claim.channel)
    c = p.counts
    return DrainResult(c["sent"], c["failed"], c["dead"], c["held"])


def _deliver(p: _Pass, claim: Claim, channel: ChannelSettings) -> bool:
    """Hold, or render and send, one claim (and, for a digest, the rest of its batch).
    True when the channel's rate limit is reached."""
    batch = [claim]
    if channel.mode == "digest":
        due_at = noise.digest_at(channel, claim.created_at)
        if due_at > p.clock():
            p.hold(batch, due_at)
            return False
        lease = p.settings.delivery.lease
        batch += outbox.claim_channel(p.db, claim.channel, p.now, lease, p.clock(), owner=p.owner)
    views: list[tuple[Claim, AlertView]] = []
    for c in batch:
        view = get_alert(p.db, c.alert_id)
        if view is None:
            p.fail([c], f"alert {c.alert_id} no longer exists")
        else:
            views.append((c, view))
    if not views:
        return False
    batch = [c for c, _ in views]
    watchlists = list(dict.fromkeys(w for _, v in views for w in v.watchlists))
    severity, is_urgent = noise.rating(p.settings, claim.channel, watchlists)
    quiet_end = None if is_urgent else noise.quiet_until(channel, p.clock())
    if quiet_end is not None:
        p.hold(batch, quiet_end)
        return False
    if _rate_limited(p, claim.channel, channel):
        p.hold(batch)
        return True
    fmt = channel.format or "text"
    if channel.mode == "digest":
        routed = [w for w, wl in p.settings.watchlist.items() if claim.channel in wl.channels]
        message = render_digest([v for _, v in views], fmt, routed, severity)
    else:
        message = render(
            views[0][1],
            fmt,
            severity=severity,
            template=channel.template,
            title_template=channel.title_template,
        )
    _send(p, batch, channel, message, severity)
    return False


def _rate_limited(p: _Pass, name: str, channel: ChannelSettings) -> bool:
    window = noise.rate_window(channel)
    if window is None:
        return False
    count, seconds = window
    now = p.clock()
    recent = outbox.recent_sends(p.db, name, now - timedelta(seconds=seconds), count)
    free_at = noise.rate_free_at(channel, recent)
    return free_at is not None and free_at > now


def _send(
    p: _Pass, batch: Sequence[Claim], channel: ChannelSettings, message: Message, severity: str
) -> None:
    try:
        urls = channel.targets()
    except ConfigError as exc:
        p.fail(batch, str(exc))
        return
    by_done: dict[frozenset[str], list[Claim]] = {}
    for c in batch:
        by_done.setdefault(c.done, []).append(c)
    for done, claims in by_done.items():
        ids = [c.id for c in claims]
        todo = [u for u in urls if notify.fingerprint(u) not in done]
        failures, last = [], []
        with _renewing(p, ids):
            for i, r in enumerate(notify.send_each(todo, message, severity), 1):
                outcome = TargetOutcome(r.key, r.target, r.is_ok, r.error)
                if i < len(todo):  # remembered at once; the last one with the final mark
                    outbox.record_targets(p.db, ids, [outcome], p.clock(), owner=p.owner)
                else:
                    last = [outcome]
                if not r.is_ok:
                    failures.append(f"{r.target}: {r.error}")
        if failures:
            error = f"{len(failures)} of {len(urls)} target(s) failed: " + "; ".join(failures)
            p.fail(claims, notify.redact(error, urls), last)
            continue
        held = outbox.mark_sent(p.db, ids, p.clock(), last, owner=p.owner)
        p.counts["sent"] += held
        for c in claims:
            log.info("delivered alert=%s channel=%s", c.alert_id, c.channel)
        if held < len(ids):
            _lost(claims[0].channel, len(ids) - held)


@contextmanager
def _renewing(p: _Pass, ids: Sequence[int]) -> Iterator[None]:
    """Renew the claims every third of the lease while a send takes its time (a slow
    server, apprise loading its plugins on a busy machine): only the claims of a sender
    that died expire, so another instance never sends the same message twice."""
    is_done = threading.Event()

    def renew() -> None:
        while not is_done.wait(p.settings.delivery.lease / 3):
            try:
                outbox.record_targets(p.db, ids, [], p.clock(), owner=p.owner)
            except NewsmonError as exc:
                log.warning("cannot renew a claim error=%r", str(exc))

    renewer = threading.Thread(target=renew, name="newsmon-renew", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        is_done.set()
        renewer.join()


def _lost(channel: str, count: int) -> None:
    log.warning(
        "claim expired and another sender took it over; outcome dropped channel=%s count=%d",
        channel,
        count,
    )
