"""The outbox against a real database and real webhook receivers: per-target results,
retries with backoff, dead letters, claims that outlive a crash, quiet hours, rate limits,
digests and severity."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpers.config import hook_url, write_config
from helpers.delivery import NOVOSTI_ALERTS, raised, statuses
from monitor.config.settings import load
from monitor.deliver.drain import drain, retry_delay
from monitor.demo.server import Receiver, Site
from monitor.store import outbox
from monitor.store.alerts import list_alerts

BERLIN = ZoneInfo("Europe/Berlin")


def alert_ids(receiver: Receiver) -> list[int]:
    """The alert id in each message the receiver got (the default template's footer)."""
    found = []
    for _, _, body in receiver.received:
        message = json.loads(body)["message"]
        # a digest's footer lists its ids; one alert's names the command that shows it
        m = re.search(r"(?m)^alerts ([\d, ]+)$", message)
        m = m or re.search(r"newsmon alerts show (\d+)$", message)
        assert m is not None, message
        found += [int(x) for x in m.group(1).split(",")]
    return found


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 48, 72), (2, 96, 144), (3, 192, 288), (9, 1440, 2160)],
    ids=["first", "second", "third", "capped"],
)
def test_retry_delay_doubles_with_jitter_up_to_the_cap(
    tmp_path: Path, attempts: int, low: float, high: float
) -> None:
    config = tmp_path / "n.toml"
    config.write_text('[delivery]\nretry_base = "1m"\nretry_max = "30m"\n')
    settings = load(config)
    delays = [retry_delay(settings, attempts) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 100  # jittered, so retries of many alerts do not stampede


def test_partly_failed_channel_is_not_sent_and_a_retry_resends_only_to_the_failed_target(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    with Receiver() as flaky:
        flaky.status = 500
        urls = [hook_url(hook), hook_url(flaky, "S3cretT0ken")]
        config = write_config(tmp_path / "n.toml", db_url, site, {"chat": urls})
        with raised(config) as ctx:
            # one fixed time for the first two drains: on a slow machine the real clock
            # could pass the 1 s back-off between them
            start = ctx.clock()
            first = drain(ctx.db, ctx.settings, start)
            assert (first.sent, first.failed) == (0, NOVOSTI_ALERTS)
            assert statuses(ctx) == ["failed"] * NOVOSTI_ALERTS
            rows = outbox.list_deliveries(ctx.db)
            assert all(
                r.attempts == 1 and "1 of 2 target(s) failed" in (r.last_error or "") for r in rows
            )
            assert all("S3cretT0ken" not in (r.last_error or "") for r in rows)
            assert all(sorted(t["ok"] for t in r.targets) == [False, True] for r in rows)
            assert len(hook.received) == NOVOSTI_ALERTS and not flaky.received

            too_soon = drain(ctx.db, ctx.settings, start)
            assert too_soon.sent == too_soon.failed == 0  # backing off

            flaky.status = 200
            later = drain(ctx.db, ctx.settings, start + timedelta(seconds=5))
            assert later.sent == NOVOSTI_ALERTS and statuses(ctx) == ["sent"] * NOVOSTI_ALERTS
    # the good target got each alert once, the flaky one once it recovered
    assert sorted(alert_ids(hook)) == sorted(alert_ids(flaky))
    assert len(set(alert_ids(hook))) == len(hook.received) == NOVOSTI_ALERTS


@pytest.mark.parametrize(
    ("delivery", "drains", "dead_after"),
    [
        ('max_attempts = 2\nretry_base = "1s"\nretry_max = "1s"', 3, 2),
        ('max_attempts = 50\nretry_base = "1s"\nmax_age = "30s"', 3, 3),
    ],
    ids=["by-count", "by-age"],
)
def test_a_delivery_that_keeps_failing_is_dead_after_the_limit(
    db_url: str,
    site: Site,
    hook: Receiver,
    tmp_path: Path,
    delivery: str,
    drains: int,
    dead_after: int,
) -> None:
    hook.status = 503
    config = write_config(tmp_path / "n.toml", db_url, site, {"chat": [hook_url(hook)]})
    config.write_text(
        config.read_text().replace(
            'retry_base = "1s"\nretry_max = "2s"\nmax_attempts = 3', delivery
        )
    )
    with raised(config) as ctx:
        start = ctx.clock()
        for i in range(1, drains + 1):
            result = drain(ctx.db, ctx.settings, start + timedelta(seconds=20 * (i - 1)))
            is_dead = i >= dead_after
            assert result.dead == (NOVOSTI_ALERTS if i == dead_after else 0)
            assert statuses(ctx) == ["dead" if is_dead else "failed"] * NOVOSTI_ALERTS
        rows = outbox.list_deliveries(ctx.db, status="dead")
        assert all(r.attempts == dead_after and "503" in (r.last_error or "") for r in rows)


def test_a_crashed_claim_is_sent_after_its_lease_and_only_once(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "n.toml", db_url, site, {"chat": [hook_url(hook)]}, extra="")
    config.write_text(
        config.read_text().replace("max_attempts = 3", 'max_attempts = 3\nlease = "1m"')
    )
    with raised(config) as ctx:
        now = ctx.clock()
        crashed = outbox.claim_next(ctx.db, now, ctx.settings.delivery.lease)  # then "dies"
        assert crashed is not None
        result = drain(ctx.db, ctx.settings, now)
        assert result.sent == NOVOSTI_ALERTS - 1
        assert crashed.alert_id not in alert_ids(hook)
        assert drain(ctx.db, ctx.settings, now + timedelta(seconds=30)).sent == 0  # still held
        assert drain(ctx.db, ctx.settings, now + timedelta(seconds=61)).sent == 1
    assert sorted(alert_ids(hook)) == sorted(set(alert_ids(hook)))
    assert len(hook.received) == NOVOSTI_ALERTS


def berlin(after: datetime, hour: int, minute: int = 0) -> datetime:
    """hour:minute in Berlin on the day after ``after``, in UTC."""
    day = after.astimezone(BERLIN).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def test_quiet_hours_hold_alerts_until_they_end_but_urgent_ones_go_through(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "n.toml",
        db_url,
        site,
        {"chat": [hook_url(hook)]},
        channel_options={"chat": 'quiet_hours = "22:00-07:00"\ntimezone = "Europe/Berlin"'},
        watchlist_options={"ryabkov": "urgent = true"},
    )
    with raised(config) as ctx:
        routed = {a.id: a.watchlists for a in list_alerts(ctx.db)}
        urgent = {i for i, w in routed.items() if "ryabkov" in w}
        assert urgent and len(urgent) < NOVOSTI_ALERTS
        start = ctx.clock()
        night = drain(ctx.db, ctx.settings, berlin(start, 3))
        assert night.sent == len(urgent) and night.held == NOVOSTI_ALERTS - len(urgent)
        assert set(alert_ids(hook)) == urgent
        assert drain(ctx.db, ctx.settings, berlin(start, 6, 59)).sent == 0  # still quiet
        morning = drain(ctx.db, ctx.settings, berlin(start, 7))
        assert morning.sent == NOVOSTI_ALERTS - len(urgent)
    assert sorted(alert_ids(hook)) == sorted(routed)


def test_rate_limit_queues_the_excess_in_order_and_drops_nothing(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "n.toml",
        db_url,
        site,
        {"chat": [hook_url(hook)]},
        channel_options={"chat": 'rate_limit = "3/min"'},
    )
    with raised(config, ("world", "novosti")) as ctx:
        raised_order = [a.id for a in reversed(list_alerts(ctx.db, limit=1000))]
        total = len(raised_order)
        assert total > 6
        start, sent = ctx.clock(), []
        for minute in range(total // 3 + 1):
            result = drain(ctx.db, ctx.settings, start + timedelta(seconds=61 * minute))
            assert result.sent == min(3, total - sum(sent))
            sent.append(result.sent)
        assert sum(sent) == total and statuses(ctx) == ["sent"] * total
    assert alert_ids(hook) == raised_order  # oldest first, also across waits


def test_digest_waits_for_its_schedule_then_sends_one_grouped_message(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "n.toml",
        db_url,
        site,
        {"morning": [hook_url(hook)]},
        channel_options={
            "morning": 'mode = "digest"\nschedule = "30 7 * * 1-5"\nformat = "markdown"\n'
            'timezone = "Europe/Berlin"'
        },
    )
    with raised(config) as ctx:
        created = ctx.clock()
        ids = [a.id for a in list_alerts(ctx.db)]
        early = drain(ctx.db, ctx.settings, created)
        assert early.sent == 0 and early.held == NOVOSTI_ALERTS and not hook.received
        due = outbox.list_deliveries(ctx.db)
        when = {d.next_attempt_at for d in due}
        assert len(when) == 1  # one digest time for all of them
        (at,) = when
        local = at.astimezone(BERLIN)
        assert (local.hour, local.minute) == (7, 30) and local.weekday() < 5
        assert created < at < created + timedelta(days=4)
        assert drain(ctx.db, ctx.settings, at - timedelta(seconds=1)).sent == 0
        result = drain(ctx.db, ctx.settings, at)
        assert result.sent == NOVOSTI_ALERTS and statuses(ctx) == ["sent"] * NOVOSTI_ALERTS
    assert len(hook.received) == 1
    payload = json.loads(hook.received[0][2])
    assert payload["title"].startswith(f"[newsmon] digest: {NOVOSTI_ALERTS} alert(s)")
    assert re.search(r"\nnewsmon alerts show \d+$", payload["message"])  # runs as printed
    body = payload["message"]
    for heading in ("### ukraine", "### ryabkov", "### osce"):
        assert heading in body or heading.split()[1] not in payload["title"]
    assert sorted(alert_ids(hook)) == sorted(ids)


@pytest.mark.parametrize(
    ("severity", "apprise_type", "tag"),
    [
        ("info", "info", "[newsmon]"),
        ("warning", "warning", "[newsmon warning]"),
        ("critical", "failure", "[newsmon CRITICAL]"),
    ],
    ids=["info", "warning", "critical"],
)
def test_severity_is_carried_into_the_message(
    db_url: str,
    site: Site,
    hook: Receiver,
    tmp_path: Path,
    severity: str,
    apprise_type: str,
    tag: str,
) -> None:
    config = write_config(
        tmp_path / "n.toml",
        db_url,
        site,
        {"chat": [hook_url(hook)]},
        watchlist_options={"ryabkov": f'severity = "{severity}"'},
    )
    with raised(config) as ctx:
        ryabkov = {a.id for a in list_alerts(ctx.db) if a.watchlists == ["ryabkov"]}
        drain(ctx.db, ctx.settings, ctx.clock())
    assert ryabkov
    for _, _, body in hook.received:
        payload = json.loads(body)
        (alert_id,) = alert_ids_of(payload["message"])
        if alert_id in ryabkov:
            assert payload["type"] == apprise_type and payload["title"].startswith(tag)
        else:
            assert payload["type"] == "info" and payload["title"].startswith("[newsmon] ")


def alert_ids_of(message: str) -> list[int]:
    return [int(m) for m in re.findall(r"newsmon alerts show (\d+)$", message)]
