"""Spike alerts against a real database and a real webhook receiver: once per spike, a
new one after the volume fell back, state that survives a restart, one spike however
many instances check at once, and the whole path through ``poll --once``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers.config import hook_url, write_config
from helpers.history import add_alert
from monitor.config.settings import load
from monitor.deliver.drain import drain
from monitor.deliver.render import delivery_title
from monitor.demo.server import Receiver, Site
from monitor.fetch.client import make_client
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.pipeline.context import Context
from monitor.pipeline.feed import FeedResult
from monitor.pipeline.spikes import check_spikes
from monitor.store import outbox
from monitor.store.db import connect
from monitor.store.spikes import list_spikes

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
POLLED = [FeedResult("world", "ok")]  # a pass that polled a feed
CONFIG = """
[database]
url = "{url}"

[delivery]
retry_base = "1s"

[[feed]]
name = "world"
url = "http://127.0.0.1/world.xml"

[spikes]
enabled = true
window = "1h"
baseline = "1d"
factor = 3
min_count = 3

[channel.chat]
urls = ["{hook}"]

[watchlist.ukraine]
terms = ["Ukraine"]
channels = ["chat"]

[watchlist.nato]
terms = ["NATO"]
channels = ["chat"]
spike = false
"""


@contextmanager
def instance(config: Path) -> Iterator[Context]:
    ctx = open_context(load(config))
    try:
        yield ctx
    finally:
        close_context(ctx)


def at(ctx: Context, moment: datetime) -> Context:
    return replace(ctx, clock=lambda: moment)


def posts(hook: Receiver) -> list[dict[str, str]]:
    return [json.loads(body) for _, _, body in hook.received]


def usual_day(ctx: Context) -> None:
    """The day before T: a ukraine alert every 4 hours, so 0.25 an hour is usual and the
    threshold is min_count (3); and nato alerts, which are never watched for spikes. The
    history begins two days before T, so it covers the day of the baseline."""
    add_alert(ctx.db, T - 48 * H, ["nato"])
    for k in range(6):
        add_alert(ctx.db, T - 2 * H - k * 4 * H, ["ukraine"])
    for minutes in range(5):
        add_alert(ctx.db, T - 10 * M + minutes * M, ["nato"])


def test_a_spike_alerts_once_ends_when_volume_falls_and_a_new_one_alerts_again(
    db_url: str, hook: Receiver, tmp_path: Path
) -> None:
    config = tmp_path / "n.toml"
    config.write_text(CONFIG.format(url=db_url, hook=hook_url(hook)), encoding="utf-8")
    with instance(config) as ctx:
        usual_day(ctx)
        add_alert(ctx.db, T - 50 * M, ["ukraine"])
        add_alert(ctx.db, T - 20 * M, ["ukraine"])
        assert check_spikes(at(ctx, T), POLLED) == []  # 2 in the hour: below min_count
        add_alert(ctx.db, T - 1 * M, ["ukraine"])
        assert check_spikes(at(ctx, T), []) == []  # an idle tick reads nothing
        (spike,) = check_spikes(at(ctx, T), POLLED)
        assert (spike.watchlist, spike.number, spike.count) == ("ukraine", 1, 3)
        assert spike.expected == 6 / 24  # 6 alerts in the day before the window
        assert drain(ctx.db, ctx.settings, T).sent == 1
        add_alert(ctx.db, T + 5 * M, ["ukraine"])
        assert check_spikes(at(ctx, T + 6 * M), POLLED) == []  # the same spike, still on
        assert drain(ctx.db, ctx.settings, T + 6 * M).sent == 0
    with instance(config) as ctx:  # a restart: the spike is remembered
        assert check_spikes(at(ctx, T + 7 * M), POLLED) == []
        (open_spike,) = list_spikes(ctx.db)
        assert open_spike.ended_at is None and open_spike.peak == 4
        assert check_spikes(at(ctx, T + 3 * H), POLLED) == []  # the hour is quiet again
        (ended,) = list_spikes(ctx.db)
        assert ended.ended_at == T + 3 * H
        for minutes in (1, 2, 3):
            add_alert(ctx.db, T + 4 * H + minutes * M, ["ukraine"])
        (again,) = check_spikes(at(ctx, T + 4 * H + 5 * M), POLLED)
        assert (again.number, again.count) == (2, 3)
        assert drain(ctx.db, ctx.settings, T + 4 * H + 5 * M).sent == 1
        assert [s.watchlist for s in list_spikes(ctx.db)] == ["ukraine", "ukraine"]  # no nato
        rows = outbox.list_deliveries(ctx.db)
    assert [(r.spike_id, r.alert_id, r.status) for r in rows] == [
        (again.id, None, "sent"),
        (spike.id, None, "sent"),
    ]
    assert delivery_title(rows[0]) == "spike: ukraine, 3 alerts in 1h"
    titles = [p["title"] for p in posts(hook)]
    assert titles == ["[newsmon] spike: ukraine, 3 alerts in 1h"] * 2
    message = posts(hook)[0]["message"]
    assert "3 alerts in the last 1h, where 0.2 are usual" in message
    assert "newsmon alerts list --watchlist ukraine --since 1h" in message


def test_instances_checking_at_once_record_and_send_one_spike(
    db_url: str, hook: Receiver, tmp_path: Path
) -> None:
    config = tmp_path / "n.toml"
    config.write_text(CONFIG.format(url=db_url, hook=hook_url(hook)), encoding="utf-8")
    with instance(config) as first:
        usual_day(first)
        for minutes in (10, 20, 30):
            add_alert(first.db, T - minutes * M, ["ukraine"])
    settings = load(config)
    contexts = [  # separate connections, as separate processes would have
        Context(connect(settings.database.url), make_client(settings.http), settings, [])
        for _ in range(3)
    ]
    start = threading.Barrier(len(contexts))
    opened: list[int] = []

    def check(ctx: Context) -> None:
        start.wait()
        opened.extend(s.id for s in check_spikes(at(ctx, T), POLLED))

    threads = [threading.Thread(target=check, args=(c,)) for c in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert len(opened) == 1
        assert [(s.id, s.number) for s in list_spikes(contexts[0].db)] == [(opened[0], 1)]
        assert drain(contexts[0].db, contexts[0].settings, T).sent == 1
        assert drain(contexts[1].db, contexts[1].settings, T + M).sent == 0
    finally:
        for ctx in contexts:
            close_context(ctx)
    assert len(hook.received) == 1 and len(opened) == 1


@pytest.mark.parametrize("has_history", [True, False], ids=["history", "new-database"])
def test_poll_once_raises_a_spike_after_the_poll_and_sends_it_with_the_alerts(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path, has_history: bool
) -> None:
    extra = '[spikes]\nenabled = true\nwindow = "1h"\nbaseline = "2h"\nmin_count = 2\n'
    config = write_config(tmp_path / "n.toml", db_url, site, {"chat": [hook_url(hook)]}, extra)
    with instance(config) as ctx:
        if has_history:  # the history covers the baseline; a new database has none
            add_alert(ctx.db, ctx.clock() - 4 * H, ["nato"])
        first = poll_once(ctx, ["novosti"])
        alerts = sum(len(r.alerts) for r in first.feeds)
        assert alerts == 4  # two for ukraine; one each for nato, osce and ryabkov
        assert first.deliveries.sent == alerts + has_history
        assert poll_once(ctx, ["novosti"]).deliveries.sent == 0  # the spike goes on
        found = [(s.watchlist, s.count) for s in list_spikes(ctx.db)]
    assert found == ([("ukraine", 2)] if has_history else [])
    spikes = [p["title"] for p in posts(hook) if "spike" in p["title"]]
    assert spikes == ["[newsmon] spike: ukraine, 2 alerts in 1h"] * has_history
    assert len(posts(hook)) == alerts + has_history


def test_a_spike_on_a_digest_channel_waits_for_the_digest_and_goes_as_its_own_message(
    db_url: str, hook: Receiver, tmp_path: Path
) -> None:
    text = CONFIG.format(url=db_url, hook=hook_url(hook))
    text = text.replace(
        "[channel.chat]\n", '[channel.chat]\nmode = "digest"\nschedule = "30 7 * * *"\n'
    )
    config = tmp_path / "n.toml"
    config.write_text(text, encoding="utf-8")
    with instance(config) as ctx:
        usual_day(ctx)
        for minutes in (30, 20, 10):
            add_alert(ctx.db, T - minutes * M, ["ukraine"], routes={"ukraine": ["chat"]})
        assert len(check_spikes(at(ctx, T), POLLED)) == 1
        early = drain(ctx.db, ctx.settings, T)
        assert (early.sent, early.held) == (0, 4) and not hook.received
        digest_time = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
        assert drain(ctx.db, ctx.settings, digest_time).sent == 4
    titles = sorted(p["title"] for p in posts(hook))
    assert len(titles) == 2
    assert titles[0].startswith("[newsmon] digest: 3 alert(s)")
    assert titles[1] == "[newsmon] spike: ukraine, 3 alerts in 1h"


def test_no_spike_before_the_history_covers_the_baseline(
    db_url: str, hook: Receiver, tmp_path: Path
) -> None:
    """A burst on a new database is no spike: there is no usual yet. Once the history
    covers ``min_history``, the usual is the average over the part it covers."""
    config = tmp_path / "n.toml"
    text = CONFIG.format(url=db_url, hook=hook_url(hook))
    config.write_text(text, encoding="utf-8")
    with instance(config) as ctx:
        for minutes in range(8):  # the first alerts of a new database, in one hour
            add_alert(ctx.db, T - 50 * M + minutes * M, ["ukraine"])
        assert check_spikes(at(ctx, T), POLLED) == []  # 8 in 1h, where 0.0 would be usual
        for minutes in (20, 15, 10, 5):
            add_alert(ctx.db, T + 6 * H - minutes * M, ["ukraine"])
        assert check_spikes(at(ctx, T + 6 * H + 15 * M), POLLED) == []  # 6h5m of the 1d
        assert list_spikes(ctx.db) == [] and drain(ctx.db, ctx.settings, T + 7 * H).sent == 0
    config.write_text(text.replace("min_count = 3", 'min_count = 3\nmin_history = "6h"'))
    with instance(config) as ctx:
        assert check_spikes(at(ctx, T + 6 * H), POLLED) == []  # 5h50m of history: too short
        (spike,) = check_spikes(at(ctx, T + 6 * H + 15 * M), POLLED)  # 6h5m: enough
        assert spike.count == 4
        # the 8 of the burst over the 6h5m covered, not over the whole day (8 / 24)
        assert spike.expected == pytest.approx(8 / (6 + 5 / 60))
        assert drain(ctx.db, ctx.settings, T + 7 * H).sent == 1
