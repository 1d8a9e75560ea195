"""Feed health against the local site: a failing feed and a silent feed each raise one
notice to the ops channel, and one when they work again; the notices go through the
outbox (retried like alerts). Also the judgement on its own."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers.config import hook_url, write_config
from monitor.config.settings import HealthSettings, load
from monitor.deliver.drain import drain
from monitor.deliver.render import delivery_title
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.pipeline.context import Context
from monitor.store import health as health_store
from monitor.store.health import FeedFacts, NoticeDraft, health_by_feed
from monitor.store.outbox import list_deliveries
from monitor.watch.health import METHOD, SAMPLE, check_feeds, judge, rhythm

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def ops(hook: Receiver) -> Receiver:
    """The ops channel's webhook (the watchlists route there too; the pulse feed's
    entries match none of them)."""
    return hook


def _config(tmp_path: Path, db_url: str, site: Site, ops: Receiver) -> Path:
    extra = (
        '[health]\nchannels = ["ops"]\nfailures = 2\nsilence_factor = 3\nsilence_floor = "1h"\n\n'
        f'[[feed]]\nname = "pulse"\nurl = "{site.base}/feeds/pulse.xml"\nfetch_articles = false\n'
    )
    return write_config(
        tmp_path / "newsmon.toml", db_url, site, {"ops": [hook_url(ops)]}, extra=extra
    )


def _pulse(count: int) -> Reply:
    items = "".join(
        f"<item><title>Pulse {i}</title><guid>pulse-{i}</guid>"
        f"<description>Tick {i}</description></item>"
        for i in range(count)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Pulse</title>{items}'
    return Reply(200, (body + "</channel></rss>").encode(), {"Content-Type": "application/xml"})


def _titles(ops: Receiver) -> list[str]:
    return [json.loads(body)["title"] for _, _, body in ops.received]


@pytest.fixture
def ctx(db_url: str, site: Site, ops: Receiver, tmp_path: Path) -> Iterator[Context]:
    site.routes["/feeds/pulse.xml"] = _pulse(1)
    context = open_context(load(_config(tmp_path, db_url, site, ops)))
    yield context
    close_context(context)


def _at(ctx: Context, when: datetime) -> Context:
    return dataclasses.replace(ctx, clock=lambda: when)


def test_failing_feed_raises_one_notice_and_one_recovery(
    ctx: Context, site: Site, ops: Receiver
) -> None:
    assert poll_once(_at(ctx, T0), ["pulse"]).health == []
    site.routes["/feeds/pulse.xml"] = Reply(503, b"down for maintenance")
    assert poll_once(_at(ctx, T0 + HOUR), ["pulse"]).health == []  # 1 of 2 failures: not yet
    assert health_by_feed(ctx.db)["pulse"].failing_since == T0 + HOUR
    # [health] failing_for (12h by default) counts too, without another poll
    assert check_feeds(ctx.db, ctx.settings, T0 + 12 * HOUR, ["pulse"]) == []
    stale = list(health_store.facts(ctx.db, ["pulse"], 10))  # as another instance read it
    changes = check_feeds(ctx.db, ctx.settings, T0 + 13 * HOUR, ["pulse"])
    assert [(c.feed, c.state) for c in changes] == [("pulse", "failing")]
    ops.status = 500  # the ops channel refuses: the notice waits in the outbox
    assert drain(ctx.db, ctx.settings, T0 + 13 * HOUR).failed == 1 and ops.received == []
    ops.status = 200
    again = poll_once(_at(ctx, T0 + 14 * HOUR), ["pulse"])
    assert again.health == [] and again.deliveries.sent == 1  # once per incident; retried
    # the other instance, judging from what it read before, writes no second notice
    draft = NoticeDraft("failing", None, "a second notice")
    assert (
        health_store.record(
            ctx.db,
            stale[0],
            T0,
            state="failing",
            since=None,
            failing_since=None,
            rhythm=None,
            notice=draft,
            channels=["ops"],
        )
        is None
    )
    assert _titles(ops) == ["[newsmon warning] feed pulse is failing"]
    body = json.loads(ops.received[0][2])["message"]
    assert "1 failed poll(s) in a row since 2026-11-20T09:00:00Z" in body
    assert "server error (503)" in body and f"{site.base}/feeds/pulse.xml" in body

    site.routes["/feeds/pulse.xml"] = _pulse(2)
    back = poll_once(_at(ctx, T0 + 16 * HOUR), ["pulse"])
    assert [(c.feed, c.state) for c in back.health] == [("pulse", "ok")]
    assert _titles(ops)[1:] == ["[newsmon] feed pulse works again"]
    assert "it was failing since 2026-11-20T09:00:00Z" in json.loads(ops.received[1][2])["message"]
    assert poll_once(_at(ctx, T0 + 17 * HOUR), ["pulse"]).health == []
    notices = [d for d in list_deliveries(ctx.db) if d.notice_id is not None]
    assert [(delivery_title(d), d.status, d.attempts) for d in notices] == [
        ("feed pulse: recovered", "sent", 1),
        ("feed pulse: failing", "sent", 2),
    ]
    assert health_by_feed(ctx.db)["pulse"].state == "ok"


def test_silent_feed_raises_one_notice_and_one_recovery(
    ctx: Context, site: Site, ops: Receiver
) -> None:
    for i in range(4):  # a new entry every hour: the rhythm is 1h, silent after 3h
        site.routes["/feeds/pulse.xml"] = _pulse(i + 1)
        assert poll_once(_at(ctx, T0 + i * HOUR), ["pulse"]).health == []
    assert health_by_feed(ctx.db)["pulse"].rhythm == 3600
    assert poll_once(_at(ctx, T0 + 5 * HOUR), ["pulse"]).health == []  # 2h quiet: fine
    silent = poll_once(_at(ctx, T0 + 6 * HOUR + timedelta(minutes=1)), ["pulse"])
    assert [(c.feed, c.state) for c in silent.health] == [("pulse", "silent")]
    assert health_by_feed(ctx.db)["pulse"].since == T0 + 3 * HOUR
    assert poll_once(_at(ctx, T0 + 8 * HOUR), ["pulse"]).health == []
    site.routes["/feeds/pulse.xml"] = _pulse(5)
    back = poll_once(_at(ctx, T0 + 9 * HOUR), ["pulse"])
    assert [c.state for c in back.health] == ["ok"]
    assert _titles(ops) == [
        "[newsmon warning] feed pulse is silent",
        "[newsmon] feed pulse works again",
    ]
    message = json.loads(ops.received[0][2])["message"]
    assert "no new entry since 2026-11-20T11:00:00Z" in message
    assert "every 1h" in message and "3h without one" in message


def test_a_rhythm_is_learned_again_only_when_what_it_was_learned_from_changed(
    ctx: Context, site: Site
) -> None:
    for i in range(4):  # a new entry every hour: the rhythm is 1h
        site.routes["/feeds/pulse.xml"] = _pulse(i + 1)
        poll_once(_at(ctx, T0 + i * HOUR), ["pulse"])

    def read() -> FeedFacts:
        (feed,) = health_store.facts(ctx.db, ["pulse"], SAMPLE, METHOD)
        return feed

    kept = read()  # nothing new since the last check: the stored rhythm, nothing read
    assert kept.is_rhythm_current and kept.rhythm == 3600
    assert kept.arrivals == () and kept.published == ()
    assert rhythm(kept) == 3600 and kept.last_seen == T0 + 3 * HOUR
    assert read() == kept
    # another way of learning it: learned again, from the entries
    (other,) = health_store.facts(ctx.db, ["pulse"], SAMPLE, METHOD + "-next")
    assert not other.is_rhythm_current and len(other.arrivals) == 4
    assert rhythm(other) == 3600
    # new entries with longer gaps: learned again and stored with the new basis
    for hours in (6, 10, 15, 21):
        site.routes["/feeds/pulse.xml"] = _pulse(int(hours))
        poll_once(_at(ctx, T0 + hours * HOUR), ["pulse"])
        after = read()
        assert after.is_rhythm_current and after.basis != kept.basis
        (fresh,) = health_store.facts(ctx.db, ["pulse"], SAMPLE, METHOD + "-next")
        assert after.rhythm == rhythm(fresh)  # what learning it from the entries gives
    assert health_by_feed(ctx.db)["pulse"].rhythm == 3 * 3600  # of 6h, 5h, 4h, 3h, 1h, 1h, 1h


# ------------------------------------------------------------------ the judgement alone


def _facts(**changes: Any) -> FeedFacts:
    base = FeedFacts(
        id=1,
        name="f",
        url="https://example.org/rss",
        interval=600.0,
        last_status="ok",
        last_error=None,
        error_count=0,
        created_at=T0 - 30 * HOUR,
        last_polled_at=T0,
        last_success_at=T0,
        next_check_at=T0 + HOUR,
        state="ok",
        since=None,
        failing_since=None,
        arrivals=(),
        published=(),
        last_seen=T0 - HOUR,
    )
    return dataclasses.replace(base, **changes)


def _ago(*hours: float) -> tuple[datetime, ...]:
    return tuple(T0 - timedelta(hours=h) for h in hours)


@pytest.mark.parametrize(
    ("arrivals", "published", "expected"),
    [
        (_ago(1, 2, 3, 4), (), 3600.0),
        # entries seen seconds apart came in one poll: one arrival
        (_ago(1, 1.001, 3.001, 3.002, 5.002, 7.002), (), 7200.0),
        (_ago(1, 2, 3), (), None),  # two gaps: not enough to know
        (_ago(1), _ago(0, 6, 12, 18, 19), 21600.0),  # a new feed: its published times
        ((), (), None),
    ],
    ids=["hourly", "polls-group-entries", "too-few", "published-fallback", "nothing"],
)
def test_rhythm(
    arrivals: tuple[datetime, ...], published: tuple[datetime, ...], expected: float | None
) -> None:
    assert rhythm(_facts(arrivals=arrivals, published=published)) == expected


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, "ok"),
        ({"error_count": 1, "last_status": "error"}, "ok"),  # too early to say
        ({"error_count": 3, "last_status": "error"}, "failing"),
        ({"error_count": 1, "failing_since": T0 - 13 * HOUR}, "failing"),
        ({"arrivals": _ago(1, 2, 3, 4), "last_seen": T0 - 25 * HOUR}, "silent"),
        ({"arrivals": _ago(1, 2, 3, 4), "last_seen": T0 - 23 * HOUR}, "ok"),  # the floor: 1d
        ({"arrivals": _ago(1, 4, 7, 10), "last_seen": T0 - 25 * HOUR}, "ok"),  # 3h x 10 = 30h
        ({"error_count": 1, "state": "silent", "since": T0 - HOUR}, "silent"),  # kept
    ],
    ids=["ok", "one-failure", "failures", "failing-for", "silent", "floor", "factor", "kept"],
)
def test_judge(changes: dict[str, object], state: str) -> None:
    cfg = HealthSettings(failures=3)
    assert judge(_facts(**changes), cfg, T0).state == state
