"""Assembling the parts: database, HTTP client and compiled watchlists for one config."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from monitor.config.secrets import in_url
from monitor.config.settings import Settings
from monitor.deliver.drain import DrainResult, drain
from monitor.fetch.client import make_client
from monitor.fetch.hosts import HostLimiter
from monitor.log import hide
from monitor.match.watchlists import compile_watchlists
from monitor.pipeline.context import Context, utcnow
from monitor.pipeline.cycle import run_cycle
from monitor.pipeline.feed import FeedResult
from monitor.pipeline.polls import sync_feeds
from monitor.pipeline.pool import Workers
from monitor.pipeline.spikes import check_spikes
from monitor.store.db import connect
from monitor.store.leases import Lease, held_elsewhere
from monitor.watch.health import Change, check_feeds

__all__ = ["CycleReport", "close_context", "hide_feed_secrets", "open_context", "poll_once"]


def hide_feed_secrets(settings: Settings) -> None:
    """Keep credentials in feed URLs (a password, ?token=...) out of every log line."""
    for feed in settings.feed:
        hide(*in_url(feed.url))


def open_context(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> Context:
    """Connect, migrate to head, and make the feeds table match the config."""
    hide_feed_secrets(settings)
    db = connect(settings.database.url)
    try:
        db.migrate()
        sync_feeds(db, settings, utcnow())
    except BaseException:
        db.close()
        raise
    client = make_client(settings.http, transport)
    return Context(
        db=db,
        client=client,
        settings=settings,
        watchlists=compile_watchlists(settings),
        hosts=HostLimiter(settings.http.per_host),
        workers=Workers(settings.scale.workers, settings.scale.worker_timeout),
    )


def close_context(ctx: Context) -> None:
    ctx.workers.close()
    ctx.client.close()
    ctx.db.close()


@dataclass(frozen=True)
class CycleReport:
    feeds: list[FeedResult]
    deliveries: DrainResult
    health: list[Change] = field(default_factory=list)  # feeds whose health changed
    skipped: list[Lease] = field(default_factory=list)  # held by another instance


def poll_once(ctx: Context, names: Sequence[str] | None = None) -> CycleReport:
    """Every feed (or the named ones) once, whatever their schedule, their health, then
    the outbox."""
    results = run_cycle(ctx, names=names, is_forced=True)
    polled = {r.feed for r in results}
    skipped = [
        lease
        for lease in held_elsewhere(ctx.db, ctx.owner, ctx.clock(), names)
        if lease.feed not in polled
    ]
    changes = check_feeds(ctx.db, ctx.settings, ctx.clock(), [r.feed for r in results])
    check_spikes(ctx, results)
    drained = drain(ctx.db, ctx.settings, ctx.clock(), owner=ctx.owner)
    return CycleReport(results, drained, changes, skipped)
