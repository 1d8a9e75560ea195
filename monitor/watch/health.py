"""Feed health: is a feed failing, or silent for much longer than its usual rhythm?

After each poll pass (the daemon's and ``poll --once``), every polled feed is judged:

    failing  its last ``[health] failures`` polls failed, or it has failed for
             ``[health] failing_for`` without a success in between, or it has never
             been polled successfully (a 404, an HTML page, a refused or blocked
             address): then from its first failure
    silent   its polls work, but no new entry came for ``silence_factor`` times its
             rhythm (never less than ``silence_floor``)
    ok       otherwise

The rhythm is the median gap between the first-seen times of the feed's recent new
entries (entries seen within half a poll interval of each other arrived together); a
feed with fewer than MIN_GAPS such gaps yet falls back to its entries' published
times, and with fewer still is never judged silent.

A change of state is an incident: one notice (failing, silent, or recovered when the
feed is ok again) goes to ``[health] channels`` through the outbox, so it is retried
like an alert. While the state stays the same, nothing more is sent. A failing feed is
never given up: it is polled with backoff until it works, and then says so.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.config.settings import HealthSettings, Settings
from monitor.config.values import format_duration
from monitor.store import health as store
from monitor.store.db import Database
from monitor.store.health import FeedFacts, NoticeDraft

__all__ = ["Change", "Verdict", "check_feeds", "has_never_worked", "judge", "rhythm"]

log = logging.getLogger("newsmon.health")

SAMPLE = 200  # newest entries read to learn a feed's rhythm
MIN_GAPS = 3
# how a rhythm is learned: change it with ``rhythm`` or the constants above, and every
# stored rhythm is learned again (monitor.store.health.basis)
METHOD = f"median-gap/{MIN_GAPS}"


@dataclass(frozen=True)
class Verdict:
    state: str  # ok, failing or silent
    since: datetime | None  # when the trouble began
    failing_since: datetime | None
    rhythm: float | None
    silent_after: float | None = None  # seconds without a new entry that count as silent


@dataclass(frozen=True)
class Change:
    feed: str
    state: str  # the new state: failing, silent or ok (a recovery)
    notice_id: int


def _gaps(times: Sequence[datetime], shortest: float) -> list[float]:
    """Gaps between arrivals, newest first; closer times are one arrival."""
    gaps = []
    for newer, older in zip(times, times[1:], strict=False):
        gap = (newer - older).total_seconds()
        if gap >= shortest:
            gaps.append(gap)
    return gaps


def rhythm(feed: FeedFacts) -> float | None:
    """The usual seconds between a feed's new entries, or None while unknown."""
    if feed.is_rhythm_current:  # learned from what the feed holds now
        return feed.rhythm
    gaps = _gaps(feed.arrivals, max(feed.interval / 2, 1.0))
    if len(gaps) < MIN_GAPS:
        gaps = _gaps(sorted(set(feed.published), reverse=True), 1.0)
    return float(statistics.median(gaps)) if len(gaps) >= MIN_GAPS else None


def has_never_worked(last_status: str, last_success_at: datetime | None) -> bool:
    """Every poll of the feed failed: it is failing from the first failure on, since
    there is no working feed to wait for."""
    return last_status == "error" and last_success_at is None


def _failing_since(feed: FeedFacts, now: datetime) -> datetime | None:
    if not feed.error_count:
        return None
    if feed.failing_since is not None:
        return feed.failing_since
    if feed.error_count == 1:
        return feed.last_polled_at or now
    return feed.last_success_at or feed.created_at  # failing before health first saw it


def judge(feed: FeedFacts, cfg: HealthSettings, now: datetime) -> Verdict:
    failing_since = _failing_since(feed, now)
    usual = rhythm(feed)
    if failing_since is not None:
        age = (now - failing_since).total_seconds()
        is_never_ok = has_never_worked(feed.last_status, feed.last_success_at)
        if is_never_ok or feed.error_count >= cfg.failures or age >= cfg.failing_for:
            return Verdict("failing", failing_since, failing_since, usual)
        return Verdict(feed.state, feed.since, failing_since, usual)  # too early to say
    if usual is not None and cfg.silence_factor > 0 and feed.last_seen is not None:
        limit = max(cfg.silence_floor, cfg.silence_factor * usual)
        if (now - feed.last_seen).total_seconds() > limit:
            return Verdict("silent", feed.last_seen, None, usual, limit)
    return Verdict("ok", None, None, usual)


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else "unknown"


def _draft(feed: FeedFacts, verdict: Verdict) -> NoticeDraft:
    if verdict.state == "failing":
        never = "" if feed.last_success_at else " (it has never worked)"
        detail = (
            f"{feed.error_count} failed poll(s) in a row since {_iso(verdict.since)}{never}; "
            f"last error: {feed.last_error or 'unknown'}. newsmon keeps polling it with "
            f"backoff (next check {_iso(feed.next_check_at)}) and tells you when it works again."
        )
    elif verdict.state == "silent":
        detail = (
            f"no new entry since {_iso(verdict.since)}; it usually brings one every "
            f"{format_duration(verdict.rhythm or 0)}, and "
            f"{format_duration(verdict.silent_after or 0)} without one counts as silent."
        )
        if feed.state == "failing":
            detail = "its polls work again, but " + detail
    else:
        was = f"{feed.state} since {_iso(feed.since)}"
        detail = f"works again (it was {was}); last poll: {feed.last_status}."
    kind = "recovered" if verdict.state == "ok" else verdict.state
    return NoticeDraft(kind, verdict.since if verdict.state != "ok" else feed.since, detail)


def check_feeds(
    db: Database, settings: Settings, now: datetime, names: Sequence[str] | None = None
) -> list[Change]:
    """Judge the enabled feeds (or the named ones); notify each change of state once."""
    changes = []
    for feed in store.facts(db, names, SAMPLE, METHOD):
        if feed.last_status == "new":
            continue  # never polled yet
        verdict = judge(feed, settings.health, now)
        draft = _draft(feed, verdict) if verdict.state != feed.state else None
        is_same = (verdict.failing_since, verdict.rhythm) == (feed.failing_since, feed.rhythm)
        if draft is None and is_same and feed.is_stored and feed.is_rhythm_current:
            continue  # nothing to write
        notice_id = store.record(
            db,
            feed,
            now,
            state=verdict.state,
            since=verdict.since,
            failing_since=verdict.failing_since,
            rhythm=verdict.rhythm,
            notice=draft,
            channels=settings.health.channels,
        )
        if draft is None or notice_id is None:
            continue
        changes.append(Change(feed.name, verdict.state, notice_id))
        level = logging.INFO if verdict.state == "ok" else logging.WARNING
        log.log(
            level,
            "feed health feed=%s state=%s was=%s notice=%d detail=%r",
            feed.name,
            verdict.state,
            feed.state,
            notice_id,
            draft.detail,
        )
    return changes
