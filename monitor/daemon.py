"""The daemon's lifecycle: start, READY, watchdog, signals, reload, drain on stop.

The schedule is data: a short tick (a job of monitor.scheduler) asks the database which
feeds are due (``feeds.next_check_at``), so a restart resumes where the last run stopped.

systemd's notify protocol, in order:
  READY=1                 config valid, channel secrets readable, database migrated,
                          scheduler running
  WATCHDOG=1              every half WatchdogSec, only while the scheduler runs, the
                          poll loop makes progress ([daemon] stuck_after) and the
                          database answers: a stuck daemon is restarted
  RELOADING=1, READY=1    on SIGHUP; a bad new config is refused and logged, the old
                          one stays in force
  STOPPING=1              on SIGTERM or SIGINT; work in flight finishes (each fetch is
                          bounded by [http] deadline), nothing new starts; past
                          [daemon] stop_timeout the process exits hard (hardstop.py)
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import FrameType

from monitor import metrics, sdnotify
from monitor.config import settings as config_mod
from monitor.deliver.drain import drain
from monitor.errors import NewsmonError, UnavailableError
from monitor.fetch.client import Client
from monitor.hardstop import HardStop
from monitor.history.serve import FeedServer
from monitor.model import utcnow
from monitor.pipeline.assembly import after_cycle, close_context, open_context
from monitor.pipeline.context import Context
from monitor.pipeline.cycle import run_cycle
from monitor.pipeline.pool import Workers, kill_all
from monitor.scheduler import Jobs
from monitor.store.catalog import catalog
from monitor.store.db import connect
from monitor.watch import retention, status

__all__ = ["Daemon", "validate"]

log = logging.getLogger("newsmon.daemon")

TICK_SECONDS = 5.0  # how often the database is asked for due feeds (see _tick)
MAX_DB_BACKOFF = 300.0


def validate(settings: config_mod.Settings) -> None:
    """What the config model cannot check alone: every channel's secrets are readable
    and hold no placeholder (each problem listed, by file, line and channel)."""
    config_mod.check_secrets(settings)


class Daemon:
    def __init__(self, config_path: Path, settings: config_mod.Settings) -> None:
        self.config_path = config_path
        log.info("starting config=%s", config_path.resolve())
        validate(settings)
        self.ctx: Context = replace(_open_when_ready(settings), alerted=self._alerted)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._busy_since: float | None = None
        self._last_tick = time.monotonic()
        self._failures = 0  # polls in a row that failed on the database
        self._retry_at = 0.0
        self._delivering = threading.Lock()
        self._deliver_again = threading.Event()
        # replaced on reload (HTTP clients, worker processes); closed after their poll
        self._retired: list[Client | Workers] = []
        self._scheduler = Jobs()
        self._feed: FeedServer | None = None
        self._listen = settings.export.listen  # the feed's address stays until a restart
        self._hard_stop = HardStop(settings.daemon.stop_timeout, kill_all)

    # jobs -------------------------------------------------------------------------
    def _poll_job(self) -> None:
        self._last_tick = time.monotonic()
        if time.monotonic() < self._retry_at:
            return  # the database failed lately: wait out the backoff
        ctx = self.ctx
        self._busy_since = time.monotonic()
        ctx.liveness.beat()
        try:
            results = run_cycle(ctx, stop=self._stop)
            changes = after_cycle(ctx, results)
        except NewsmonError as exc:
            self._database_failed(str(exc))
            return
        except Exception as exc:  # a bug: logged with its traceback, retried like an outage
            log.exception("poll failed unexpectedly")
            self._database_failed(f"{type(exc).__name__}: {exc}")
            return
        finally:
            self._busy_since = None
            self._close_retired()
        if self._failures:
            log.info("database answers again, polling resumes")
            self._failures, self._retry_at = 0, 0.0
        if changes or any(r.alerts for r in results):
            self._deliver_soon()  # spike alerts wait for the next delivery tick

    def _database_failed(self, error: str) -> None:
        """Back off (5 s doubling to 5 min) instead of hammering a database that is down."""
        self._failures += 1
        delay = min(TICK_SECONDS * 2 ** (self._failures - 1), MAX_DB_BACKOFF)
        self._retry_at = time.monotonic() + delay
        log.warning(
            "poll skipped retry_in=%.0fs failures=%d error=%s", delay, self._failures, error
        )

    def _deliver_job(self) -> None:
        """Drain the outbox, one drain at a time: a call while one runs (a slow channel)
        asks it to go round once more and returns at once, so runs never pile up."""
        self._deliver_again.set()
        while self._deliver_again.is_set() and self._delivering.acquire(blocking=False):
            try:
                self._deliver_again.clear()
                self._drain()
            finally:
                self._delivering.release()

    def _alerted(self, _alerts: Sequence[int]) -> None:
        """An entry's alerts are committed: deliver them now, in the middle of a cycle
        too; the delivery job's own pass gathers what more arrives meanwhile. Before the
        scheduler runs (or once it stopped), the poll job's own call after the cycle does it."""
        if self._scheduler.running:
            self._wake_delivery()

    def _deliver_soon(self) -> None:
        """Send new alerts now rather than at the next delivery tick, in the delivery
        job's thread: a slow channel must not hold up polling (nor the watchdog)."""
        if self._scheduler.running:
            self._wake_delivery()
        else:
            self._deliver_job()

    def _wake_delivery(self) -> None:
        """Run the delivery job at once; one already running goes round once more."""
        self._deliver_again.set()
        try:
            self._scheduler.run_soon("deliver", utcnow())
        except Exception as exc:  # stopping meanwhile: the next start sends them
            log.debug("cannot wake the delivery job error=%r", repr(exc))

    def _drain(self) -> None:
        ctx = self.ctx
        try:
            result = drain(
                ctx.db,
                ctx.settings,
                ctx.clock(),
                is_stopping=lambda: ctx.liveness.is_stopping,
                owner=ctx.owner,
            )
        except NewsmonError as exc:
            log.warning("delivery pass failed error=%s", str(exc))
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

    def _prune_job(self) -> None:
        retention.prune_job(self.ctx.db, self.ctx.settings, self.ctx.clock())

    def _gauges(self) -> metrics.Gauges:
        return status.gauges(self.ctx.db, self.ctx.clock())

    def health(self) -> str | None:
        """None when healthy, else what is wrong."""
        stuck_after = self.ctx.settings.daemon.stuck_after
        if not self._scheduler.running:
            return "the scheduler is not running"
        if self._busy_since is not None and self.ctx.liveness.idle_for() > stuck_after:
            return f"the poll loop made no progress for {self.ctx.liveness.idle_for():.0f}s"
        overdue = max(stuck_after, 3 * TICK_SECONDS)
        if self._busy_since is None and time.monotonic() - self._last_tick > overdue:
            return "the poll loop has not run"
        if not self.ctx.db.ping():
            return "the database does not answer"
        return None

    def _watchdog_job(self) -> None:
        problem = self.health()
        if problem is None:
            sdnotify.notify("WATCHDOG=1")
        else:
            log.error("unhealthy, not pinging the watchdog reason=%s", problem)

    # lifecycle --------------------------------------------------------------------
    def run(self) -> None:
        exporter = metrics.serve(self.ctx.settings.metrics.listen, self._gauges)  # None: off
        s = self._scheduler
        s.every("poll", _tick(self.ctx.settings), self._poll_job, first=utcnow())
        s.every("deliver", self.ctx.settings.delivery.interval, self._deliver_job, first=utcnow())
        first_prune = utcnow() + timedelta(seconds=60)  # not during the start's first polls
        s.every("prune", retention.EVERY, self._prune_job, first=first_prune)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        self._hard_stop.install()
        s.start()
        self._serve_feed()
        sdnotify.notify("READY=1", f"STATUS={self._status()}")
        interval = sdnotify.watchdog_interval()
        if interval:
            s.every("watchdog", interval, self._watchdog_job)
        log.info(
            "started config=%s feeds=%d watchlists=%d",
            self.config_path.resolve(),
            len(self.ctx.settings.feed),
            len(self.ctx.watchlists),
        )
        try:
            while not self._stop.is_set():
                self._stop.wait(1.0)
                if self._reload.is_set() and not self._stop.is_set():
                    self._reload.clear()
                    self.reload()
        finally:
            self._hard_stop.arm()  # also when the loop ended for another reason
            try:
                self._finish(exporter)
            finally:
                self._hard_stop.finished()
            log.info("stopped")

    def _finish(self, exporter: metrics.Exporter | None) -> None:
        """The orderly stop: the work in flight finishes, then everything is closed."""
        self.ctx.liveness.stop()
        sdnotify.notify("STOPPING=1", "STATUS=stopping: finishing the work in flight")
        log.info("stopping, finishing the work in flight")
        self._scheduler.shutdown()
        if exporter is not None:
            exporter.close()
        if self._feed is not None:
            self._feed.close()
            self._feed.db.close()
        self._close_retired()
        close_context(self.ctx)

    def reload(self) -> None:
        """Re-read the config; keep the old one in force when the new one is bad."""
        sdnotify.notify("RELOADING=1", f"MONOTONIC_USEC={sdnotify.monotonic_usec()}")
        old = self.ctx
        new: Context | None = None
        try:
            settings = config_mod.load(self.config_path)
            validate(settings)
            new = open_context(settings, keep=old)
            feeds = sum(f.is_enabled for f in catalog(new.db))  # `feeds add` ones too
        except Exception as exc:
            if isinstance(exc, NewsmonError):
                log.error("reload refused, keeping the old config error=%s", str(exc))
            else:  # a bug must refuse the reload, not end the daemon
                log.exception("reload refused, keeping the old config error=%r", repr(exc))
            for part in _replaced(new, old) if new is not None else []:
                part.close()
            sdnotify.notify("READY=1", "STATUS=reload refused, see the log; old config in force")
            return
        self._apply(old, new)
        if self._feed is not None:
            self._feed.configure(settings.export, settings.watchlist)
        if settings.export.listen != self._listen:
            log.warning("[export] listen changed; it takes effect at the next restart")
        if self._scheduler.running and self._busy_since is None:
            self._scheduler.run_soon("poll", utcnow())  # new feeds at once
        log.info("reloaded feeds=%d watchlists=%d", feeds, len(settings.watchlist))
        sdnotify.notify("READY=1", f"STATUS={self._status()}")

    def _apply(self, old: Context, ctx: Context) -> None:
        """Put the reloaded context in force; what it replaced closes after its poll."""
        settings = ctx.settings
        self.ctx = ctx
        self._hard_stop.grace = settings.daemon.stop_timeout
        self._retired += _replaced(old, ctx)
        if ctx.workers is not old.workers:
            log.info("worker processes replaced workers=%d", settings.scale.workers)
        if self._scheduler.running:
            if _tick(settings) != _tick(old.settings):
                self._scheduler.reschedule("poll", _tick(settings))
            if settings.delivery.interval != old.settings.delivery.interval:
                self._scheduler.reschedule("deliver", settings.delivery.interval)
        if settings.database != old.settings.database:
            log.warning("restart newsmon to use the new [database] url; the old one stays")

    def _close_retired(self) -> None:
        """Close the HTTP clients and workers a reload replaced, once no poll can be
        using them."""
        while self._retired and self._busy_since is None:
            self._retired.pop().close()

    def _status(self) -> str:
        s = self.ctx.settings
        return f"polling {len(s.feed)} feeds for {len(s.watchlist)} watchlists"

    def _serve_feed(self) -> None:
        """The Atom feed over HTTP when [export] listen is set. A failure to listen is
        logged and alerting goes on without the feed."""
        export = self.ctx.settings.export
        if export.listen is None:
            return
        db = connect(self.ctx.settings.database.url, is_read_only=True)
        try:
            self._feed = FeedServer(db, export, self.ctx.settings.watchlist)
        except NewsmonError as exc:
            db.close()
            log.error("feed not served error=%r hint=%r", str(exc), exc.hint)
            return
        self._feed.start()
        log.info("serving feed url=%s", self._feed.url)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal received signal=%s", signal.Signals(signum).name)
        self._hard_stop.arm()
        self.ctx.liveness.stop()  # the cycle in flight stops taking new feeds at once
        self._stop.set()

    def _on_hup(self, _signum: int, _frame: FrameType | None) -> None:
        self._reload.set()


def _tick(settings: config_mod.Settings) -> float:
    """How often the database is asked for due feeds: never rarer than min_interval or
    the shortest feed interval, never more often than once a second."""
    intervals = [settings.feed_interval(f) for f in settings.feed]
    return max(1.0, min([TICK_SECONDS, settings.defaults.min_interval, *intervals]))


def _replaced(old: Context, new: Context) -> list[Client | Workers]:
    """The HTTP client and worker processes of ``old`` that ``new`` does not keep."""
    pairs = ((old.client, new.client), (old.workers, new.workers))
    return [part for part, kept in pairs if part is not kept]


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
            log.warning("database unavailable at start retry_in=%.0fs error=%s", delay, str(exc))
            sdnotify.notify(f"STATUS=waiting for the database: {exc}"[:200])
            sdnotify.notify(f"EXTEND_TIMEOUT_USEC={int((delay + 60) * 1_000_000)}")
            time.sleep(delay)
