"""Polite polling end to end against a local server: Retry-After on 429 and 503, max-age and
<ttl>, backoff, the rhythm a feed learns, identical bodies and known items left unparsed, the
per-host limit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from helpers.config import ALLOW_LOCAL
from helpers.telegram_pages import CHANNEL, PAGE
from monitor.config.settings import Settings
from monitor.demo.server import Reply, Site
from monitor.pipeline.assembly import close_context, open_context
from monitor.pipeline.context import Context
from monitor.pipeline.cycle import run_cycle
from monitor.pipeline.feed import FeedResult
from monitor.pipeline.liveness import Liveness
from monitor.sources.known import DIGEST
from monitor.store.feeds import FeedRow, list_feeds
from monitor.store.tables import Feed

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rss(items: int, *, ttl: int | None = None, start: int = 0) -> bytes:
    """A feed of ``items`` entries numbered from ``start``."""
    entries = "".join(
        f"<item><title>Story {n}</title><guid>story-{n}</guid>"
        f"<description>Text of story {n}.</description></item>"
        for n in range(start, start + items)
    )
    extra = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{extra}'
        f"{entries}</channel></rss>"
    ).encode()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def poller(db_url: str, site: Site) -> Iterator[Any]:
    """Makes a context for some feeds of the site, with a clock the test moves."""
    opened: list[Context] = []

    def make(feeds: list[dict[str, Any]], **tables: dict[str, Any]) -> tuple[Context, Clock]:
        data: dict[str, Any] = {
            "database": {"url": db_url},
            "http": {"allow_networks": [ALLOW_LOCAL.strip('[]"')], **tables.pop("http", {})},
            "defaults": {"fetch_articles": False, **tables.pop("defaults", {})},
            "feed": [{"url": f"{site.base}/feeds/{f['name']}.xml", **f} for f in feeds],
        }
        clock = Clock()
        ctx = replace(open_context(Settings.model_validate(data)), clock=clock)
        opened.append(ctx)
        return ctx, clock

    yield make
    for ctx in opened:
        close_context(ctx)


def poll(ctx: Context) -> dict[str, FeedResult]:
    return {r.feed: r for r in run_cycle(ctx, is_forced=True)}


def rows(ctx: Context) -> dict[str, FeedRow]:
    return {f.name: f for f in list_feeds(ctx.db)}


def wait_of(row: FeedRow) -> float:
    assert row.last_polled_at is not None
    return (row.next_check_at - row.last_polled_at).total_seconds()


def test_retry_after_429_and_503_within_bounds(poller: Any, site: Site) -> None:
    def date(seconds: int) -> str:
        return format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)

    cases = {  # feed -> (status, Retry-After, expected wait)
        "seconds": (429, "1800", 1800.0),
        "date": (503, date(1500), 1500.0),
        "far": (503, date(86400), 3600.0),  # capped by max_interval
        "none": (429, None, None),  # plain backoff: the interval less up to a fifth
        "soon": (503, "5", 600.0 * 0.8),  # never sooner than the backoff
    }
    for name, (status, wait, _) in cases.items():
        headers = {"Retry-After": wait} if wait else {}
        site.routes[f"/feeds/{name}.xml"] = Reply(status, b"busy", headers)
    ctx, _ = poller([{"name": n} for n in cases])
    results = poll(ctx)
    found = rows(ctx)
    for name, (status, _, expected) in cases.items():
        assert results[name].status == "error" and found[name].error_count == 1
        text = "rate limited (429)" if status == 429 else "server error (503)"
        assert text in (found[name].last_error or "")
        if name in ("none", "soon"):
            assert 480.0 <= wait_of(found[name]) <= 600.0, name
        else:
            assert wait_of(found[name]) == pytest.approx(expected, abs=1), name
    assert "retry after '1800'" in (found["seconds"].last_error or "")


def test_backoff_doubles_per_failure_up_to_max_interval(poller: Any, site: Site) -> None:
    site.routes["/feeds/down.xml"] = Reply(500, b"oops")
    ctx, clock = poller([{"name": "down"}], defaults={"max_interval": "30m"})
    waits = []
    for _ in range(4):
        poll(ctx)
        waits.append(wait_of(rows(ctx)["down"]))
        clock.now += timedelta(hours=1)
    for failures, wait in enumerate(waits, 1):
        top = min(600.0 * 2 ** (failures - 1), 1800.0)
        assert top * 0.8 <= wait <= top, (failures, waits)
    site.routes["/feeds/down.xml"] = Reply(200, rss(2))
    poll(ctx)
    assert rows(ctx)["down"].error_count == 0 and wait_of(rows(ctx)["down"]) == 600.0


def test_max_age_and_ttl_lengthen_the_wait_within_bounds(poller: Any, site: Site) -> None:
    site.routes["/feeds/maxage.xml"] = Reply(200, rss(2), {"Cache-Control": "max-age=1500"})
    site.routes["/feeds/ttl.xml"] = Reply(200, rss(2, ttl=25))
    site.routes["/feeds/huge.xml"] = Reply(200, rss(2), {"Cache-Control": "public, max-age=86400"})
    site.routes["/feeds/nocache.xml"] = Reply(200, rss(2), {"Cache-Control": "no-cache"})
    site.routes["/feeds/short.xml"] = Reply(200, rss(2, ttl=1))
    names = ["maxage", "ttl", "huge", "nocache", "short"]
    ctx, _ = poller([{"name": n} for n in names])
    poll(ctx)
    waits = {name: wait_of(row) for name, row in rows(ctx).items()}
    assert waits == {"maxage": 1500, "ttl": 1500, "huge": 3600, "nocache": 600, "short": 600}
    poll(ctx)  # a 304 carries the server's max-age; the <ttl> of the last body still holds
    again = rows(ctx)
    assert {n: again[n].last_status for n in ("maxage", "ttl")} == dict.fromkeys(
        ("maxage", "ttl"), "not-modified"
    )
    assert wait_of(again["maxage"]) == 1500 and wait_of(again["ttl"]) == 1500


def test_the_interval_follows_how_often_a_feed_changes(poller: Any, site: Site) -> None:
    ctx, clock = poller(
        [{"name": "busy"}, {"name": "quiet"}, {"name": "fixed", "adapt": False}],
        defaults={"min_interval": "4m"},
    )
    site.routes["/feeds/quiet.xml"] = Reply(200, rss(3))
    waits: dict[str, list[float]] = {"busy": [], "quiet": [], "fixed": []}
    for n in range(8):  # a check every 10 minutes; busy and fixed change every time
        site.routes["/feeds/busy.xml"] = site.routes["/feeds/fixed.xml"] = Reply(
            200, rss(3, start=n)
        )
        results = poll(ctx)
        assert results["busy"].new_entries == (3 if n == 0 else 1)
        for name, row in rows(ctx).items():
            waits[name].append(wait_of(row))
        clock.now += timedelta(minutes=10)
    assert waits["busy"] == [600.0] + [300.0] * 7  # twice per 10-minute gap
    assert waits["fixed"] == [600.0] * 8
    assert waits["quiet"] == sorted(waits["quiet"]) and waits["quiet"][-1] == 2100.0
    assert max(waits["quiet"]) <= 3600.0


def test_an_identical_body_is_not_parsed_again(poller: Any, site: Site) -> None:
    site.routes["/feeds/same.xml"] = Reply(200, rss(3), etag=False)
    ctx, _ = poller([{"name": "same"}])
    assert poll(ctx)["same"].status == "ok"
    assert poll(ctx)["same"].status == "unchanged"
    assert rows(ctx)["same"].last_status == "unchanged"
    site.routes["/feeds/same.xml"] = Reply(200, rss(3, start=1), etag=False)
    changed = poll(ctx)["same"]
    assert changed.status == "ok" and changed.new_entries == 1
    site.routes["/feeds/same.xml"] = Reply(200, b"<html>maintenance</html>", etag=False)
    assert poll(ctx)["same"].status == "error"
    assert poll(ctx)["same"].status == "error"  # only a body that was stored is skipped
    assert site.hits["/feeds/same.xml"] == 5


def _digests(ctx: Context, name: str) -> bytes | None:
    with ctx.db.session() as s:
        return s.scalar(select(Feed.item_digests).where(Feed.name == name))


class StopAfter(Liveness):
    """Asks to stop after ``beats`` beats (the pipeline beats after each entry)."""

    def __init__(self, beats: int) -> None:
        super().__init__()
        self.left = beats

    def beat(self) -> None:
        super().beat()
        self.left -= 1
        if self.left <= 0:
            self.stop()


def test_known_items_are_left_out_only_after_a_poll_that_finished(poller: Any, site: Site) -> None:
    """The items of the last finished poll are left out of the next parse; a poll that
    stopped halfway records nothing, so the entries it did not reach are still new."""
    site.routes["/feeds/a.xml"] = Reply(200, rss(2), etag=False)
    ctx, _ = poller([{"name": "a"}])
    assert poll(ctx)["a"].backlog == 2
    assert len(_digests(ctx, "a") or b"") == 2 * DIGEST
    site.routes["/feeds/a.xml"] = Reply(200, rss(5), etag=False)  # stories 2, 3 and 4 are new
    stopping = replace(ctx, liveness=StopAfter(1))
    assert poll(stopping)["a"].status == "interrupted"
    assert len(_digests(ctx, "a") or b"") == 2 * DIGEST  # still the first poll's
    result = poll(ctx)["a"]
    assert (result.status, result.new_entries) == ("ok", 2)
    assert len(_digests(ctx, "a") or b"") == 5 * DIGEST
    site.routes["/feeds/a.xml"] = Reply(200, rss(6), etag=False)
    assert poll(ctx)["a"].new_entries == 1


@pytest.mark.parametrize("per_host", [2, 6])
def test_per_host_limit_bounds_requests_in_flight(poller: Any, site: Site, per_host: int) -> None:
    body = rss(2)
    names = [f"f{i}" for i in range(6)]
    for name in names:  # each answer trickles out over ~0.2 s (two pieces)
        site.routes[f"/feeds/{name}.xml"] = Reply(200, chunks=[body[:50], body[50:]], delay=0.1)
    ctx, _ = poller([{"name": n} for n in names], http={"concurrency": 6, "per_host": per_host})
    assert all(r.status == "ok" for r in poll(ctx).values())
    if per_host == 2:
        assert site.most_in_flight == 2
    else:
        assert site.most_in_flight > 2


def test_a_stop_request_leaves_the_feeds_due(poller: Any, site: Site) -> None:
    site.routes["/feeds/a.xml"] = Reply(200, rss(2))
    ctx, _ = poller([{"name": "a"}])
    ctx.liveness.stop()
    assert poll(ctx)["a"].status == "skipped"
    row = rows(ctx)["a"]
    assert row.last_polled_at is None and row.next_check_at <= datetime.now(UTC)
    assert "/feeds/a.xml" not in site.hits


@pytest.mark.parametrize(
    ("tables", "needle"),
    [
        ({"defaults": {"min_interval": "2h", "max_interval": "1h"}}, "min_interval is longer"),
        ({"http": {"per_host": 0}}, "per_host"),
        ({"defaults": {"max_interval": "soon"}}, "max_interval"),
        ({"defaults": {"telegram_interval": "soon"}}, "telegram_interval"),
    ],
    ids=["min-over-max", "per-host-zero", "bad-duration", "bad-telegram-interval"],
)
def test_polling_settings_are_validated(tables: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        Settings.model_validate(tables)


def test_a_telegram_channel_is_read_at_its_own_default_and_honours_429(
    poller: Any, site: Site
) -> None:
    """The captured preview (tests/fixtures/telegram) as t.me/s/ would serve it, then 429."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    site.routes[f"/s/{CHANNEL}"] = Reply(200, PAGE, html)
    site.routes["/s/own_interval"] = Reply(200, PAGE, html)
    site.routes["/feeds/wire.xml"] = Reply(200, rss(2))
    telegram = {"kind": "telegram", "url": f"{site.base}/s/{CHANNEL}"}
    ctx, clock = poller(
        [
            {"name": "channel", **telegram},
            {
                "name": "own",
                "kind": "telegram",
                "url": f"{site.base}/s/own_interval",
                "interval": "5m",
            },
            {"name": "wire"},
        ]
    )
    results = poll(ctx)
    assert {r.status for r in results.values()} == {"ok"}
    waits = {name: wait_of(row) for name, row in rows(ctx).items()}
    # a channel's next check comes up to a tenth early, at random; a feed's on the dot
    assert 810.0 <= waits["channel"] <= 900.0 and 270.0 <= waits["own"] <= 300.0
    assert waits["wire"] == 600.0

    clock.now += timedelta(hours=1)
    site.routes[f"/s/{CHANNEL}"] = Reply(429, b"Too Many Requests", {"Retry-After": "1800"})
    site.routes["/s/own_interval"] = Reply(429, b"Too Many Requests")
    poll(ctx)
    found = rows(ctx)
    for name in ("channel", "own"):
        assert found[name].error_count == 1
        assert "rate limited (429)" in (found[name].last_error or "")
    assert wait_of(found["channel"]) == pytest.approx(1800.0, abs=1)
    assert 300.0 * 0.8 <= wait_of(found["own"]) <= 300.0  # plain backoff with jitter


def test_a_t_me_source_without_a_kind_takes_the_telegram_interval() -> None:
    settings = Settings.model_validate(
        {
            "defaults": {"interval": "12m", "telegram_interval": "20m"},
            "feed": [
                {"name": "mid", "url": "https://t.me/s/MID_Russia"},
                {"name": "mid-own", "url": "https://t.me/s/MID_Russia", "interval": "3m"},
                {"name": "wire", "url": "https://wire.example/rss"},
            ],
        }
    )
    got = {f.name: settings.feed_interval(f) for f in settings.feed}
    assert got == {"mid": 1200.0, "mid-own": 180.0, "wire": 720.0}


def test_a_channel_s_next_check_is_spread_and_a_feed_s_is_not() -> None:
    from monitor.pipeline.polls import _spread

    channel = [_spread(900.0, "telegram") for _ in range(50)]
    assert all(810.0 <= w <= 900.0 for w in channel) and len(set(channel)) > 1
    assert {_spread(900.0, k) for k in ("feed", "sitemap", "page", None)} == {900.0}
