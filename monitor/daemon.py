"""The daemon's lifecycle: start, READY, watchdog, signals, reload, drain on stop.

The schedule is data: a short APScheduler tick asks the database which feeds are
due (``feeds.next_check_at``), so a restart resumes where the last run stopped.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from monitor import config as config_mod
from monitor import sdnotify
from monitor.app import close_context, open_context
from monitor.delivery import drain
from monitor.errors import NewsmonError
from monitor.match import compile_watchlists
from monitor.pipeline import Context, run_cycle
from monitor.store.feeds import sync_feeds

__all__ = ["Daemon"]

log = logging.getLogger("newsmon.daemon")

TICK_SECONDS = 5.0
STUCK_AFTER = 900.0  # a poll job running longer than this is considered stuck


class Daemon:
    def __init__(self, config_path: Path, settings: config_mod.Settings) -> None:
        self.config_path = config_path
        self.ctx: Context = open_context(settings)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._busy_since: float | None = None
        self._delivering = threading.Lock()
        self._scheduler = BackgroundScheduler(timezone="UTC")

    # jobs -------------------------------------------------------------------------
    def _poll_job(self) -> None:
        self._busy_since = time.monotonic()
        try:
            results = run_cycle(self.ctx)
        finally:
            self._busy_since = None
        if any(r.alerts for r in results):
            self._deliver_job()  # send new alerts now rather than at the next delivery tick

    def _deliver_job(self) -> None:
        with self._delivering:
            self._drain()

    def _drain(self) -> None:
        try:
            result = drain(self.ctx.db, self.ctx.settings, self.ctx.clock())
        except NewsmonError as exc:
            log.warning("delivery pass failed error=%r", str(exc))
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
        s.add_job(
            self._poll_job,
            "interval",
            seconds=TICK_SECONDS,
            id="poll",
            max_instances=1,
            coalesce=True,
            next_run_time=_now(),
        )
        s.add_job(
            self._deliver_job,
            "interval",
            seconds=self.ctx.settings.delivery.interval,
            id="deliver",
            max_instances=1,
            coalesce=True,
            next_run_time=_now(),
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
            self.ctx = Context(self.ctx.db, self.ctx.client, settings, compile_watchlists(settings))
            log.info("reloaded feeds=%d watchlists=%d", len(settings.feed), len(settings.watchlist))
        sdnotify.notify("READY=1")

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal=%s", signal.Signals(signum).name)
        self._stop.set()

    def _on_hup(self, _signum: int, _frame: FrameType | None) -> None:
        self._reload.set()


def _now() -> object:
    from datetime import UTC, datetime

    return datetime.now(UTC)
