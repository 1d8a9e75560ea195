"""Drain the outbox. ``drain`` claims due deliveries in batches and hands them to a few
sending threads; ``deliver_one`` spells out one delivery: hold or go (a digest's schedule,
quiet hours, the rate limit), render, send to the targets, record.

- Deliveries of different channels, and of a channel without a rate limit or digest, go
  out side by side (``SENDERS`` at once); a rate-limited or digest channel's go one after
  the other, in the order they were due.

- Mail to one target goes over a few SMTP connections kept through the pass (at most
  one per sending thread; notify.kept_connections), not over one per message.
- A delivery is sent only when every target of its channel accepted the message. A
  retry goes only to the targets that have not accepted it yet.
- A failed delivery is retried with exponential backoff and jitter until
  ``[delivery] max_attempts`` tries or ``max_age``, then it is dead.
- A claim outlives a crash by at most ``[delivery] lease``: then the delivery is due
  again, so a kill -9 loses nothing, and repeats at most the sends that were in flight
  (one per sending thread) or not yet written (monitor/deliver/recorder.py).
- A delivery is about an alert or about a spike (monitor/pipeline/spikes.py); both wait, retry
  and die alike.
- Digest channels hold alerts until their schedule fires, then send one message.
  Quiet hours hold alerts (not urgent ones) until they end. A rate limit holds the
  excess in the queue; nothing is dropped.
- A feed-health notice (monitor/watch/health.py) is a message of its own, also on a digest
  channel; it waits for quiet hours to end and for the rate limit like an alert.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config.settings import ChannelSettings, Settings
from monitor.deliver import pacing
from monitor.deliver.digest import render_digest
from monitor.deliver.notices import notice_severity, render_notice
from monitor.deliver.outcomes import Pass, retry_delay
from monitor.deliver.recorder import Recorder
from monitor.deliver.render import Message, render, render_spike
from monitor.errors import ConfigError
from monitor.store import outbox
from monitor.store.db import Database
from monitor.store.leases import instance_name
from monitor.store.outbox import Claim, TargetOutcome

__all__ = ["BATCH", "SENDERS", "DrainResult", "deliver_one", "drain", "retry_delay"]

SENDERS = 8  # threads sending at once
BATCH = 50  # deliveries claimed in one transaction


@dataclass(frozen=True)
class DrainResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0  # waiting for a digest, quiet hours to end or a rate limit


def drain(
    db: Database,
    settings: Settings,
    now: datetime,
    *,
    limit: int = 1000,
    is_stopping: Callable[[], bool] = lambda: False,
    owner: str | None = None,
) -> DrainResult:
    """Send what is due at ``now``; at most ``limit`` deliveries per pass, and none more
    once ``is_stopping()`` (the rest stays queued for the next start). ``owner`` names
    this instance in its claims (default: this process)."""
    started, owner = time.monotonic(), owner or instance_name()

    def clock() -> datetime:  # ``now`` at the start, moving on with the real clock
        return now + timedelta(seconds=time.monotonic() - started)

    with (
        Recorder(db, settings.delivery.lease, owner, clock) as recorder,
        ExitStack() as kept,  # SMTP connections kept through the pass; closed after the senders
        ThreadPoolExecutor(SENDERS, thread_name_prefix="newsmon-send") as senders,
    ):
        p = Pass(db, settings, now, owner, recorder, clock, is_stopping)
        claimed = 0
        while claimed < limit and not is_stopping() and recorder.error is None:
            # due at the start of the pass: a delivery that fails is not retried in this pass
            claims = outbox.claim_due(
                db,
                now,
                settings.delivery.lease,
                limit=min(BATCH, limit - claimed),
                skip_channels=set(p.held_channels),
                claimed_at=clock(),
                owner=owner,
            )
            if not claims:
                break
            claimed += len(claims)
            recorder.hold(c.id for c in claims)
            if not claimed - len(claims):  # the first batch
                kept.enter_context(_kept_connections())
            _prepare(p, {c.channel for c in claims})
            for lane in [senders.submit(_run_lane, p, lane) for lane in _lanes(p, claims)]:
                lane.result()
    c = p.counts
    return DrainResult(c["sent"], c["failed"], c["dead"], c["held"])


def _kept_connections() -> AbstractContextManager[None]:
    """Mail to a target goes over connections kept through the pass (see notify)."""
    from monitor.deliver import notify  # apprise: imported once something is to be sent

    return notify.kept_connections()


def _prepare(p: Pass, names: set[str]) -> None:
    """Ready the channels' targets before the senders start (see notify.prepare)."""
    from monitor.deliver import notify  # apprise: imported once something is to be sent

    for name in sorted(names):
        channel = p.settings.channel.get(name)
        with suppress(ConfigError):  # its deliveries fail with this error in their turn
            notify.prepare(channel.targets() if channel is not None else [])


def _lanes(p: Pass, claims: Sequence[Claim]) -> list[list[Claim]]:
    """Claims that go one after the other: a rate-limited or digest channel's. Any
    other delivery is a lane of its own."""
    shared: dict[str, list[Claim]] = {}
    alone: list[list[Claim]] = []
    for c in claims:
        channel = p.settings.channel.get(c.channel)
        if channel is not None and (channel.mode == "digest" or channel.rate_limit):
            shared.setdefault(c.channel, []).append(c)
        else:
            alone.append([c])
    return [*shared.values(), *alone]


