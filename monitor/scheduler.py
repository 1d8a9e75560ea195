"""APScheduler behind one module: crontab schedules and time zones (digests, quiet
hours), and the daemon's jobs that run every so many seconds (``Jobs``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

__all__ = ["Jobs", "check_crontab", "next_fire", "zone"]


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
    # imported here: loading a config without a crontab schedule does not need it
    from apscheduler.triggers.cron import CronTrigger

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


class _SkippedRun(logging.Filter):
    """APScheduler warns whenever a job's run is skipped because its previous run still
    goes on (a slow channel, a long cycle). Each job runs once at a time by design here
    (``max_instances=1``), so that line is demoted to debug level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" not in str(record.msg):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


_SKIPPED_RUN = _SkippedRun()


class Jobs:
    """Named jobs, each run every so many seconds in a thread of its own, one run at a
    time: a run due while the previous one goes on is skipped, and runs missed meanwhile
    are run once (coalesced)."""

    def __init__(self) -> None:
        # the scheduler's own modules load here: a command that only reads a config
        # (and its crontab schedules) does not pay for them
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler: BackgroundScheduler = BackgroundScheduler(timezone="UTC")
        logging.getLogger("apscheduler.scheduler").addFilter(_SKIPPED_RUN)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def every(
        self,
        name: str,
        seconds: float,
        job: Callable[[], None],
        *,
        first: datetime | None = None,
    ) -> None:
        """Run ``job`` every ``seconds``, first at ``first`` (None: after ``seconds``)."""
        # APScheduler reads next_run_time=None as "paused": leave it out instead
        when = {} if first is None else {"next_run_time": first}
        self._scheduler.add_job(
            job, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True, **when
        )

    def run_soon(self, name: str, at: datetime) -> None:
        """Run the job ``name`` next at ``at`` rather than at its next turn."""
        self._scheduler.modify_job(name, next_run_time=at)

    def reschedule(self, name: str, seconds: float) -> None:
        self._scheduler.reschedule_job(name, trigger="interval", seconds=seconds)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop, waiting for the runs in flight to finish."""
        self._scheduler.shutdown(wait=True)
