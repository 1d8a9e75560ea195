"""Alert volume over time: counts per watchlist, feed or term per hour or day, in a time
zone, with every bucket present (empty ones as zero).

Buckets are whole hours or whole local days: ``since`` and ``until`` widen to the
buckets that hold them. The counts are kept per UTC hour (monitor/store/counts.py), so in
the few zones whose offset is not a whole hour a bucket starts at the UTC hour before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.errors import StatsError
from monitor.store.counts import Dimension, Run, counts
from monitor.store.db import Database

__all__ = ["Bucket", "Report", "Series", "boundaries", "report", "runs", "time_zone"]

Bucket = Literal["hour", "day"]
_HOUR = timedelta(hours=1)
MAX_BUCKETS = 50_000


@dataclass(frozen=True)
class Series:
    name: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)


@dataclass(frozen=True)
class Report:
    by: Dimension
    bucket: Bucket
    zone: str
    starts: tuple[datetime, ...]  # each bucket's start, in ``zone``
    end: datetime  # the end of the last bucket, in ``zone``
    series: tuple[Series, ...]  # busiest first

    @property
    def total(self) -> int:
        return sum(s.total for s in self.series)


def time_zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise StatsError(
            f"unknown time zone {name!r}", "use an IANA name such as Europe/Berlin, or UTC"
        ) from None


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def boundaries(since: datetime, until: datetime, bucket: Bucket, zone: tzinfo) -> list[datetime]:
    """The UTC starts of the buckets that cover [since, until], and the end of the last."""
    if until <= since:
        raise StatsError("--until must be later than --since")
    if bucket == "hour":
        first, last = _floor_hour(since), _floor_hour(until)
        last += _HOUR if last < until else timedelta(0)
        count = max(1, round((last - first) / _HOUR))
        _check_size(count)
        return [first + i * _HOUR for i in range(count + 1)]
    day, until_local = since.astimezone(zone).date(), until.astimezone(zone)
    last_day = until_local.date()
    if until_local.timetz().replace(tzinfo=None) != time(0):
        last_day += timedelta(days=1)
    _check_size((last_day - day).days)
    found = []
    while day <= last_day:
        found.append(_floor_hour(datetime.combine(day, time(0), tzinfo=zone)))
        day += timedelta(days=1)
    return found


def runs(bounds: Sequence[datetime]) -> list[Run]:
    """The bucket boundaries as runs of equal width (one run unless the clocks change)."""
    found: list[Run] = []
    for i, (a, b) in enumerate(pairwise(bounds)):
        width = int((b - a).total_seconds())
        last = found[-1] if found else None
        if last is not None and last.width == width and last.end == a:
            found[-1] = replace(last, end=b)
        else:
            found.append(Run(i, a, width, b))
    return found


def _check_size(count: int) -> None:
    if count > MAX_BUCKETS:
        raise StatsError(
            f"{count} buckets is too many to show", "use --bucket day or a shorter --since"
        )


def report(
    db: Database,
    by: Dimension,
    since: datetime,
    until: datetime,
    bucket: Bucket = "day",
    zone_name: str = "UTC",
    names: Iterable[str] = (),
) -> Report:
    """Alerts per ``by`` and bucket; ``names`` are shown even when they have none."""
    zone = time_zone(zone_name)
    bounds = boundaries(since, until, bucket, zone)
    size = len(bounds) - 1
    table: dict[str, list[int]] = {name: [0] * size for name in names}
    for row in counts(db, by, runs(bounds)):
        if 0 <= row.bucket < size:
            table.setdefault(row.name, [0] * size)[row.bucket] += row.count
    series = sorted(
        (Series(name, tuple(values)) for name, values in table.items()),
        key=lambda s: (-s.total, s.name),
    )
    return Report(
        by=by,
        bucket=bucket,
        zone=zone_name,
        starts=tuple(b.astimezone(zone) for b in bounds[:-1]),
        end=bounds[-1].astimezone(zone),
        series=tuple(series),
    )
