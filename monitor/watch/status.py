"""Is newsmon healthy? One summary for ``newsmon status`` and the metrics gauges.

Something needs attention when the database does not answer or its schema is not
the newest, a feed fails or has been silent too long, no feed was polled lately,
a delivery that is due has waited too long, or a delivery is dead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.config.settings import Settings
from monitor.errors import NewsmonError
from monitor.metrics import Gauges
from monitor.store import status as store
from monitor.store.db import Database, connect
from monitor.watch.health import has_never_worked

__all__ = ["Limits", "Status", "ago", "check", "gauges"]


@dataclass(frozen=True)
class Limits:
    """How old is too old, in seconds."""

    poll_age: float  # a due feed not polled, or no poll successful, for this long
    queue_age: float  # a due delivery has waited this long
    silent_after: float  # a feed has had no new entry for this long

    @classmethod
    def for_settings(cls, settings: Settings) -> Limits:
        """Three times the shortest feed interval (at least 30 minutes), 15 minutes, 7 days."""
        shortest = min(
            (settings.feed_interval(f) for f in settings.feed if f.enabled),
            default=settings.defaults.interval,
        )
        return cls(poll_age=max(3 * shortest, 1800.0), queue_age=900.0, silent_after=7 * 86400.0)


@dataclass
class Status:
    checked_at: datetime
    database: dict[str, Any] = field(default_factory=dict)
    feeds: dict[str, Any] = field(default_factory=dict)
    last_poll_at: datetime | None = None  # the last poll, whatever its outcome
    last_success_at: datetime | None = None
    outbox: dict[str, Any] = field(default_factory=dict)
    alerts_24h: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def is_ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"ok": self.is_ok, **data}


def check(settings: Settings, now: datetime, limits: Limits) -> Status:
    """Read the database named in ``settings``; never raises for a database problem."""
    found = Status(checked_at=now)
    try:
        db = connect(settings.database.url, is_read_only=True, must_exist=True)
        try:
            _check(db, found, now, limits)
        finally:
            db.close()
    except NewsmonError as exc:
        found.database.setdefault("reachable", False)
        found.database["error"] = str(exc)
        found.problems.append(f"database: {exc}; {exc.hint}")
    return found


def _check(db: Database, found: Status, now: datetime, limits: Limits) -> None:
    current, heads = db.schema_revisions()
    found.database = {"reachable": True, "schema": current, "newest": heads}
    if current != heads:
        found.problems.append(
            f"database schema is {', '.join(current) or 'empty'}, not the newest "
            f"({', '.join(heads)}): run `newsmon db upgrade` (or start the daemon)"
        )
        return
    _feeds(db, found, now, limits)
    box = store.outbox(db, now)
    age = (now - box.oldest_due_at).total_seconds() if box.oldest_due_at else None
    found.outbox = {**asdict(box), "oldest_due_age": age}
    if age is not None and age > limits.queue_age:
        found.problems.append(
            f"the oldest due delivery has waited {ago(age)}: is the daemon running?"
        )
    if box.dead:
        found.problems.append(
            f"{box.dead} dead deliveries: see `newsmon deliveries list --status dead`"
        )
    found.alerts_24h = store.alerts_since(db, now - timedelta(days=1))


def _feeds(db: Database, found: Status, now: datetime, limits: Limits) -> None:
    feeds = store.feeds(db)
    judged = store.judged_states(db)  # the feed-health judgement (monitor/watch/health.py)
    failing = [
        f.name
        for f in feeds
        if judged.get(f.name) == "failing" or has_never_worked(f.status, f.last_success_at)
    ]
    erroring = [f.name for f in feeds if f.status == "error" and f.name not in failing]
    silent_since = now - timedelta(seconds=limits.silent_after)
    silent = [
        f.name
        for f in feeds
        if f.status != "error"
        and f.last_success_at is not None
        and (judged.get(f.name) == "silent" or (f.newest_entry_at or f.created_at) < silent_since)
    ]
    never = [f.name for f in feeds if f.status == "new"]
    found.feeds = {
        "enabled": len(feeds),
        "ok": len(feeds) - len(failing) - len(silent) - len(never),
        "failing": len(failing),
        "silent": len(silent),
        "not_polled_yet": len(never),
        "failing_names": failing,
        "erroring_names": erroring,  # the last poll failed; not failing for long yet
        "silent_names": silent,
        # how many of each kind: feed, sitemap, page, telegram ("unknown": not read yet)
        "kinds": dict(sorted(Counter(f.kind or "unknown" for f in feeds).items())),
    }
    found.last_poll_at = max((f.last_polled_at for f in feeds if f.last_polled_at), default=None)
    found.last_success_at = max(
        (f.last_success_at for f in feeds if f.last_success_at), default=None
    )
    if failing:
        found.problems.append(f"{len(failing)} feed(s) failing: {', '.join(failing)}")
    if silent:
        found.problems.append(
            f"{len(silent)} feed(s) without a new entry for {ago(limits.silent_after)}: "
            + ", ".join(silent)
        )
    if feeds:
        _polls(feeds, found, now, limits.poll_age)


def _polls(feeds: list[store.FeedHealth], found: Status, now: datetime, limit: float) -> None:
    """Is anything polling? Judged by the polls made and the feeds left due, not by
    their outcome: a daemon whose every poll fails is running."""
    last, success = found.last_poll_at, found.last_success_at
    overdue = [
        f.name
        for f in feeds
        if f.next_check_at is not None and (now - f.next_check_at).total_seconds() > limit
    ]
    if last is None or overdue:
        when = "ever" if last is None else f"for {ago((now - last).total_seconds())}"
        late = f" ({len(overdue)} feed(s) due for over {ago(limit)})" if overdue else ""
        found.problems.append(f"no feed polled {when}{late}: is the daemon running?")
    elif success is None or (now - success).total_seconds() > limit:
        when = "ever" if success is None else f"for {ago((now - success).total_seconds())}"
        found.problems.append(
            f"no feed polled successfully {when}, though polls run (the last "
            f"{ago((now - last).total_seconds())} ago): see `newsmon feeds list`"
        )


def ago(seconds: float) -> str:
    """A span, roughly: 45s, 12m, 3h, 7d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def gauges(db: Database, now: datetime) -> Gauges:
    """The database gauges of the metrics endpoint (two aggregate queries)."""
    feeds = store.feed_summary(db)
    box = store.outbox(db, now)
    depth = {k: v for k, v in asdict(box).items() if k != "oldest_due_at"}
    return Gauges(depth, feeds.enabled, feeds.failing, feeds.last_success_at)
