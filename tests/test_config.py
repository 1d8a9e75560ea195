"""Config loading: the shipped example, precise errors, folders, durations, env override."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from monitor.config.settings import (
    ChannelSettings,
    DaemonSettings,
    DatabaseSettings,
    DefaultsSettings,
    DeliverySettings,
    ExportSettings,
    FeedSettings,
    HealthSettings,
    HttpSettings,
    MetricsSettings,
    RetentionSettings,
    ScaleSettings,
    SpikeOverride,
    SpikesSettings,
    StoriesSettings,
    WatchlistSettings,
    load,
    parse_duration,
)
from monitor.errors import ConfigError
from monitor.match.watchlists import compile_watchlists, find_matches
from monitor.model import Article, TextSource

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "newsmon.toml"
TABLES: dict[str, type[BaseModel]] = {
    "database": DatabaseSettings,
    "http": HttpSettings,
    "defaults": DefaultsSettings,
    "delivery": DeliverySettings,
    "daemon": DaemonSettings,
    "stories": StoriesSettings,
    "health": HealthSettings,
    "metrics": MetricsSettings,
    "retention": RetentionSettings,
    "export": ExportSettings,
    "spikes": SpikesSettings,
    "scale": ScaleSettings,
    "feed": FeedSettings,
    "channel": ChannelSettings,
    "watchlist": WatchlistSettings,
}
KEY_LINE = re.compile(r"^\s*([A-Za-z_]+)\s*=")
HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z_]+)")


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSMON_DATABASE_URL", raising=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line containing ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, needle
    return found[0]


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load(path)
    return str(info.value)


# ------------------------------------------------------------------ the shipped example


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """It starts as it is: no channel, so no secret to provide (channels come later)."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    for name in [n for n in os.environ if n.startswith("NEWSMON_")]:
        monkeypatch.delenv(name)
    settings = load(EXAMPLE, with_secrets=True)
    assert settings.channel == {} and settings.health.channels == []
    assert len(settings.feed) >= 10
    assert {f.name for f in settings.feed} >= {"bbc-world", "tagesschau", "meduza", "unian"}
    assert set(settings.watchlist) >= {"ukraine", "nato", "osce", "ryabkov"}
    forms = {
        "osce": {"OSCE", "OSZE", "ОБСЕ", "ОБСЄ"},
        "ryabkov": {"Ryabkov", "Riabkov", "Rjabkow", "Рябков", "Рябкова"},
        "nato": {"NATO", "НАТО", "OTAN", "Nato-Gipfel"},
        "ukraine": {"Ukraine", "Україна", "Украина", "України", "ukrainischen"},
    }
    compiled = compile_watchlists(settings)
    for name, words in forms.items():
        for word in words:
            article = Article(None, "", f"Heute: {word}.", TextSource.PAGE)
            assert name in {m.watchlist for m in find_matches(compiled, article)}, (name, word)


def test_the_examples_commented_channels_are_valid_once_uncommented(tmp_path: Path) -> None:
    """Uncommenting the channels and the routes named after "e.g." gives a valid config
    whose channels read their secrets from the places the comments say."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("#[channel.")
    end = text.index("# ------", start)  # the watchlists
    block = re.sub(r"(?m)^#(?=\[channel\.|[a-z_]+ = )", "", text[start:end])
    text = text[:start] + block + text[end:]
    text = re.sub(r"(?m)^channels = \[\]  # e\.g\. (\[[^]]*\]).*$", r"channels = \1", text)
    config = write(tmp_path / "n.toml", text)
    settings = load(config)
    assert set(settings.channel) == {"desk", "chat", "morning", "oncall"}
    assert settings.health.channels == ["oncall"]
    for name, wl in settings.watchlist.items():
        assert wl.channels and set(wl.channels) <= set(settings.channel), name
    sources = {name: ch.model_dump(exclude_defaults=True) for name, ch in settings.channel.items()}
    assert sources["desk"]["urls_file"] == Path("/etc/newsmon/desk.urls")
    assert sources["morning"]["urls_env"] == "NEWSMON_MORNING_URLS"
    assert sources["oncall"]["urls_credential"] == "oncall.urls"
    assert all("urls" not in s for s in sources.values())  # no secret in the file


def _example_lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def _comments() -> str:
    return "\n".join(ln for ln in _example_lines() if ln.lstrip().startswith("#"))


def _key_lines() -> list[tuple[int, str, str]]:
    """(index, table, key) for every ``key =`` line of the example."""
    found, table = [], ""
    for i, line in enumerate(_example_lines()):
        if line.lstrip().startswith("#"):
            continue
        if header := HEADER.match(line):
            table = header.group(1)
        elif key := KEY_LINE.match(line):
            found.append((i, table, key.group(1)))
    return found


def _commented_above(index: int) -> bool:
    """A comment in the 6 lines above, inside the key's table, or right above its header."""
    lines = _example_lines()
    for i in range(index - 1, max(-1, index - 7), -1):
        text = lines[i].strip()
        if text.startswith("#"):
            return True
        if text.startswith("["):
            block = [ln for ln in lines[:i] if ln.strip()]
            return bool(block) and block[-1].lstrip().startswith("#")
    return False


