"""What every stage of a poll is handed: the context, and the one way to GET a URL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.config.settings import FeedSettings, Settings
from monitor.fetch.client import Client, fetch
from monitor.fetch.hosts import HostLimiter
from monitor.match.watchlists import Watchlist
from monitor.model import FeedState, Fetched, utcnow
from monitor.pipeline.liveness import Liveness
from monitor.pipeline.pool import Workers
from monitor.store.db import Database
from monitor.store.leases import instance_name

__all__ = ["Context", "feed_settings", "get"]


def _ignore(_alerts: Sequence[int]) -> None:
    """No one to tell: ``poll --once`` sends what the cycle raised after it."""


@dataclass(frozen=True)
class Context:
    """What the stages need, handed in explicitly."""

    db: Database
    client: Client
    settings: Settings
    watchlists: Sequence[Watchlist]
    clock: Callable[[], datetime] = utcnow
    hosts: HostLimiter = field(default_factory=HostLimiter)  # [http] per_host
    liveness: Liveness = field(default_factory=Liveness)  # stop requests, heartbeat
    # parsing and extraction run here (monitor.pipeline.pool); in this process by default
    workers: Workers = field(default_factory=lambda: Workers(0))
    owner: str = field(default_factory=instance_name)  # names this instance in leases
    # told of each entry's alerts as soon as they are committed, from the polling thread:
    # the daemon starts delivering them then, not when the cycle ends
    alerted: Callable[[Sequence[int]], None] = _ignore


def get(
    ctx: Context,
    url: str,
    *,
    accept: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """One GET, holding one of the URL's host slots ([http] per_host) while it runs."""
    with ctx.hosts.slot(url):
        return fetch(
            ctx.client,
            url,
            max_bytes=ctx.settings.http.max_bytes,
            etag=etag,
            last_modified=last_modified,
            accept=accept,
        )


def feed_settings(ctx: Context, feed: FeedState) -> FeedSettings | None:
    """The feed's own table in the config; None for a feed added from the command line."""
    return ctx.settings.feeds_by_name.get(feed.name)
