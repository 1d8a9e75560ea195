"""Assembling the parts: database, HTTP client and compiled watchlists for one config."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from monitor.config import Settings
from monitor.cycle import run_cycle
from monitor.delivery import DrainResult, drain
from monitor.fetch import make_client
from monitor.match import compile_watchlists
from monitor.pipeline import Context, FeedResult, utcnow
from monitor.store.db import connect
from monitor.store.feeds import sync_feeds
from monitor.workers import Workers

__all__ = ["CycleReport", "close_context", "open_context", "poll_once"]


def open_context(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> Context:
    """Connect, migrate to head, and make the feeds table match the config."""
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


def poll_once(ctx: Context, names: Sequence[str] | None = None) -> CycleReport:
    """Every feed (or the named ones) once, whatever their schedule, then the outbox."""
    results = run_cycle(ctx, names=names, is_forced=True)
    return CycleReport(results, drain(ctx.db, ctx.settings, ctx.clock(), owner=ctx.owner))
