"""Hostile command-line input: every bad value is a clear error that names it and says
what to give instead (exit 2 from click's parsing, 1 from newsmon), never a traceback.
Values at the very edge of a range still work, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.cli.params import MAX_ID

HUGE = "99999999999999999999999"
RAW = "\udcff"  # the byte 0xff from the shell: not UTF-8, passed on as a lone surrogate

CONFIG = """
[database]
url = "{db_url}"
[[feed]]
name = "world"
url = "https://example.org/feed.xml"
[channel.desk]
urls = ["json://127.0.0.1:9/x"]
[watchlist.nato]
terms = ["NATO"]
channels = ["desk"]
"""


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "newsmon.toml"
    path.write_text(CONFIG.format(db_url=db_url), encoding="utf-8")
    return path


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


SPANS = {
    "alerts-list": ["alerts", "list", "--since"],
    "alerts-list-until": ["alerts", "list", "--until"],
    "alerts-export": ["alerts", "export", "--format", "json", "--since"],
    "alerts-search": ["alerts", "search", "NATO", "--since"],
    "stats": ["stats", "--since"],
    "backfill": ["watchlists", "backfill", "nato", "--since"],
}


@pytest.mark.parametrize("command", list(SPANS.values()), ids=list(SPANS))
@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("99999999d", "36500d"),
        ("9999999999999999999999999w", "36500d"),
        ("9" * 5000 + "h", "36500d"),  # longer than int() takes from a string
        ("0001-01-01", "1970"),
        ("yesterday", "24h"),
        (RAW, "UTF-8"),
    ],
    ids=["days", "weeks", "5000-digits", "year-1", "words", "not-utf8"],
)
def test_a_bad_time_is_refused_by_name(
    config: Path, command: list[str], value: str, words: str
) -> None:
    code, err = run(config, *command, value)
    assert code == 2
    assert f"Invalid value for '{command[-1]}'" in err and words in err
    shown = "'\\xff'" if value == RAW else f"'{value[:80]}"
    assert shown in err


@pytest.mark.parametrize(
    ("args", "where", "words"),
    [
        (["db", "prune", "--older-than", "99999999d"], "--older-than", "at most 36500d"),
        (["db", "prune", "--older-than", "0s"], "--older-than", "positive"),
        (["status", "--poll-age", "1e300"], "--poll-age", "duration such as"),
        (["feeds", "add", "https://x.org/rss", "--interval", "3000000d"], "--interval", "30d"),
        (["alerts", "show", HUGE], "ALERT_ID", str(MAX_ID)),
        (["alerts", "show", "--", "-5"], "ALERT_ID", "from 1"),
        (["alerts", "show", "0"], "ALERT_ID", "from 1"),
        (["alerts", "show", "4x"], "ALERT_ID", "not a whole number"),
        (["alerts", "show", "9" * 5000], "ALERT_ID", "out of range"),
        (["deliveries", "retry", "1", HUGE], "IDS", str(MAX_ID)),
        (["alerts", "search", "NATO", "--after", HUGE], "--after", str(MAX_ID)),
        (["alerts", "list", "--limit", HUGE], "--limit", "100000"),
        (["alerts", "export", "--limit", HUGE], "--limit", "1000000000"),
        (["alerts", "search", "NATO", "--max-scan", HUGE], "--max-scan", "1000000000"),
        (["alerts", "search", "NATO", "--max-seconds", "inf"], "--max-seconds", "3600"),
    ],
    ids=[
        "older-than-huge",
        "older-than-zero",
        "poll-age-float",
        "interval-huge",
        "show-huge",
        "show-negative",
        "show-zero",
        "show-not-a-number",
        "show-5000-digits",
        "retry-huge",
        "after-huge",
        "limit-huge",
        "export-limit-huge",
        "max-scan-huge",
        "max-seconds-inf",
    ],
)
def test_a_bad_number_is_refused_by_name(
    config: Path, args: list[str], where: str, words: str
) -> None:
    code, err = run(config, *args)
    assert code == 2
    assert where in err and words in err


NAMES = {
    "alerts-watchlist": ["alerts", "list", "--watchlist"],
    "alerts-feed": ["alerts", "list", "--feed"],
    "export-watchlist": ["alerts", "export", "--watchlist"],
    "search-feed": ["alerts", "search", "NATO", "--feed"],
    "search-source": ["alerts", "search", "NATO", "--source"],
    "search-query": ["alerts", "search"],
    "deliveries-channel": ["deliveries", "list", "--channel"],
    "poll-feed": ["poll", "--once", "--feed"],
    "feeds-remove": ["feeds", "remove"],
    "feeds-add": ["feeds", "add"],
    "watchlists-show": ["watchlists", "show"],
    "notify-test": ["notify", "test"],
    "stats-tz": ["stats", "--tz"],
}


@pytest.mark.parametrize("command", list(NAMES.values()), ids=list(NAMES))
def test_a_name_that_is_not_utf8_is_refused(config: Path, command: list[str]) -> None:
    code, err = run(config, *command, f"osce{RAW}")
    assert code == 2
    assert "'osce\\xff' is not valid UTF-8" in err


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://[::1", "not a valid URL"),
        ("http://0177.0.0.2/", "127.0.0.2"),
        ("http://0x7f.0.0.1/rss", "127.0.0.1"),
        ("http://127.1/rss", "dotted decimal"),
        ("http://2130706433/", "dotted decimal"),
        ("http://999.1.1.1/", "dotted decimal"),
        ("http://example.org:99999/rss", "port is not a number from 1 to 65535"),
        ("http://xn--zz/rss", "not a valid host name"),
        ("http://a..b/rss", "not a valid host name"),
        ("http:///rss", "no host"),
        ("javascript:alert(1)", "http(s) URL"),
    ],
    ids=[
        "open-bracket",
        "octal",
        "hex",
        "short",
        "one-number",
        "octet-too-big",
        "port",
        "bad-punycode",
        "empty-label",
        "no-host",
        "javascript",
    ],
)
def test_feeds_add_refuses_a_url_the_fetcher_cannot_fetch(
    config: Path, url: str, words: str
) -> None:
    code, err = run(config, "feeds", "add", url)
    assert code == 1
    assert err.startswith("error: feeds: ") and words in err and "hint: " in err


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["alerts", "show", str(MAX_ID)], 1),  # no such alert: newsmon's own error
        (["alerts", "search", "NATO", "--after", str(MAX_ID)], 0),
        (["deliveries", "retry", str(MAX_ID)], 1),
        (["alerts", "list", "--since", "36500d", "--watchlist", "ñ"], 0),
        (["alerts", "list", "--since", "1970-01-01", "--until", "9998-12-31"], 0),
        (["db", "prune", "--dry-run", "--older-than", "36500d"], 0),
    ],
    ids=["show-max-id", "after-max-id", "retry-max-id", "since-100y", "dates", "prune-100y"],
)
def test_values_at_the_edge_of_a_range_work(config: Path, args: list[str], code: int) -> None:
    assert run(config, "db", "upgrade")[0] == 0
    found, err = run(config, *args)
    assert found == code, err
    if code:
        assert "no such delivery" in err or "no alert" in err
