"""Row leases that let several instances share one database: feeds are claimed once,
expired leases are taken over, only the holder releases or renews; a delivery's late
outcome cannot undo the instance that took it over. Each "instance" here has its own
engine (as a second process would); every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from helpers.config import hook_url, write_config
from helpers.paths import SAMPLE_SITE
from monitor.config.settings import load
from monitor.deliver.drain import drain
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context, open_context
from monitor.pipeline.cycle import AHEAD, run_cycle
from monitor.pipeline.polls import parsed, unchanged
from monitor.store import outbox
from monitor.store.db import Database, connect
from monitor.store.feeds import add_feed
from monitor.store.leases import claim_feeds, release_feeds, renew_leases
from monitor.store.tables import Delivery, Feed

T0 = datetime(2030, 1, 1, tzinfo=UTC)  # every feed below is due by then


def _feeds(db: Database, count: int) -> list[int]:
    return [add_feed(db, f"f{i}", f"http://f{i}.invalid/feed", T0) for i in range(count)]


def _leases(db: Database) -> dict[int, tuple[str | None, datetime | None]]:
    with db.session() as s:
        return {f.id: (f.lease_owner, f.lease_until) for f in s.scalars(select(Feed))}


def test_claims_take_due_feeds_once_until_the_lease_expires(db_url: str) -> None:
    db = connect(db_url)
    db.migrate()
    ids = _feeds(db, 5)
    first = claim_feeds(db, "a", T0, 60, due_by=T0, limit=3)
    assert [f.id for f in first] == ids[:3]  # the longest due first
    second = claim_feeds(db, "b", T0, 60, due_by=T0, limit=3)
    assert [f.id for f in second] == ids[3:]  # not the ones "a" holds
    assert claim_feeds(db, "c", T0 + timedelta(seconds=59), 60, due_by=T0) == []
    assert renew_leases(db, "a", T0 + timedelta(seconds=30), 60) == 3
    # "b" died: its leases expire; "a" renewed, so only b's are claimable at +61 s
    taken = claim_feeds(db, "c", T0 + timedelta(seconds=61), 60, due_by=T0)
    assert [f.id for f in taken] == ids[3:]
    release_feeds(db, "b", ids)  # b is gone: it no longer holds anything
    release_feeds(db, "a", ids[:1])
    leases = _leases(db)
    assert leases[ids[0]] == (None, None)
    assert [leases[i][0] for i in ids[1:]] == ["a", "a", "c", "c"]
    assert leases[ids[1]][1] == T0 + timedelta(seconds=90)
    # forced (due_by=None) still respects live leases; names narrow it
    forced = claim_feeds(db, "d", T0, 60, due_by=None, names=["f0", "f1"])
    assert [f.name for f in forced] == ["f0"]
    db.close()


def test_racing_instances_claim_every_feed_exactly_once(db_url: str) -> None:
    setup = connect(db_url)
    setup.migrate()
    ids = _feeds(setup, 60)
    instances = [connect(db_url) for _ in range(3)]  # separate engines and pools
    claimed: list[list[int]] = [[] for _ in instances]
    barrier = threading.Barrier(len(instances))
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            while batch := claim_feeds(instances[index], f"i{index}", T0, 60, due_by=T0, limit=4):
                claimed[index] += [f.id for f in batch]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(instances))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    everything = [i for batch in claimed for i in batch]
    assert sorted(everything) == ids  # each feed once, none left out
    leases = _leases(setup)
    for index, batch in enumerate(claimed):
        assert all(leases[i][0] == f"i{index}" for i in batch)
    for db in [setup, *instances]:
        db.close()


def test_a_cycle_skips_feeds_another_instance_holds_and_takes_them_over_when_it_dies(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "n.toml", db_url, site, {})
    ctx = open_context(load(config))
    try:
        now = ctx.clock()
        held = claim_feeds(ctx.db, "other", now, 60, due_by=None, names=["world"])
        assert [f.name for f in held] == ["world"]
        first = run_cycle(ctx, is_forced=True)
        assert sorted(r.feed for r in first) == ["nachrichten", "novosti"]
        assert site.hits.get("/feeds/world.xml", 0) == 0
        owners = {owner for owner, _ in _leases(ctx.db).values()}
        assert owners == {None, "other"}  # the cycle released its own, and only those
        later = ctx.clock() + timedelta(seconds=61)  # "other" died and renewed nothing
        late = dataclasses.replace(ctx, clock=lambda: later)
        assert [r.feed for r in run_cycle(late, is_forced=True, names=["world"])] == ["world"]
        assert site.hits["/feeds/world.xml"] == 1
    finally:
        close_context(ctx)


def test_a_late_outcome_cannot_undo_the_instance_that_took_a_delivery_over(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "n.toml", db_url, site, {"chat": [hook_url(hook)]})
    ctx = open_context(load(config))
    try:
        run_cycle(ctx, names=["novosti"], is_forced=True)
        lease, now = ctx.settings.delivery.lease, ctx.clock()
        slow = outbox.claim_next(ctx.db, now, lease, owner="slow")  # then hangs past its lease
        assert slow is not None
        later = now + timedelta(seconds=lease + 1)
        result = drain(ctx.db, ctx.settings, later, owner="quick")
        assert result.sent == 4  # every alert of the feed, the one "slow" held included
        held = outbox.mark_failed(
            ctx.db, [slow.id], "timed out", next_attempt_at=later, is_dead=False, owner="slow"
        )
        assert held == 0
        with ctx.db.session() as s:
            row = s.get_one(Delivery, slow.id)
            assert (row.status, row.claimed_by, row.last_error) == ("sent", None, None)
        assert drain(ctx.db, ctx.settings, later + timedelta(days=1), owner="quick").sent == 0
        assert len(hook.received) == 4
    finally:
        close_context(ctx)


def test_a_stopping_cycle_finishes_the_feeds_in_hand_and_claims_no_more(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    stop = threading.Event()
    body = (SAMPLE_SITE / "feeds" / "nachrichten.xml").read_bytes().replace(b"{base}", b"x")

    def slow() -> Reply:
        stop.set()  # the daemon is told to stop while the first feed is being fetched
        time.sleep(0.3)
        return Reply(200, body, {"Content-Type": "application/rss+xml"})

    site.routes["/feeds/nachrichten.xml"] = slow
    config = write_config(tmp_path / "n.toml", db_url, site, {}, http="concurrency = 1")
    ctx = open_context(load(config))
    try:
        # after the config's three feeds, more than one claim holds (AHEAD per thread)
        extra = [f"extra{i}" for i in range(AHEAD)]
        for name in extra:
            site.routes[f"/feeds/{name}.xml"] = Reply(200, body)
            add_feed(ctx.db, name, f"{site.base}/feeds/{name}.xml", ctx.clock())
        results = run_cycle(ctx, stop=stop)  # claims AHEAD feeds, then no more
        in_hand = ["world", "nachrichten", "novosti", *extra][:AHEAD]
        assert [r.feed for r in results] == in_hand  # in config order, then added ones
        assert site.hits.get(f"/feeds/{extra[-1]}.xml", 0) == 0
        assert {owner for owner, _ in _leases(ctx.db).values()} == {None}
    finally:
        close_context(ctx)


def test_polls_written_with_the_release_skip_feeds_another_instance_took(db_url: str) -> None:
    db = connect(db_url)
    db.migrate()
    ids = _feeds(db, 2)
    claimed = claim_feeds(db, "a", T0, 60, due_by=T0)
    polls = [unchanged(f, T0, is_modified=False, etag=None, last_modified=None) for f in claimed]
    # "a" stalls past its lease; "b" takes f0 and is polling it when a's writes arrive
    later = T0 + timedelta(seconds=61)
    assert [f.name for f in claim_feeds(db, "b", later, 60, due_by=T0, names=["f0"])] == ["f0"]
    release_feeds(db, "a", ids, polls)
    with db.session() as s:
        rows = {f.id: f for f in s.scalars(select(Feed))}
        taken, written = rows[ids[0]], rows[ids[1]]
        assert (taken.lease_owner, taken.last_polled_at, taken.last_status) == ("b", None, "new")
        assert (written.lease_owner, written.last_polled_at) == (None, T0)
        assert written.last_status == "not-modified" and written.error_count == 0
        assert written.next_check_at == T0 + timedelta(seconds=written.interval)
    db.close()


def test_a_parsed_poll_written_with_the_release_keeps_what_it_does_not_know(
    db_url: str,
) -> None:
    db = connect(db_url)
    db.migrate()
    ids = _feeds(db, 2)
    with db.session() as s:
        for row in s.scalars(select(Feed)):
            row.title, row.body_hash = "Old title", "old-hash"
    claimed = claim_feeds(db, "a", T0, 60, due_by=T0)
    later = T0 + timedelta(minutes=30)
    polls = [
        parsed(
            f,
            later,
            title=title,
            etag='"e2"',
            last_modified=None,
            body_hash="new-hash",
            item_digests=b"\x00\xff" * 8,
            is_changed=is_changed,
            ttl=1200.0,
        )
        for f, title, is_changed in zip(claimed, ["New title", ""], [True, False], strict=True)
    ]
    release_feeds(db, "a", ids, polls)
    with db.session() as s:
        rows = {f.id: f for f in s.scalars(select(Feed))}
        first, second = rows[ids[0]], rows[ids[1]]
        assert (first.title, second.title) == ("New title", "Old title")  # "" keeps it
        assert {first.body_hash, second.body_hash} == {"new-hash"}
        assert first.item_digests == second.item_digests == b"\x00\xff" * 8
        assert first.etag == second.etag == '"e2"' and first.ttl == second.ttl == 1200.0
        assert first.last_change_at == later and second.last_change_at is None
        assert first.last_status == second.last_status == "ok"
        assert first.is_backlog_absorbed and first.lease_owner is None
        # the wait honours the feed's <ttl> (20 minutes) over its 10-minute interval
        assert second.next_check_at == later + timedelta(minutes=20)
    db.close()
