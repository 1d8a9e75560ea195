"""Prometheus metrics, behind one module (prometheus_client).

The stages count with one-line calls (``metrics.delivered(...)``); the counts live in
this process and cost next to nothing when no endpoint serves them. ``serve`` starts
the endpoint (``[metrics] listen``), whose database gauges (outbox depth, failing
feeds) are read at scrape time. Labels are bounded by the config: feed, watchlist and
channel names, never URLs.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client import start_http_server as _start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from monitor.config.values import parse_listen
from monitor.errors import ConfigError, NewsmonError

__all__ = [
    "REGISTRY",
    "Exporter",
    "Gauges",
    "alerted",
    "delivered",
    "fetch_seconds",
    "match_timed_out",
    "page_failed",
    "polled",
    "pruned",
    "serve",
    "timed_poll",
]

log = logging.getLogger("newsmon.metrics")

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # memory, CPU, open files of this process

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_LATENCY = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0, 86400.0)


class _PerFeed:
    """The counters labelled by feed: per feed, a list of ints, one per series.

    A prometheus_client child per feed and label value holds a metric object, a value
    object and a lock: about 1.7 KB a feed over these five counters, 34 MB at 20,000
    feeds, kept whether or not an endpoint serves them. This holds about 0.14 KB a feed,
    and builds the same series when scraped."""

    def __init__(self, families: Mapping[str, tuple[str, tuple[str, ...]]]) -> None:
        self._families = families  # name -> (help, labels)
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, tuple[str, ...]], int] = {}  # (name, label values)
        self._counts: dict[str, list[int]] = {}  # feed -> a count per slot

    def add(self, name: str, feed: str, *values: str, amount: int = 1) -> None:
        with self._lock:
            slot = self._slots.setdefault((name, values), len(self._slots))
            counts = self._counts.get(feed)
            if counts is None:
                counts = self._counts[feed] = []
            if len(counts) <= slot:
                counts.extend([0] * (slot + 1 - len(counts)))
            counts[slot] += amount

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            slots = list(self._slots.items())
            counts = [(feed, list(values)) for feed, values in self._counts.items()]
        families = {
            name: CounterMetricFamily(name, help_, labels=list(labels))
            for name, (help_, labels) in self._families.items()
        }
        for feed, values in counts:
            for (name, labels), slot in slots:
                if slot < len(values) and values[slot]:
                    families[name].add_metric([feed, *labels], values[slot])
        yield from families.values()


_FEEDS = _PerFeed(
    {
        "newsmon_polls": ("Feed polls, by outcome.", ("feed", "status")),
        "newsmon_fetch_errors": (
            "Failed fetches: kind=feed (the poll failed to fetch the feed) or page (an "
            "article page, replaced by the feed's summary).",
            ("feed", "kind"),
        ),
        "newsmon_match_timeouts": (
            "Articles stored without alerts: matching them took longer than [scale] match_timeout.",
            ("feed",),
        ),
        "newsmon_new_entries": ("Entries seen for the first time.", ("feed",)),
        "newsmon_dropped_entries": (
            "Entries read from a feed and dropped: no title, no link and no text.",
            ("feed",),
        ),
    }
)
REGISTRY.register(_FEEDS)
_ALERTS = Counter(
    "newsmon_alerts", "Alerts raised, per watchlist.", ["watchlist"], registry=REGISTRY
)
_DELIVERIES = Counter(
    "newsmon_deliveries",
    "Delivery attempts, by outcome: sent, failed (retried later), dead, held.",
    ["channel", "outcome"],
    registry=REGISTRY,
)
_PRUNED = Counter(
    "newsmon_pruned_articles", "Article texts removed by retention.", registry=REGISTRY
)
_FETCH_SECONDS = Histogram(
    "newsmon_feed_fetch_seconds", "Time to fetch a feed.", buckets=_SECONDS, registry=REGISTRY
)
_FEED_SECONDS = Histogram(
    "newsmon_feed_processing_seconds",
    "Time to refresh one feed: fetch, parse, read, match and store its new entries.",
    buckets=_SECONDS,
    registry=REGISTRY,
)
_DELIVERY_SECONDS = Histogram(
    "newsmon_delivery_latency_seconds",
    "From an alert's creation to its delivery (digests and quiet hours included).",
    ["channel"],
    buckets=_LATENCY,
    registry=REGISTRY,
)


class PollResult(Protocol):
    """What ``timed_poll`` reads from a feed's result (pipeline.FeedResult)."""

    @property
    def feed(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def new_entries(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def error(self) -> str | None: ...


P = ParamSpec("P")
R = TypeVar("R", bound=PollResult)


def timed_poll(refresh: Callable[P, R]) -> Callable[P, R]:
    """Count a feed refresh's outcome and time it."""

    @functools.wraps(refresh)
    def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        result = refresh(*args, **kwargs)
        polled(result, time.perf_counter() - started)
        return result

    return timed


def polled(result: PollResult, seconds: float) -> None:
    _FEEDS.add("newsmon_polls", result.feed, result.status)
    _FEED_SECONDS.observe(seconds)
    if result.new_entries:
        _FEEDS.add("newsmon_new_entries", result.feed, amount=result.new_entries)
    if result.dropped:
        _FEEDS.add("newsmon_dropped_entries", result.feed, amount=result.dropped)
    if result.status == "error" and (result.error or "").startswith("fetch:"):
        _FEEDS.add("newsmon_fetch_errors", result.feed, "feed")


def fetch_seconds(seconds: float) -> None:
    _FETCH_SECONDS.observe(seconds)


def page_failed(feed: str) -> None:
    _FEEDS.add("newsmon_fetch_errors", feed, "page")


def match_timed_out(feed: str) -> None:
    _FEEDS.add("newsmon_match_timeouts", feed)


def alerted(watchlists: Iterable[str]) -> None:
    for name in watchlists:
        _ALERTS.labels(name).inc()


def delivered(channel: str, outcome: str, latency: float | None = None) -> None:
    _DELIVERIES.labels(channel, outcome).inc()
    if latency is not None:
        _DELIVERY_SECONDS.labels(channel).observe(max(latency, 0.0))


def pruned(articles: int) -> None:
    _PRUNED.inc(articles)


@dataclass(frozen=True)
class Gauges:
    """Read from the database at scrape time."""

    outbox: Mapping[str, int]  # state -> deliveries
    feeds_enabled: int
    feeds_failing: int
    last_success_at: datetime | None


class _DatabaseGauges:
    def __init__(self, read: Callable[[], Gauges]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("newsmon_database_up", "1 when the database answered this scrape.")
        try:
            g = self._read()
        except NewsmonError as exc:
            log.warning("metrics: database gauges unavailable error=%r", str(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "newsmon_outbox_deliveries", "Deliveries not sent, by state.", labels=["state"]
        )
        for state, n in sorted(g.outbox.items()):
            depth.add_metric([state], n)
        yield depth
        yield GaugeMetricFamily("newsmon_feeds", "Enabled feeds.", value=g.feeds_enabled)
        yield GaugeMetricFamily(
            "newsmon_feeds_failing", "Enabled feeds whose last poll failed.", value=g.feeds_failing
        )
        if g.last_success_at is not None:
            yield GaugeMetricFamily(
                "newsmon_last_success_timestamp_seconds",
                "When a feed was last polled successfully (Unix time).",
                value=g.last_success_at.timestamp(),
            )


class Exporter:
    """The HTTP endpoint serving ``/metrics``, in a thread of its own."""

    def __init__(self, listen: str, read: Callable[[], Gauges]) -> None:
        host, port = parse_listen(listen)
        self._gauges = _DatabaseGauges(read)
        try:
            self._server, self._thread = _start_http_server(port, host, registry=REGISTRY)
        except OSError as exc:
            raise ConfigError(
                f"metrics: cannot listen on {listen}: {exc.strerror or exc}",
                "choose a free address in [metrics] listen, or leave it empty to serve none",
            ) from None
        REGISTRY.register(self._gauges)
        address = self._server.server_address
        self.address = f"{host}:{address[1]}" if ":" not in host else f"[{host}]:{address[1]}"
        log.info("metrics listening address=%s", self.address)

    def close(self) -> None:
        REGISTRY.unregister(self._gauges)
        self._server.shutdown()
        self._server.server_close()


def serve(listen: str, read: Callable[[], Gauges]) -> Exporter | None:
    """Serve ``/metrics`` on ``listen`` ("host:port"); None when ``listen`` is empty."""
    return Exporter(listen, read) if listen else None
