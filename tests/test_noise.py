"""Parsing and timing for digests, quiet hours and rate limits, and their config errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.config.settings import ChannelSettings, load
from monitor.config.values import parse_quiet_hours, parse_rate
from monitor.deliver.pacing import quiet_until, rate_free_at
from monitor.errors import ConfigError
from monitor.scheduler import next_fire

ZONE = ZoneInfo("Europe/Berlin")
MON_0600_UTC = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # a Monday; 07:00 in Berlin


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20/min", (20, 60.0)), ("1/s", (1, 1.0)), ("100/h", (100, 3600.0)), ("5/30s", (5, 30.0))],
    ids=["per-minute", "per-second", "per-hour", "per-duration"],
)
def test_parse_rate(text: str, expected: tuple[int, float]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["0/min", "20", "x/min", "20/fortnight", "-1/s"])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="20/min"):
        parse_rate(text)


@pytest.mark.parametrize("text", ["22:00", "25:00-07:00", "07:00-07:00", "7-8"])
def test_parse_quiet_hours_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="22:00-07:00"):
        parse_quiet_hours(text)


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("30 7 * * 1-5", datetime(2026, 11, 27, 12, 0, tzinfo=UTC), "2026-11-30 07:30 Mon"),
        ("30 7 * * 0", datetime(2026, 11, 27, 12, 0, tzinfo=UTC), "2026-11-29 07:30 Sun"),
        ("30 7 * * 7", datetime(2026, 11, 27, 12, 0, tzinfo=UTC), "2026-11-29 07:30 Sun"),
        ("0 18 * * 5", datetime(2026, 11, 27, 12, 0, tzinfo=UTC), "2026-11-27 18:00 Fri"),
        ("*/15 * * * *", datetime(2026, 11, 27, 12, 1, tzinfo=UTC), "2026-11-27 13:15 Fri"),
    ],
    ids=["weekdays", "sunday-0", "sunday-7", "friday", "every-15-min"],
)
def test_crontab_weekdays_count_from_sunday_in_the_channel_zone(
    expr: str, after: datetime, expected: str
) -> None:
    fire = next_fire(expr, "Europe/Berlin", after)
    assert fire.tzinfo is not None
    local = fire.astimezone(ZONE)
    assert local.strftime("%Y-%m-%d %H:%M %a") == expected


@pytest.mark.parametrize(
    ("quiet", "now", "until"),
    [
        ("22:00-07:00", MON_0600_UTC - timedelta(hours=9), MON_0600_UTC),  # 22:00 Sunday
        ("22:00-07:00", MON_0600_UTC - timedelta(minutes=1), MON_0600_UTC),
        ("22:00-07:00", MON_0600_UTC, None),
        ("22:00-07:00", MON_0600_UTC - timedelta(hours=10), None),  # 21:00
        ("12:00-14:00", MON_0600_UTC + timedelta(hours=5), MON_0600_UTC + timedelta(hours=7)),
    ],
    ids=["at-start", "just-before-end", "at-end", "before-start", "midday"],
)
def test_quiet_until(quiet: str, now: datetime, until: datetime | None) -> None:
    channel = ChannelSettings(urls=["json://x"], quiet_hours=quiet, timezone="Europe/Berlin")
    assert quiet_until(channel, now) == until


def test_rate_free_at_counts_the_last_n_sends() -> None:
    channel = ChannelSettings(urls=["json://x"], rate_limit="3/min")
    t = MON_0600_UTC
    assert rate_free_at(channel, [t, t - timedelta(seconds=10)]) is None
    recent = [t, t - timedelta(seconds=10), t - timedelta(seconds=20)]
    assert rate_free_at(channel, recent) == t - timedelta(seconds=20) + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ('mode = "digest"', ["schedule"]),
        ('mode = "digest"\nschedule = "61 * * * *"', ["crontab", "61"]),
        ('timezone = "Mars/Olympus"', ["Mars/Olympus", "IANA"]),
        ('quiet_hours = "late"', ["22:00-07:00"]),
        ('rate_limit = "lots"', ["20/min"]),
        ('template = "$title $nope"', ["$snippet"]),
        ('urls_env = "not a name"', ["urls_env"]),
    ],
    ids=[
        "digest-without-schedule",
        "bad-crontab",
        "bad-zone",
        "bad-quiet",
        "bad-rate",
        "bad-template",
        "bad-env-name",
    ],
)
def test_channel_settings_errors_name_the_key(
    tmp_path: Path, options: str, words: list[str]
) -> None:
    config = tmp_path / "n.toml"
    config.write_text(f'[channel.chat]\nurls = ["json://127.0.0.1/x"]\n{options}\n')
    with pytest.raises(ConfigError) as caught:
        load(config)
    message = str(caught.value)
    assert f"{config}:" in message and "channel.chat" in message
    assert all(w in message for w in words), message
