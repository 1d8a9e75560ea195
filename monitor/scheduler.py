"""Cron-like schedules (APScheduler's crontab parser) and time zones, behind one module."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

__all__ = ["check_crontab", "next_fire", "zone"]


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'")


_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _weekdays(field: str) -> str:
    """Crontab weekday numbers (0 or 7 = Sunday) as names, which APScheduler 3 reads right
    (its own numbers start at Monday)."""
    if field == "*" or any(c.isalpha() for c in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first, last = int(low), int(high or low) if not step or high else 6
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last):
            raise ValueError(f"weekday {part!r} is out of range 0-7")
        days.update(d % 7 for d in range(first, last + 1, int(step or 1)))
    return ",".join(_DAYS[d] for d in sorted(days))


def _trigger(expr: str, tz: str) -> CronTrigger:
    try:
        fields = expr.split()
        if len(fields) == 5:
            fields[4] = _weekdays(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=zone(tz))
    except ValueError as exc:
        raise ValueError(
            f"{expr!r} is not a crontab schedule (minute hour day month weekday, "
            f"e.g. '0 8 * * 1-5'): {exc}"
        ) from None


def check_crontab(expr: str, tz: str) -> str:
    _trigger(expr, tz)
    return expr


def next_fire(expr: str, tz: str, after: datetime) -> datetime:
    """The first time the schedule fires at or after ``after``, in UTC."""
    fire = _trigger(expr, tz).get_next_fire_time(None, after)
    if fire is None:  # a crontab always fires again; be safe anyway
        raise ValueError(f"the schedule {expr!r} never fires again")
    return datetime.fromtimestamp(fire.timestamp(), UTC)
