"""The Prometheus endpoint, scraped with httpx from a real daemon (run in this process)
after it polled the sample site; and the endpoint when the database or the address fails."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers.config import hook_url, write_config
from helpers.servers import free_port
from monitor import metrics
from monitor.config.settings import load
from monitor.daemon import Daemon
from monitor.demo.server import Receiver, Reply, Site
from monitor.errors import ConfigError, UnavailableError
from monitor.store.alerts import list_alerts
from monitor.store.db import connect

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(base: str) -> tuple[str, Samples]:
    body = httpx.get(f"{base}/metrics", timeout=10).text
    found: Samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return body, found


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _by(samples: Samples, name: str, label: str) -> dict[str, float]:
    return {dict(k)[label]: v for (n, k), v in samples.items() if n == name}


def _counters() -> Samples:
    """This process's samples now (the counters outlive each test)."""
    found: Samples = {}
    for family in metrics.REGISTRY.collect():
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def _run_daemon(config: Path, until: Callable[[Samples], bool]) -> tuple[str, Samples]:
    """Run the daemon in this process (signals need the main thread) while another
    thread scrapes its endpoint until ``until`` holds; then stop it with SIGTERM."""
    settings = load(config)
    base = f"http://{settings.metrics.listen}"
    scraped: list[tuple[str, Samples]] = []
    is_done = threading.Event()

    def scrape() -> None:
        deadline = time.monotonic() + 60
        while not is_done.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):  # not listening yet
                scraped.append(_scrape(base))
            if scraped and until(scraped[-1][1]):
                break
            time.sleep(0.1)
        if not is_done.is_set():
            os.kill(os.getpid(), signal.SIGTERM)  # the daemon stops as systemd stops it

    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    handlers = {sig: signal.getsignal(sig) for sig in signals}
    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        Daemon(config, settings).run()
    finally:
        is_done.set()
        scraper.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert scraped, "the endpoint never answered"
    return scraped[-1]


def test_daemon_serves_metrics_after_a_poll(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site.routes["/feeds/broken.xml"] = Reply(500, b"internal server error")
    extra = (
        f'[metrics]\nlisten = "127.0.0.1:{free_port()}"\n\n'
        f'[[feed]]\nname = "broken"\nurl = "{site.base}/feeds/broken.xml"\n'
    )
    channels = {"chat": [hook_url(hook)]}
    config = write_config(tmp_path / "newsmon.toml", db_url, site, channels, extra)
    before = _counters()
    sent = ("newsmon_deliveries_total", frozenset({("channel", "chat"), ("outcome", "sent")}))
    caplog.set_level(logging.INFO, logger="newsmon.metrics")

    body, after = _run_daemon(config, lambda now: now.get(sent, 0) - before.get(sent, 0) >= 12)
    grown = {k: v - before.get(k, 0.0) for k, v in after.items()}
    grown = {k: v for k, v in grown.items() if v}

    def by(name: str, *labels: str) -> dict[tuple[str, ...], float]:
        return {
            tuple(dict(k)[label] for label in labels): v for (n, k), v in grown.items() if n == name
        }

    assert by("newsmon_polls_total", "feed", "status") == {
        ("world", "ok"): 1,
        ("nachrichten", "ok"): 1,
        ("novosti", "ok"): 1,
        ("broken", "error"): 1,
    }
    # the broken feed, and one article page of the sample site that is missing
    assert by("newsmon_fetch_errors_total", "feed", "kind") == {
        ("broken", "feed"): 1,
        ("world", "page"): 1,
    }
    assert by("newsmon_new_entries_total", "feed") == {
        ("world",): 7,
        ("nachrichten",): 5,
        ("novosti",): 5,
    }
    db = connect(db_url)
    alerted = Counter((w,) for a in list_alerts(db, limit=100) for w in a.watchlists)
    db.close()
    assert by("newsmon_alerts_total", "watchlist") == dict(alerted)
    assert by("newsmon_deliveries_total", "channel", "outcome") == {("chat", "sent"): 12}
    assert by("newsmon_delivery_latency_seconds_count", "channel") == {("chat",): 12}
    assert _value(grown, "newsmon_feed_fetch_seconds_count") == 3  # the broken one raised
    assert _value(grown, "newsmon_feed_processing_seconds_count") == 4
    assert _value(grown, "newsmon_feed_processing_seconds_sum") > 0

    # read from the database at scrape time
    assert _value(after, "newsmon_database_up") == 1
    assert _by(after, "newsmon_outbox_deliveries", "state") == dict.fromkeys(
        ("pending", "sending", "held", "retrying", "dead"), 0
    )
    assert _value(after, "newsmon_feeds") == 4 and _value(after, "newsmon_feeds_failing") == 1
    assert abs(_value(after, "newsmon_last_success_timestamp_seconds") - time.time()) < 120
    assert _value(after, "process_resident_memory_bytes") > 0

    assert site.base not in body and "127.0.0.1" not in body  # no URL in a label
    assert "metrics listening address=127.0.0.1:" in caplog.text


def test_endpoint_reports_a_database_that_does_not_answer() -> None:
    def down() -> metrics.Gauges:
        raise UnavailableError("connection refused")

    exporter = metrics.serve("127.0.0.1:0", down)
    assert exporter is not None
    try:
        _, samples = _scrape(f"http://{exporter.address}")
        assert _value(samples, "newsmon_database_up") == 0
        assert not any(n == "newsmon_outbox_deliveries" for n, _ in samples)
    finally:
        exporter.close()
    assert metrics.serve("", down) is None  # off


def test_an_address_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as info:
            metrics.serve(f"127.0.0.1:{port}", lambda: metrics.Gauges({}, 0, 0, None))
    assert f"cannot listen on 127.0.0.1:{port}" in str(info.value)
    assert "[metrics] listen" in info.value.hint


def test_per_feed_counters_count_across_threads_and_stay_small() -> None:
    """The per-feed series are exact under concurrent polls, and cost well under the
    1.2 KB a feed that a prometheus_client child per feed and label held."""
    import tracemalloc

    counts = metrics._PerFeed(
        {"x_polls": ("Polls.", ("feed", "status")), "x_new": ("New.", ("feed",))}
    )

    def poll(thread: int) -> None:
        for i in range(500):
            counts.add("x_polls", f"feed-{i}", "ok" if (i + thread) % 3 else "error")
            counts.add("x_new", f"feed-{i}", amount=2)

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    families = {f.name: f for f in counts.collect()}
    polls = Counter(
        {(s.labels["feed"], s.labels["status"]): s.value for s in families["x_polls"].samples}
    )
    assert sum(polls.values()) == 8 * 500
    assert polls[("feed-0", "ok")] == sum(1 for n in range(8) if n % 3)
    assert {s.labels["feed"]: s.value for s in families["x_new"].samples} == {
        f"feed-{i}": 16 for i in range(500)
    }
    names = [f"feed-{i}" for i in range(20_000, 22_000)]  # kept by the caller, as feed names are
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for name in names:
            counts.add("x_polls", name, "ok")
            counts.add("x_polls", name, "not-modified")
            counts.add("x_new", name, amount=3)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown / len(names) < 400, f"{grown / len(names):.0f} bytes a feed"