def _mentioned(key: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", _comments(), re.IGNORECASE) is not None


@pytest.mark.parametrize(
    ("table", "key"),
    [(t, k) for t, model in TABLES.items() for k in model.model_fields],
    ids=[f"{t}.{k}" for t, model in TABLES.items() for k in model.model_fields],
)
def test_every_setting_is_documented_in_the_example(table: str, key: str) -> None:
    set_with_comment = any(
        t == table and k == key and _commented_above(i) for i, t, k in _key_lines()
    )
    assert set_with_comment or _mentioned(key), f"[{table}] {key} is not in the example"


def test_every_key_in_the_example_is_known_and_explained() -> None:
    lines = _key_lines()
    assert len(lines) > 30
    for index, table, key in lines:
        assert key in TABLES[table].model_fields, f"line {index + 1}: [{table}] {key}"
        assert _commented_above(index) or _mentioned(key), f"line {index + 1}: {key} unexplained"


# ------------------------------------------------------------------ errors with file:line


FEEDS = """
[[feed]]
name = "first"
url = "http://example.org/one.xml"

[[feed]]
name = "second"
url = "http://example.org/two.xml"
"""


@pytest.mark.parametrize(
    ("text", "needle", "key", "words"),
    [
        (
            '[http]\ntimeout = "20s"\nbogus_key = 1\n',
            "bogus_key",
            "http.bogus_key",
            ["unknown key"],
        ),
        (
            '[defaults]\nalert_backlog = true\ninterval = "soon"\n',
            '"soon"',
            "defaults.interval",
            ["duration", "soon"],
        ),
        ("[http]\nmax_bytes = 10\n", "max_bytes", "http.max_bytes", ["10000"]),
        (
            FEEDS.replace("http://example.org/two.xml", "ftp://example.org/two.xml"),
            "ftp://",
            "feed[1].url",
            ["http://", "ftp://example.org/two.xml"],
        ),
        (FEEDS.replace('name = "second"', 'name = "bad name!"'), "bad name!", "feed[1].name", []),
        (FEEDS + 'enabled = "maybe"\n', "maybe", "feed[1].enabled", []),
        (
            '[channel.desk]\nurls = ["json://localhost"]\nformat = "pdf"\n',
            '"pdf"',
            "channel.desk.format",
            [],
        ),
        ('[channel.desk]\nformat = "html"\n', "[channel.desk]", "channel.desk", ["urls_file"]),
        (
            "[watchlist.nato]\nchannels = []\nterms = []\n",
            "[watchlist.nato]",
            "watchlist.nato",
            ["queries"],
        ),
        ('[watchlist.nato]\nterms = ["NATO", "  "]\n', "terms", "watchlist.nato.terms", ["blank"]),
        ('[export]\nlisten = "8089"\n', "listen", "export.listen", ["127.0.0.1:8089"]),
        (
            '[export]\ntag_authority = "https://example.org"\n',
            "tag_authority",
            "export.tag_authority",
            ["news.example.org,2026"],
        ),
        (
            '[watchlist.nato]\nterms = ["NATO"]\nspike = { window = "4d" }\n',
            "spike",
            "watchlist.nato.spike",
            ["baseline", "twice"],
        ),
        ("[spikes]\nfactor = 0.5\n", "factor", "spikes.factor", ["greater than or equal to 1"]),
        (
            '[watchlist.nato]\nterms = ["NATO"]\nspike = { min_history = "8d" }\n',
            "spike",
            "watchlist.nato.spike",
            ["min_history", "baseline"],
        ),
        ("[stories]\ngrowth = [20, 5]\n", "growth", "stories.growth", ["must rise"]),
        ("[stories]\ngrowth = [1]\n", "growth", "stories.growth", ["2 or more"]),
        ("[stories]\nevent_threshold = 1.5\n", "event_threshold", "stories.event_threshold", ["1"]),
        (
            '[watchlist.nato]\nterms = ["NATO"]\nstory = "outlets"\n',
            "story",
            "watchlist.nato.story",
            ["events", "copies"],
        ),
    ],
    ids=[
        "unknown-key",
        "bad-duration",
        "too-small",
        "ftp-url-2nd-feed",
        "bad-feed-name",
        "bad-bool",
        "bad-format",
        "channel-without-target",
        "no-terms",
        "blank-term",
        "bad-listen-address",
        "bad-tag-authority",
        "spike-window-longer-than-baseline",
        "spike-factor-below-one",
        "spike-history-longer-than-baseline",
        "growth-not-rising",
        "growth-below-two",
        "event-threshold-above-one",
        "story-mode-unknown",
    ],
)
def test_bad_value_names_file_line_and_key(
    tmp_path: Path, text: str, needle: str, key: str, words: list[str]
) -> None:
    path = write(tmp_path / "bad.toml", "# a config with one mistake\n" + text)
    message = config_error(path)
    assert message.startswith("config: 1 problem(s)")
    assert f"{path}:{line_of(path.read_text(), needle)}: {key}:" in message
    for word in words:
        assert word in message


def test_spike_rules_come_from_spikes_and_each_watchlist(tmp_path: Path) -> None:
    text = """
[spikes]
enabled = false
window = "30m"
min_count = 4

[watchlist.quiet]
terms = ["a"]

[watchlist.on]
terms = ["b"]
spike = true

[watchlist.own]
terms = ["c"]
spike = { factor = 5, baseline = "2d" }
"""
    settings = load(write(tmp_path / "spikes.toml", text))
    rules = settings.spike_rules()
    assert set(rules) == {"on", "own"}  # [spikes] is off: only those that ask
    assert (rules["on"].window, rules["on"].factor, rules["on"].min_count) == (1800, 3.0, 4)
    assert (rules["own"].factor, rules["own"].baseline, rules["own"].window) == (5, 172800, 1800)
    assert (rules["on"].min_history, rules["own"].min_history) == (7 * 86400, 172800)  # all
    assert isinstance(settings.watchlist["own"].spike, SpikeOverride)
    enabled = load(write(tmp_path / "on.toml", text.replace("enabled = false", "enabled = true")))
    assert set(enabled.spike_rules()) == {"quiet", "on", "own"}
    off = text.replace("enabled = false", "enabled = true").replace("spike = true", "spike = false")
    assert set(load(write(tmp_path / "off.toml", off)).spike_rules()) == {"quiet", "own"}
    short = text.replace("min_count = 4", 'min_count = 4\nmin_history = "3d"')
    rules = load(write(tmp_path / "short.toml", short)).spike_rules()
    assert (rules["on"].min_history, rules["own"].min_history) == (3 * 86400, 172800)  # at most


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = '[http]\nbogus = 1\n[defaults]\ninterval = "soon"\n' + FEEDS.replace("http:", "ftp:")
    path = write(tmp_path / "bad.toml", text)
    message = config_error(path)
    assert "4 problem(s)" in message
    for key in ("http.bogus", "defaults.interval", "feed[0].url", "feed[1].url"):
        assert key in message
    assert f"{path}:{line_of(text, 'ftp://example.org/two.xml')}: feed[1].url" in message


CROSS = (
    FEEDS.replace('"second"', '"first"')
    + """
[channel.desk]
urls = ["json://localhost"]

[watchlist.nato]
terms = ["NATO"]
channels = ["desk", "pager"]
"""
)


def test_cross_checks_name_file_key_and_culprit(tmp_path: Path) -> None:
    path = write(tmp_path / "cross.toml", CROSS)
    message = config_error(path)
    assert str(path) in message
    assert "feed[1].name" in message and "'first'" in message
    assert "watchlist.nato.channels" in message
    assert "unknown channel 'pager'" in message
    assert "desk" in message  # the channels that do exist


@pytest.mark.parametrize(
    ("needle", "key"),
    [('"pager"', "watchlist.nato.channels"), ('name = "first"', "feed[1].name")],
    ids=["unknown-channel", "duplicate-feed"],
)
def test_cross_check_errors_carry_a_line_number(tmp_path: Path, needle: str, key: str) -> None:
    path = write(tmp_path / "cross.toml", CROSS)
    lines = CROSS.splitlines()
    line = max(n for n, text in enumerate(lines, 1) if needle in text)  # the later, culprit one
    assert f"{path}:{line}: {key}" in config_error(path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.toml", '[http]\ntimeout = "20s\n')
    message = config_error(path)
    assert str(path) in message
    assert "not valid TOML" in message


def test_missing_file_hints_at_config_option(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert "--config" in info.value.hint


def test_empty_folder(tmp_path: Path) -> None:
    assert "no *.toml files" in config_error(tmp_path)


# ------------------------------------------------------------------ folders


def test_folder_files_are_merged(tmp_path: Path) -> None:
    write(tmp_path / "10-feeds.toml", FEEDS + '[http]\ntimeout = "5s"\n')
    write(
        tmp_path / "20-watchlists.toml",
        "[http]\nconcurrency = 2\n[channel.desk]\n"
        'urls = ["json://localhost"]\n[watchlist.nato]\nterms = ["NATO"]\nchannels = ["desk"]\n',
    )
    write(tmp_path / "notes.txt", "not a toml file = [")
    settings = load(tmp_path)
    assert [f.name for f in settings.feed] == ["first", "second"]
    assert list(settings.watchlist) == ["nato"]
    assert settings.watchlist["nato"].channels == ["desk"]
    assert (settings.http.timeout, settings.http.concurrency) == (5.0, 2)


@pytest.mark.parametrize(
    ("second", "words"),
    [
        ('[channel.desk]\nurls = ["json://elsewhere"]\n', ["[channel] desk", "two files"]),
        ('[http]\ntimeout = "9s"\n', ["[http] timeout", "two files"]),
    ],
    ids=["channel", "http-key"],
)
def test_same_setting_in_two_files_is_an_error(
    tmp_path: Path, second: str, words: list[str]
) -> None:
    write(tmp_path / "a.toml", '[http]\ntimeout = "5s"\n[channel.desk]\nurls = ["json://x"]\n')
    path = write(tmp_path / "b.toml", second)
    message = config_error(tmp_path)
    assert str(path) in message
    for word in words:
        assert word in message


def test_folder_error_points_into_the_right_file(tmp_path: Path) -> None:
    write(tmp_path / "10-feeds.toml", FEEDS)
    text = '# more\n[[feed]]\nname = "third"\nurl = "ftp://example.org/3.xml"\n'
    path = write(tmp_path / "30-more-feeds.toml", text)
    assert f"{path}:4: feed[2].url" in config_error(tmp_path)


def test_folder_error_skips_files_without_feeds(tmp_path: Path) -> None:
    write(tmp_path / "10-feeds.toml", FEEDS)
    write(tmp_path / "20-channels.toml", '[channel.desk]\nurls = ["json://x"]\n')
    text = '# more\n[[feed]]\nname = "third"\nurl = "ftp://example.org/3.xml"\n'
    path = write(tmp_path / "30-more-feeds.toml", text)
    assert f"{path}:4: feed[2].url" in config_error(tmp_path)


# ------------------------------------------------------------------ durations and env


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("90", 90.0),
        (" 2m ", 120.0),
        ("1.5h", 5400.0),
        (45, 45.0),
        (0.5, 0.5),
    ],
    ids=["s", "m", "h", "d", "bare-string", "spaces", "fraction", "int", "float"],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds
    assert isinstance(parse_duration(value), float)


@pytest.mark.parametrize(
    "value",
    ["soon", "-5m", "5 minutes", "", "1w", 0, -3, True, False, None, [10]],
    ids=[
        "word",
        "negative",
        "long-unit",
        "empty",
        "weeks",
        "zero",
        "negative-int",
        "true",
        "false",
        "none",
        "list",
    ],
)
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_durations_in_config_become_seconds(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[delivery]\nretry_base = "2m"\nretry_max = "1h"\n'
        "[defaults]\ninterval = 90\n" + FEEDS + 'interval = "30m"\n',
    )
    settings = load(path)
    assert (settings.delivery.retry_base, settings.delivery.retry_max) == (120.0, 3600.0)
    assert settings.feed_interval(settings.feed[0]) == 90.0
    assert settings.feed_interval(settings.feed[1]) == 1800.0


@pytest.mark.parametrize(
    "table",
    ['[database]\nurl = "sqlite:///from-file.db"\n', ""],
    ids=["overrides-file", "no-table"],
)
def test_database_url_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    path = write(tmp_path / "c.toml", table + FEEDS)
    monkeypatch.setenv("NEWSMON_DATABASE_URL", "postgresql://newsmon@db.internal/newsmon")
    assert load(path).database.url == "postgresql://newsmon@db.internal/newsmon"
    monkeypatch.delenv("NEWSMON_DATABASE_URL")
    expected = "sqlite:///from-file.db" if table else DatabaseSettings().url
    assert load(path).database.url == expected