def _run_lane(p: Pass, lane: Sequence[Claim]) -> None:
    rest = list(lane)
    while rest:
        claim = rest.pop(0)
        if p.is_stopping():  # given back untried, for the next start
            p.hold([claim, *rest], is_counted=False)
            return
        channel = p.settings.channel.get(claim.channel)
        if channel is None:
            p.fail([claim], f"channel {claim.channel!r} is no longer in the config")
            continue
        taken, is_rate_limited = deliver_one(p, claim, channel, rest)
        rest = [c for c in rest if c.id not in taken]
        if is_rate_limited:  # the rest waits for the next pass, as if never claimed
            p.held_channels.add(claim.channel)
            p.hold(rest, is_counted=False)
            return


def deliver_one(
    p: Pass, claim: Claim, channel: ChannelSettings, later: Sequence[Claim] = ()
) -> tuple[set[int], bool]:
    """One delivery, in order: hold or go, render, send to the targets that have not
    accepted it, record. A digest takes the channel's other due alerts along (``later``,
    the claims after this one in its lane, and any still queued). Returns the ids of the
    claims dealt with, and whether the channel's rate limit is reached."""
    # 1. hold or go: the digest's schedule, then quiet hours, then the rate limit
    batch = [claim]
    if channel.mode == "digest" and claim.notice_id is None:
        due_at = pacing.digest_at(channel, claim.created_at)
        if due_at > p.clock():
            p.hold(batch, due_at)
            return {claim.id}, False
        if claim.alert_id is not None:
            batch += [c for c in later if c.alert_id is not None]
            batch += p.claim_digest(claim.channel)
    taken = {c.id for c in batch}
    batch = [c for c in batch if p.is_stored(c)]
    if not batch:
        return taken, False
    severity, is_urgent = _rating(p, batch, channel)
    quiet_end = None if is_urgent else pacing.quiet_until(channel, p.clock())
    if quiet_end is not None:
        p.hold(batch, quiet_end)
        return taken, False
    if _is_rate_limited(p, claim.channel, channel):
        p.hold(batch)
        return taken, True
    # 2. render
    message = _render(p, batch, channel, severity)
    # 3. send to each target, and 4. record each outcome
    _send(p, batch, channel, message, severity)
    return taken, False


def _rating(p: Pass, batch: Sequence[Claim], channel: ChannelSettings) -> tuple[str, bool]:
    """(severity, is_urgent) of what ``batch`` carries."""
    first = batch[0]
    if first.notice is not None:
        return notice_severity(first.notice), False
    if first.spike is not None:
        return pacing.rating(p.settings, first.channel, [first.spike.watchlist])
    found = [w for c in batch if c.alert is not None for w in c.alert.watchlists]
    return pacing.rating(p.settings, first.channel, list(dict.fromkeys(found)))


def _render(p: Pass, batch: Sequence[Claim], channel: ChannelSettings, severity: str) -> Message:
    fmt, first = channel.format or "text", batch[0]
    templates = {"template": channel.template, "title_template": channel.title_template}
    if first.notice is not None:
        return render_notice(first.notice, fmt)
    if first.spike is not None:
        return render_spike(first.spike, fmt, severity=severity, **templates)
    views = [c.alert for c in batch if c.alert is not None]
    if channel.mode == "digest":
        routed = [w for w, wl in p.settings.watchlist.items() if first.channel in wl.channels]
        return render_digest(views, fmt, routed, severity)
    return render(views[0], fmt, severity=severity, **templates)


def _is_rate_limited(p: Pass, name: str, channel: ChannelSettings) -> bool:
    window = pacing.rate_window(channel)
    if window is None:
        return False
    count, seconds = window
    p.recorder.flush()  # this lane's last sends counted
    now = p.clock()
    recent = outbox.recent_sends(p.db, name, now - timedelta(seconds=seconds), count)
    free_at = pacing.rate_free_at(channel, recent)
    return free_at is not None and free_at > now


def _send(
    p: Pass, batch: Sequence[Claim], channel: ChannelSettings, message: Message, severity: str
) -> None:
    from monitor.deliver import notify  # imported by _prepare already

    try:
        urls = channel.targets()
    except ConfigError as exc:
        p.fail(batch, str(exc))
        return
    by_done: dict[frozenset[str], list[Claim]] = {}
    for c in batch:
        by_done.setdefault(c.done, []).append(c)
    for done, claims in by_done.items():
        todo = [u for u in urls if notify.fingerprint(u) not in done]
        failures, outcomes = [], []
        for r in notify.send_each(todo, message, severity, channel.timeout):
            outcomes.append(TargetOutcome(r.key, r.target, r.is_ok, r.error))
            if len(outcomes) < len(todo):  # remembered at once; the last one with the mark
                p.note(claims, outcomes[-1])
            if not r.is_ok:
                failures.append(f"{r.target}: {r.error}")
        if failures:
            error = f"{len(failures)} of {len(urls)} target(s) failed: " + "; ".join(failures)
            p.fail(claims, notify.redact(error, urls), outcomes[-1:])
        else:
            p.sent(claims, outcomes[-1:])
