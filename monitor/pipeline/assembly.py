"""Assembling the parts: database, HTTP client and compiled watchlists for one config,
and what follows a poll pass. ``poll --once`` and the daemon both go through here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from monitor.config.secrets import in_url
from monitor.config.settings import Settings
from monitor.deliver.drain import DrainResult, drain
from monitor.fetch.client import Transport, make_client
from monitor.fetch.hosts import HostLimiter
from monitor.log import hide
from monitor.match.watchlists import compile_watchlists
from monitor.model import utcnow
from monitor.pipeline.context import Context
from monitor.pipeline.cycle import run_cycle
from monitor.pipeline.feed import FeedResult
from monitor.pipeline.polls import sync_feeds
from monitor.pipeline.pool import Workers
from monitor.pipeline.spikes import check_spikes
from monitor.store.db import connect
from monitor.store.leases import Lease, held_elsewhere
from monitor.watch.health import Change, check_feeds

__all__ = [
    "CycleReport",
    "after_cycle",
    "close_context",
    "hide_feed_secrets",
    "open_context",
    "poll_once",
]

log = logging.getLogger("newsmon.health")


def hide_feed_secrets(settings: Settings) -> None:
    """Keep credentials in feed URLs (a password, ?token=...) out of every log line."""
    for feed in settings.feed:
        hide(*in_url(feed.url))


def open_context(
    settings: Settings,
    *,
    keep: Context | None = None,
    transport: Transport | None = None,
    is_parsing_inline: bool = False,
) -> Context:
    """The parts for ``settings``: connect, migrate to head, make the feeds table match
    the config, then the HTTP client, the compiled watchlists, host limits and workers.

    Given ``keep`` (the context a reload replaces), its database, clock, liveness and
    owner stay, and so do its HTTP client, host limits and worker processes where their
    settings did not change; the caller closes the parts of ``keep`` that were replaced
    once nothing uses them. ``is_parsing_inline``: one pass, then exit (``poll --once``),
    so parse in this process until half the fetching threads wait for a parse (see
    monitor.pipeline.pool)."""
    hide_feed_secrets(settings)
    if keep is not None:
        sync_feeds(keep.db, settings, keep.clock())
        return _renewed(keep, settings, transport)
    db = connect(settings.database.url)
    try:
        db.migrate()
        sync_feeds(db, settings, utcnow())
    except BaseException:
        db.close()
        raise
    return Context(
        db=db,
        client=make_client(settings.http, transport),
        settings=settings,
        watchlists=compile_watchlists(settings),
        hosts=HostLimiter(settings.http.per_host),
        workers=Workers(
            settings.scale.workers,
            settings.scale.worker_timeout,
            inline_backlog=max(1, settings.http.concurrency // 2) if is_parsing_inline else 0,
        ),
    )


def _renewed(old: Context, settings: Settings, transport: Transport | None) -> Context:
    ctx = replace(old, settings=settings, watchlists=compile_watchlists(settings))
    http, scale = settings.http, settings.scale
    if http != old.settings.http:
        ctx = replace(ctx, client=make_client(http, transport))
    if http.per_host != old.settings.http.per_host:
        ctx = replace(ctx, hosts=HostLimiter(http.per_host))
    was = old.settings.scale
    if (scale.workers, scale.worker_timeout) != (was.workers, was.worker_timeout):
        ctx = replace(ctx, workers=Workers(scale.workers, scale.worker_timeout))
    return ctx


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
    """Every feed (or the named ones) once, whatever their schedule, what follows a
    pass (after_cycle), then the outbox."""
    results = run_cycle(ctx, names=names, is_forced=True)
    polled = {r.feed for r in results}
    skipped = [
        lease
        for lease in held_elsewhere(ctx.db, ctx.owner, ctx.clock(), names)
        if lease.feed not in polled
    ]
    changes = after_cycle(ctx, results)
    drained = drain(ctx.db, ctx.settings, ctx.clock(), owner=ctx.owner)
    return CycleReport(results, drained, changes, skipped)


def after_cycle(ctx: Context, results: Sequence[FeedResult]) -> list[Change]:
    """What follows a poll pass, in order: spikes in the watchlists' volume, then the
    health of the feeds polled; the feeds whose health changed. Their alerts and notices
    wait in the outbox for the next delivery."""
    check_spikes(ctx, results)
    if not results:
        return []
    try:
        return check_feeds(ctx.db, ctx.settings, ctx.clock(), [r.feed for r in results])
    except Exception as exc:  # health must never stop polling; the next pass judges again
        log.warning("feed health check failed error=%r", f"{type(exc).__name__}: {exc}")
        return []
