"""The daemon's lifecycle: start, READY, watchdog, signals, reload, drain on stop.

The schedule is data: a short APScheduler tick asks the database which feeds are
due (``feeds.next_check_at``), so a restart resumes where the last run stopped.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from monitor import config as config_mod
from monitor import sdnotify
from monitor.app import close_context, open_context
from monitor.cycle import run_cycle
from monitor.delivery import drain
from monitor.errors import NewsmonError, UnavailableError
from monitor.match import compile_watchlists
from monitor.pipeline import Context, utcnow
from monitor.store.feeds import sync_feeds

__all__ = ["Daemon"]

log = logging.getLogger("newsmon.daemon")

TICK_SECONDS = 5.0  # how often due feeds are looked for (more often for shorter intervals)
STUCK_AFTER = 900.0  # a poll job running longer than this is considered stuck
MAX_DB_BACKOFF = 300.0


class Daemon:
    def __init__(self, config_path: Path, settings: config_mod.Settings) -> None:
        self.config_path = config_path
        self.ctx: Context = _open_when_ready(settings)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._busy_since: float | None = None
        self._failures = 0  # polls in a row that failed on the database
        self._retry_at = 0.0
        self._delivering = threading.Lock()
        self._scheduler = BackgroundScheduler(timezone="UTC")

    # jobs -------------------------------------------------------------------------
    def _poll_job(self) -> None:
        if time.monotonic() < self._retry_at:
            return  # the database failed lately: wait out the backoff
        self._busy_since = time.monotonic()
        try:
            results = run_cycle(self.ctx, stop=self._stop)
        except NewsmonError as exc:
            self._database_failed(str(exc))
            return
        except Exception as exc:  # a bug: logged with its traceback, retried like an outage
            log.exception("poll failed unexpectedly")
            self._database_failed(f"{type(exc).__name__}: {exc}")
            return
        finally:
            self._busy_since = None
        if self._failures:
            log.info("database answers again; polling resumes")
            self._failures, self._retry_at = 0, 0.0
        if any(r.alerts for r in results):
            self._deliver_job()  # send new alerts now rather than at the next delivery tick

    def _database_failed(self, error: str) -> None:
        """Back off (5 s doubling to 5 min) instead of hammering a database that is down."""
        self._failures += 1
        delay = min(TICK_SECONDS * 2 ** (self._failures - 1), MAX_DB_BACKOFF)
        self._retry_at = time.monotonic() + delay
        log.warning(
            "poll skipped, retrying in %.0fs failures=%d error=%r",
            delay,
            self._failures,
            error,
        )

    def _deliver_job(self) -> None:
        with self._delivering:
            self._drain()

    def _drain(self) -> None:
        try:
            result = drain(self.ctx.db, self.ctx.settings, self.ctx.clock(), owner=self.ctx.owner)
        except NewsmonError as exc:
            log.warning("delivery pass failed error=%r", str(exc))
            return
        except Exception:  # a bug must not stop deliveries for good: the next tick retries
            log.exception("delivery pass failed unexpectedly")
            return
        if result.sent or result.failed or result.dead:
            log.info(
                "delivery pass sent=%d failed=%d dead=%d held=%d",
                result.sent,
                result.failed,
                result.dead,
                result.held,
            )

    def _is_healthy(self) -> bool:
        busy = self._busy_since
        is_stuck = busy is not None and time.monotonic() - busy > STUCK_AFTER
        return self._scheduler.running and not is_stuck and self.ctx.db.ping()

    def _watchdog_job(self) -> None:
        if self._is_healthy():
            sdnotify.notify("WATCHDOG=1")
        else:
            log.error("unhealthy: not pinging the watchdog")

    # lifecycle --------------------------------------------------------------------
    def run(self) -> None:
        s = self._scheduler
        intervals = [self.ctx.settings.feed_interval(f) for f in self.ctx.settings.feed]
        s.add_job(
            self._poll_job,
            "interval",
            seconds=max(1.0, min([TICK_SECONDS, *intervals])),
            id="poll",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        s.add_job(
            self._deliver_job,
            "interval",
            seconds=self.ctx.settings.delivery.interval,
            id="deliver",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        interval = sdnotify.watchdog_interval()
        if interval:
            s.add_job(
                self._watchdog_job, "interval", seconds=interval, id="watchdog", coalesce=True
            )
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        s.start()
        sdnotify.notify("READY=1")
        log.info(
            "started feeds=%d watchlists=%d", len(self.ctx.settings.feed), len(self.ctx.watchlists)
        )
        try:
            while not self._stop.is_set():
                self._stop.wait(1.0)
                if self._reload.is_set():
                    self._reload.clear()
                    self.reload()
        finally:
            sdnotify.notify("STOPPING=1")
            log.info("stopping: waiting for running jobs")
            s.shutdown(wait=True)
            close_context(self.ctx)
            log.info("stopped")

    def reload(self) -> None:
        """Re-read the config; keep the old one in force when the new one is bad."""
        sdnotify.notify("RELOADING=1")
        try:
            settings = config_mod.load(self.config_path)
            sync_feeds(self.ctx.db, settings, self.ctx.clock())
        except NewsmonError as exc:
            log.error("reload refused, keeping the old config error=%r", str(exc))
        else:
            self.ctx = replace(self.ctx, settings=settings, watchlists=compile_watchlists(settings))
            log.info("reloaded feeds=%d watchlists=%d", len(settings.feed), len(settings.watchlist))
        sdnotify.notify("READY=1")

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal=%s", signal.Signals(signum).name)
        self._stop.set()

    def _on_hup(self, _signum: int, _frame: FrameType | None) -> None:
        self._reload.set()


def _open_when_ready(settings: config_mod.Settings) -> Context:
    """Open the database, waiting for it if it does not answer yet: a daemon started
    before its database (or restarted during an outage) waits instead of exiting into a
    restart loop. systemd is told why, and that starting takes longer."""
    failures = 0
    while True:
        try:
            return open_context(settings)
        except UnavailableError as exc:
            failures += 1
            delay = min(TICK_SECONDS * 2 ** (failures - 1), MAX_DB_BACKOFF)
            log.warning(
                "database unavailable at start, retrying in %.0fs error=%r", delay, str(exc)
            )
            sdnotify.notify(f"STATUS=waiting for the database: {exc}"[:200])
            sdnotify.notify(f"EXTEND_TIMEOUT_USEC={int((delay + 60) * 1_000_000)}")
            time.sleep(delay)
