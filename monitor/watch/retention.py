"""Retention (``[retention]``): how long article text and delivery details are kept.

Pruning empties the text of articles first seen longer ago than ``article_text``
(with their event profiles and index rows), and drops the per-target details of
deliveries sent longer ago than ``delivery_details``. It keeps what stops old entries
from alerting again and the alert history (see monitor.store.retention). The daemon
prunes every hour, and ``newsmon db prune`` on demand; both work in short batches with
a pause between them, so writers never wait long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor import metrics
from monitor.config.settings import Settings
from monitor.errors import ConfigError, NewsmonError
from monitor.store import retention as store
from monitor.store.db import Database

__all__ = ["BATCH", "EVERY", "PruneReport", "cutoffs", "prune", "prune_job"]

log = logging.getLogger("newsmon.retention")

BATCH = 500  # rows per transaction
PAUSE = 0.1  # seconds between two batches: a waiting writer gets the database first
EVERY = 3600.0  # the daemon prunes this often


@dataclass(frozen=True)
class PruneReport:
    articles: int  # texts removed (or that would be, in a dry run)
    text_chars: int  # their length, before
    deliveries: int  # delivery details removed
    texts_before: datetime | None  # the cutoffs; None: that kind is kept
    details_before: datetime | None
    is_dry_run: bool = False


def cutoffs(
    settings: Settings, now: datetime, older_than: float | None = None
) -> tuple[datetime | None, datetime | None]:
    """Before when article text and delivery details go. ``older_than`` replaces
    ``[retention] article_text``; neither may be shorter than ``[stories] window`` (or
    ``event_window``): new articles are compared with those, and with their events."""
    keep_text = settings.retention.article_text if older_than is None else older_than
    if keep_text is not None and keep_text < settings.stories.kept_for():
        raise ConfigError(
            "article text younger than [stories] window (or event_window) cannot be "
            "pruned: new articles are compared with it to find their story and event",
            "prune older text, or shorten [stories] window and event_window",
        )
    keep_details = settings.retention.delivery_details
    return (
        None if keep_text is None else now - timedelta(seconds=keep_text),
        None if keep_details is None else now - timedelta(seconds=keep_details),
    )


def prune(
    db: Database,
    settings: Settings,
    now: datetime,
    *,
    older_than: float | None = None,
    is_dry_run: bool = False,
    on_total: Callable[[int], None] = lambda total: None,
    on_batch: Callable[[int], None] = lambda done: None,
    pause: float = PAUSE,
) -> PruneReport:
    """Count what is due, then (unless a dry run) remove it batch by batch."""
    texts_before, details_before = cutoffs(settings, now, older_than)
    due = store.pending(db, texts_before, details_before)
    report = PruneReport(
        due.articles, due.text_chars, due.deliveries, texts_before, details_before, is_dry_run
    )
    if is_dry_run or not (due.articles or due.deliveries):
        return report
    on_total(due.articles + due.deliveries)
    articles = deliveries = 0
    if texts_before is not None:
        articles = _batches(
            lambda: store.prune_articles(db, texts_before, now, BATCH), on_batch, pause
        )
        metrics.pruned(articles)
    if details_before is not None:
        deliveries = _batches(
            lambda: store.prune_deliveries(db, details_before, BATCH), on_batch, pause
        )
    return PruneReport(articles, due.text_chars, deliveries, texts_before, details_before)


def _batches(step: Callable[[], int], on_batch: Callable[[int], None], pause: float) -> int:
    total = 0
    while True:
        done = step()
        total += done
        if done:
            on_batch(done)
        if done < BATCH:
            return total
        time.sleep(pause)


def prune_job(db: Database, settings: Settings, now: datetime) -> None:
    """The daemon's hourly prune: logs what it removed; never raises."""
    r = settings.retention
    if r.article_text is None and r.delivery_details is None:
        return
    try:
        report = prune(db, settings, now)
    except NewsmonError as exc:
        log.warning("prune failed, retrying in an hour error=%r", str(exc))
        return
    except Exception:  # a bug must not stop the daemon: the next run tries again
        log.exception("prune failed unexpectedly")
        return
    if report.articles or report.deliveries:
        log.info(
            "pruned articles=%d chars=%d deliveries=%d",
            report.articles,
            report.text_chars,
            report.deliveries,
        )
