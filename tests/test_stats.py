"""newsmon stats: buckets in a time zone (daylight saving time, half-hour zones), counts
per watchlist, feed and term with empty buckets filled, the migration's count of older
alerts, the terminal chart, JSON and the PNG plot, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from helpers.db import migrate_to
from helpers.history import add_alert
from monitor.cli import cli
from monitor.config.settings import Settings
from monitor.history.stats import Report, boundaries, report, runs
from monitor.history.textcharts import EMPTY, bar, fold, sparkline
from monitor.pipeline.polls import sync_feeds
from monitor.store.counts import recount
from monitor.store.db import Database, connect

DAY0 = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)
D = timedelta(days=1)
CONFIG = """
[database]
url = "{url}"

[[feed]]
name = "world"
url = "http://127.0.0.1/world.xml"

[[feed]]
name = "novosti"
url = "http://127.0.0.1/novosti.xml"

[watchlist.ukraine]
terms = ["Kyiv", "Ukraine"]

[watchlist.nato]
terms = ["NATO"]

[watchlist.osce]
terms = ["OSCE"]
"""


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until", "bucket", "zone", "starts", "widths"),
    [
        (
            "2026-11-16 10:20",
            "2026-11-16 13:00",
            "hour",
            "UTC",
            ["2026-11-16 10:00", "2026-11-16 11:00", "2026-11-16 12:00", "2026-11-16 13:00"],
            [3600],
        ),
        (  # 25 October 2026: Berlin's clocks go back, that day has 25 hours
            "2026-10-24 12:00",
            "2026-10-26 12:00",
            "day",
            "Europe/Berlin",
            ["2026-10-23 22:00", "2026-10-24 22:00", "2026-10-25 23:00", "2026-10-26 23:00"],
            [86400, 90000, 86400],
        ),
        (  # UTC+5:30: local midnight falls on a half hour; buckets start at the hour before
            "2026-11-16 20:00",
            "2026-11-17 20:00",
            "day",
            "Asia/Kolkata",
            ["2026-11-16 18:00", "2026-11-17 18:00", "2026-11-18 18:00"],
            [86400],
        ),
        (  # an end on a bucket's edge adds no empty bucket after it
            "2026-11-16 00:00",
            "2026-11-18 00:00",
            "day",
            "UTC",
            ["2026-11-16 00:00", "2026-11-17 00:00", "2026-11-18 00:00"],
            [86400],
        ),
    ],
    ids=["hours", "berlin-dst-day", "kolkata-half-hour", "edge"],
)
def test_buckets_are_whole_hours_or_local_days(
    since: str, until: str, bucket: str, zone: str, starts: list[str], widths: list[int]
) -> None:
    tz = UTC if zone == "UTC" else ZoneInfo(zone)
    found = boundaries(z(since), z(until), "hour" if bucket == "hour" else "day", tz)
    assert found == [z(s) for s in starts]
    assert [r.width for r in runs(found)] == widths
    assert (
        sum((r.end - r.start) // timedelta(seconds=r.width) for r in runs(found)) == len(found) - 1
    )


def test_charts_show_empty_buckets_and_scale_to_the_peak() -> None:
    assert sparkline([0, 1, 8, 4, 0]) == f"{EMPTY}▁█▄{EMPTY}"
    assert sparkline([0, 0]) == EMPTY * 2
    assert sparkline([3, 3]) == "██"
    assert fold([1, 2, 3, 4, 5], 2) == [6, 9]  # three buckets a mark
    assert fold([1, 2, 3], 10) == [1, 2, 3]
    assert bar(10, 10, 4) == "████" and bar(5, 10, 4) == "██" and bar(1, 100, 4) == "▏"
    assert bar(0, 10, 4) == ""


def settings(url: str) -> Settings:
    return Settings.model_validate(tomllib.loads(CONFIG.format(url=url)))


def database(url: str) -> Database:
    db = connect(url)
    db.migrate()
    sync_feeds(db, settings(url), DAY0 - 30 * D)  # world is feed 1, novosti feed 2
    return db


def history(db: Database) -> None:
    """Monday: 2 ukraine alerts from world (Kyiv), 1 for ukraine and nato from novosti.
    Tuesday: nothing. Wednesday: 1 nato alert at 23:30 UTC (Thursday in Berlin)."""
    add_alert(db, DAY0 + 9 * H, ["ukraine"], terms=["Kyiv"])
    add_alert(db, DAY0 + 10 * H, ["ukraine"], terms=["Kyiv", "Ukraine"])
    late = DAY0 + 10 * H + timedelta(minutes=5)
    add_alert(db, late, ["ukraine", "nato"], feed_id=2, terms=["NATO"])
    add_alert(db, DAY0 + 2 * D + 23 * H + timedelta(minutes=30), ["nato"], terms=["NATO"])


def series(found: Report) -> dict[str, list[int]]:
    return {s.name: list(s.counts) for s in found.series}


def test_counts_per_watchlist_feed_and_term_with_empty_buckets(db_url: str) -> None:
    db = database(db_url)
    history(db)
    week = report(db, "watchlist", DAY0, DAY0 + 3 * D, "day", names=["osce"])
    assert [s.isoformat() for s in week.starts][:2] == [
        "2026-11-16T00:00:00+00:00",
        "2026-11-17T00:00:00+00:00",
    ]
    # an alert for two watchlists counts for each; osce is shown though it has none
    assert series(week) == {"ukraine": [3, 0, 0], "nato": [1, 0, 1], "osce": [0, 0, 0]}
    assert [s.name for s in week.series] == ["ukraine", "nato", "osce"]  # busiest first
    feeds = report(db, "feed", DAY0, DAY0 + 3 * D, "day")
    assert series(feeds) == {"world": [2, 0, 1], "novosti": [1, 0, 0]}
    terms = report(db, "term", DAY0, DAY0 + 3 * D, "day")
    assert series(terms) == {
        "ukraine: Kyiv": [2, 0, 0],
        "nato: NATO": [1, 0, 1],
        "ukraine: Ukraine": [1, 0, 0],
        "ukraine: NATO": [1, 0, 0],
    }
    # in Berlin the late nato alert falls on Thursday: a fourth day
    berlin = report(db, "watchlist", DAY0, DAY0 + 3 * D, "day", "Europe/Berlin")
    assert series(berlin)["nato"] == [1, 0, 0, 1]
    assert berlin.starts[0].isoformat() == "2026-11-16T00:00:00+01:00"
    hours = report(db, "watchlist", DAY0 + 8 * H, DAY0 + 12 * H, "hour")
    assert series(hours) == {"ukraine": [0, 1, 2, 0], "nato": [0, 0, 1, 0]}
    assert report(db, "feed", DAY0 + 3 * D, DAY0 + 4 * D).total == 0
    db.close()


def test_the_migration_counts_alerts_stored_before_it_as_new_ones_are_counted(
    db_url: str,
) -> None:
    db = database(db_url)
    history(db)

    def everything() -> dict[str, dict[str, list[int]]]:
        return {
            by: series(report(db, by, DAY0, DAY0 + 4 * D)) for by in ("watchlist", "feed", "term")
        }

    before = everything()
    migrate_to(db, "0008_retention", is_down=True)  # drops the counts,
    migrate_to(db, "head")  # then counts the stored alerts again
    after = everything()
    assert after == before and after["watchlist"]["ukraine"] == [3, 0, 0, 0]
    assert recount(db) == 14  # the same again, for history imported around the write path
    assert everything() == before
    db.close()


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), "stats", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_stats_command_chart_json_and_plot(db_url: str, tmp_path: Path) -> None:
    db = database(db_url)
    history(db)
    db.close()
    config = tmp_path / "newsmon.toml"
    config.write_text(CONFIG.format(url=db_url), encoding="utf-8")
    window = ("--since", "2026-11-16", "--until", "2026-11-19")
    table = run(config, *window)
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert rows["ukraine"][:3] == [f"█{EMPTY}{EMPTY}", "3", "3"]  # marks, peak, total
    assert rows["nato"][:3] == [f"█{EMPTY}█", "1", "2"]
    assert rows["osce"][:3] == [EMPTY * 3, "0", "0"]  # configured, quiet: still a row
    assert "Alerts per day by watchlist, 2026-11-16 to 2026-11-19 (UTC): 5 in all" in table
    data = json.loads(
        run(config, *window, "--by", "feed", "--format", "json", "--tz", "Europe/Berlin")
    )
    assert data["buckets"][0] == "2026-11-16T00:00:00+01:00" and data["tz"] == "Europe/Berlin"
    assert {s["name"]: s["counts"] for s in data["series"]} == {
        "world": [2, 0, 0, 1],
        "novosti": [1, 0, 0, 0],
    }
    assert data["total"] == 4 and data["series"][0]["peak"] == 2
    png = tmp_path / "alerts.png"
    run(config, *window, "--by", "term", "--plot", str(png), "--format", "json")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_bad_zone_and_missing_matplotlib_say_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    config = tmp_path / "newsmon.toml"
    config.write_text(CONFIG.format(url=url), encoding="utf-8")
    bad = CliRunner().invoke(cli, ["--config", str(config), "stats", "--tz", "Mars/Olympus"])
    assert bad.exit_code == 1
    assert "error: stats: unknown time zone 'Mars/Olympus'" in bad.output
    assert "hint: use an IANA name" in bad.output
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    plot = tmp_path / "a.png"
    missing = CliRunner().invoke(cli, ["--config", str(config), "stats", "--plot", str(plot)])
    assert missing.exit_code == 1 and not plot.exists()
    assert "error: plot: --plot needs matplotlib, which is not installed" in missing.output
    assert "hint: pip install 'newsmon[plot]'" in missing.output
