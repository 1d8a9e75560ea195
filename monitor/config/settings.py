"""Load and validate the TOML config into frozen settings. Nothing here is global.

``load(path)`` takes a file, or a folder whose ``*.toml`` files are merged in name order.
Every problem is reported at once, each with its file, line and key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cached_property, partial
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitor.config import channels as channel_checks
from monitor.config.files import (
    DATABASE_URL_ENV,
    config_files,
    default_config_path,
    merge_into,
    read_toml,
)
from monitor.config.spikes import SpikeOverride, SpikeRule, SpikesSettings, rule_for
from monitor.config.tomlpos import Origin, locate
from monitor.config.urlcheck import url_problem
from monitor.config.values import (
    TEMPLATE_FIELDS,
    check_template,
    parse_duration,
    parse_listen,
    parse_optional_duration,
    parse_quiet_hours,
    parse_rate,
)
from monitor.errors import ConfigError
from monitor.schedule import Bounds
from monitor.scheduler import check_crontab, zone
from monitor.tme import channel_of

__all__ = [
    "TEMPLATE_FIELDS",
    "ChannelSettings",
    "ExportSettings",
    "DaemonSettings",
    "FeedSettings",
    "HealthSettings",
    "MetricsSettings",
    "QuerySettings",
    "RetentionSettings",
    "ScaleSettings",
    "Settings",
    "SpikeOverride",
    "SpikeRule",
    "SpikesSettings",
    "StoriesSettings",
    "TermSettings",
    "WatchlistSettings",
    "check_secrets",
    "default_config_path",
    "load",
    "parse_duration",
    "parse_quiet_hours",
    "parse_rate",
]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


OptionalDuration = Annotated[float | None, BeforeValidator(parse_optional_duration)]
_HOUR, _DAY = 3600.0, 86400.0


def _upto(high: float) -> BeforeValidator:
    """A duration of at most ``high`` seconds: a longer one is refused by `config check`
    (3000000d would overflow the clock at the first poll)."""
    return BeforeValidator(partial(parse_duration, high=high))


UpToHour = Annotated[float, _upto(_HOUR)]
UpToDay = Annotated[float, _upto(_DAY)]
UpToMonth = Annotated[float, _upto(30 * _DAY)]
UpToYear = Annotated[float, _upto(365 * _DAY)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    problem = url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class DatabaseSettings(_Table):
    url: str = "sqlite:///newsmon.db"


class HttpSettings(_Table):
    user_agent: str = "newsmon/0.1 (news monitor; +https://github.com/newsmon/newsmon)"
    timeout: UpToHour = 20.0
    connect_timeout: UpToHour = 10.0
    max_bytes: int = Field(default=5_000_000, ge=10_000, le=1_000_000_000)
    max_redirects: int = Field(default=5, ge=0, le=20)
    concurrency: int = Field(default=4, ge=1, le=64)
    per_host: int = Field(default=2, ge=1, le=1000)
    deadline: UpToHour = 60.0
    allow_networks: list[IPvAnyNetwork] = []


class DefaultsSettings(_Table):
    interval: UpToMonth = 600.0
    min_interval: UpToMonth = 120.0
    max_interval: UpToMonth = 3600.0
    adapt: bool = True
    alert_backlog: bool = False
    fetch_articles: bool = True
    max_entries: int = Field(default=500, ge=1, le=100_000)
    # preview pages one poll of a Telegram channel may read to reach a message seen before
    telegram_pages: int = Field(default=3, ge=1, le=20)
    # how often a Telegram channel without an interval of its own is read: t.me limits rates
    telegram_interval: UpToMonth = 900.0
    # new links one poll of a sitemap or page source may take; the rest is backlog
    max_new_links: int = Field(default=30, ge=1, le=10_000)

    @model_validator(mode="after")
    def _bounds_in_order(self) -> DefaultsSettings:
        if self.min_interval > self.max_interval:
            raise ValueError("min_interval is longer than max_interval")
        return self


class DeliverySettings(_Table):
    interval: UpToDay = 15.0
    retry_base: UpToMonth = 60.0
    retry_max: UpToMonth = 6 * 3600.0
    max_attempts: int = Field(default=12, ge=1, le=1000)
    max_age: UpToYear = 3 * 86400.0
    lease: UpToDay = 300.0


class DaemonSettings(_Table):
    stuck_after: UpToDay = 300.0
    stop_timeout: UpToDay = 80.0  # then exit hard: below systemd's TimeoutStopSec=90s


def _cores() -> int:
    return os.cpu_count() or 1


class ScaleSettings(_Table):
    workers: int = Field(default_factory=_cores, ge=0, le=256)
    worker_timeout: UpToDay = 60.0
    match_timeout: UpToDay = 2.0  # matching one article against every watchlist
    lease: UpToDay = Field(default=60.0, ge=1.0)


class StoriesSettings(_Table):
    group: bool = True
    window: UpToYear = 3 * 86400.0
    corrections: bool = False
    events: bool = True  # group different outlets' reports of one event (stories/events.py)
    event_threshold: float = Field(default=0.225, gt=0.0, le=1.0)
    event_window: UpToYear = 2 * 86400.0
    growth: list[int] = [5, 20]  # distinct sources at which a story's growth is announced

    def kept_for(self) -> float:
        """Seconds an article's text (and what was weighed from it) must be kept: new
        articles are compared with those of the window and the event window."""
        return max(self.window, self.event_window if self.events else 0.0)

    @field_validator("growth")
    @classmethod
    def _growth_rises(cls, growth: list[int]) -> list[int]:
        if any(n < 2 for n in growth):
            raise ValueError("growth thresholds count sources: each must be 2 or more")
        if growth != sorted(set(growth)):
            raise ValueError("growth thresholds must rise, each once (e.g. [5, 20])")
        return growth


class HealthSettings(_Table):
    """When a feed is unwell enough to tell the ops channels (see monitor/watch/health.py)."""

    channels: list[str] = []
    failures: int = Field(default=5, ge=1, le=1000)
    failing_for: UpToYear = 12 * 3600.0
    silence_factor: float = Field(default=10.0, ge=0, le=1000)
    silence_floor: UpToYear = 86400.0


class MetricsSettings(_Table):
    listen: str = ""  # "host:port" serves Prometheus metrics; empty: off

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        if value:
            parse_listen(value)
        return value


class RetentionSettings(_Table):
    article_text: OptionalDuration = None  # None: kept for ever
    delivery_details: OptionalDuration = None


_TAG_AUTHORITY = r"([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|[^@\s,:]+@[A-Za-z0-9.-]+),\d{4}(-\d\d){0,2}"


class ExportSettings(_Table):
    """The Atom feed of alerts: ``newsmon alerts export`` and the HTTP feed."""

    listen: str | None = None  # "127.0.0.1:8089": the daemon serves the feed there
    entries: int = Field(default=50, ge=1, le=1000)
    title: str = Field(default="newsmon alerts", min_length=1, max_length=200)
    tag_authority: str = "newsmon.localhost,2026"  # entry ids: tag:AUTHORITY:alert/ID

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value

    @field_validator("tag_authority")
    @classmethod
    def _check_tag_authority(cls, value: str) -> str:
        if not re.fullmatch(_TAG_AUTHORITY, value):
            raise ValueError(
                f"expected a domain or e-mail address you own and a date, "
                f"such as 'news.example.org,2026', not {value!r}"
            )
        return value


class FeedSettings(_Table):
    name: str = Field(pattern=_NAME)
    url: Annotated[str, BeforeValidator(str)]
    interval: UpToMonth | None = None
    alert_backlog: bool | None = None
    fetch_articles: bool | None = None
    adapt: bool | None = None
    enabled: bool = True
    # a Telegram channel: also read the article the message's first link leads to
    follow_links: bool = False
    # feed, sitemap, page or telegram (monitor.sources.read); unset: detected from each response
    kind: Literal["feed", "sitemap", "page", "telegram"] | None = None

    _check_url = field_validator("url")(_http_url)


class ChannelSettings(_Table):
    urls: list[str] = []
    urls_file: Path | None = None
    urls_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    urls_credential: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.@-]+$")
    format: Literal["text", "markdown", "html"] | None = None
    title_template: str | None = None
    template: str | None = None
    mode: Literal["instant", "digest"] = "instant"
    schedule: str | None = None
    timezone: str = "UTC"
    quiet_hours: str | None = None
    rate_limit: str | None = None
    # how long to wait for a target to connect and to answer: a receiver slower than
    # this gets the message again on the retry
    timeout: UpToHour = Field(default=30.0, ge=1.0, le=600.0)

    @model_validator(mode="after")
    def _check(self) -> ChannelSettings:
        sources = (self.urls_file, self.urls_env, self.urls_credential)
        if not self.urls and all(s is None for s in sources):
            raise ValueError("a channel needs `urls`, `urls_file`, `urls_env` or `urls_credential`")
        zone(self.timezone)
        if self.mode == "digest" and self.schedule is None:
            raise ValueError("a digest channel needs a `schedule`, e.g. '0 8 * * 1-5'")
        if self.schedule is not None:
            check_crontab(self.schedule, self.timezone)
        if self.quiet_hours is not None:
            parse_quiet_hours(self.quiet_hours)
        if self.rate_limit is not None:
            parse_rate(self.rate_limit)
        for template in (self.template, self.title_template):
            if template is not None:
                check_template(template)
        return self

    def targets(self) -> list[str]:
        """The apprise URLs: ``urls``, then those from ``urls_file``, the variable
        ``urls_env`` and the systemd credential ``urls_credential`` (see monitor.config.secrets)."""
        return [url for _key, _where, read in channel_checks.sources(self) for url in read()]


CaseMode = Literal["ignore", "proper", "exact"]


class _MatchOptions(_Table):
    inflect: bool | None = None
    translit: bool | None = None
    case: CaseMode | None = None


class TermSettings(_MatchOptions):
    """One `terms` entry with options: ``{ term = "Рябков", inflect = true }``."""

    term: str


class QuerySettings(_MatchOptions):
    """One `queries` entry with options: ``{ query = "Рябков NEAR/10 OSCE", translit = true }``."""

    query: str


class WatchlistSettings(_Table):
    terms: list[str | TermSettings] = []
    queries: list[str | QuerySettings] = []
    channels: list[str] = []
    severity: Literal["info", "warning", "critical"] = "info"
    urgent: bool = False
    fields: list[Literal["title", "text"]] = ["title", "text"]
    inflect: bool = False
    translit: bool = False
    case: CaseMode = "ignore"
    spike: bool | SpikeOverride | None = None  # see [spikes]
    story: Literal["events", "copies"] = "events"  # "copies": every outlet's report alerts

    @field_validator("terms")
    @classmethod
    def _no_blank_terms(cls, terms: list[str | TermSettings]) -> list[str | TermSettings]:
        for term in terms:
            text = term if isinstance(term, str) else term.term
            if not text.strip():
                raise ValueError("a term must not be blank")
            if not re.search(r"\w", text):
                raise ValueError(f"the term {text!r} has no letter or digit")
        return terms

    @field_validator("queries")
    @classmethod
    def _queries_parse(cls, queries: list[str | QuerySettings]) -> list[str | QuerySettings]:
        if not queries:
            return queries
        # the query language (lark) imported only for a watchlist that has queries
        from monitor.query.syntax import QueryError, parse_query

        for i, entry in enumerate(queries):
            text = entry if isinstance(entry, str) else entry.query
            try:
                parse_query(text)
            except QueryError as exc:
                raise ValueError(f"query {i + 1} {exc}") from None
        return queries

    @model_validator(mode="after")
    def _has_something_to_match(self) -> WatchlistSettings:
        if not self.terms and not self.queries:
            raise ValueError("a watchlist needs `terms` or `queries`")
        return self


class Settings(_Table):
    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    defaults: DefaultsSettings = DefaultsSettings()
    delivery: DeliverySettings = DeliverySettings()
    daemon: DaemonSettings = DaemonSettings()
    stories: StoriesSettings = StoriesSettings()
    health: HealthSettings = HealthSettings()
    metrics: MetricsSettings = MetricsSettings()
    retention: RetentionSettings = RetentionSettings()
    export: ExportSettings = ExportSettings()
    spikes: SpikesSettings = SpikesSettings()
    scale: ScaleSettings = ScaleSettings()
    feed: list[FeedSettings] = []
    channel: dict[Annotated[str, Field(pattern=_NAME)], ChannelSettings] = {}
    watchlist: dict[Annotated[str, Field(pattern=_NAME)], WatchlistSettings] = {}
    # the path given to load() and the files read, to name file and line in later checks
    _origins: tuple[Path, list[Origin]] = PrivateAttr(default=(Path(), []))

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        problems: list[tuple[tuple[object, ...], str]] = []
        seen: dict[str, int] = {}
        for i, feed in enumerate(self.feed):
            if feed.name in seen:
                problems.append(
                    (("feed", i, "name"), f"{feed.name!r} is already feed[{seen[feed.name]}]")
                )
            seen[feed.name] = i
        for name, wl in self.watchlist.items():
            for ch in wl.channels:
                if ch not in self.channel:
                    known = ", ".join(sorted(self.channel)) or "none defined"
                    problems.append(
                        (("watchlist", name, "channels"), f"unknown channel {ch!r} ({known})")
                    )
            try:
                rule_for(self.spikes, wl.spike)
            except ValueError as exc:
                problems.append((("watchlist", name, "spike"), str(exc)))
        for ch in self.health.channels:
            if ch not in self.channel:
                known = ", ".join(sorted(self.channel)) or "none defined"
                problems.append((("health", "channels"), f"unknown channel {ch!r} ({known})"))
        keep_text = self.retention.article_text
        if keep_text is not None and keep_text < self.stories.kept_for():
            problems.append(
                (
                    ("retention", "article_text"),
                    "shorter than [stories] window (or event_window): new articles are "
                    "compared with the text of the articles in that window, so keep the text "
                    "at least that long",
                )
            )
        if problems:
            summary = "; ".join(f"{'.'.join(map(str, loc))}: {text}" for loc, text in problems)
            raise PydanticCustomError(
                "cross_check", "{summary}", {"summary": summary, "problems": problems}
            )
        return self

    def feed_interval(self, feed: FeedSettings) -> float:
        if feed.interval:
            return feed.interval
        if feed.kind == "telegram" or (feed.kind is None and channel_of(feed.url)):
            return self.defaults.telegram_interval
        return self.defaults.interval

    def feed_alerts_backlog(self, feed: FeedSettings) -> bool:
        return self.defaults.alert_backlog if feed.alert_backlog is None else feed.alert_backlog

    def feed_bounds(self, feed: FeedSettings | None) -> Bounds:
        """The polling bounds of a feed (see monitor.schedule)."""
        d = self.defaults
        adapt = d.adapt if feed is None or feed.adapt is None else feed.adapt
        return Bounds(d.min_interval, d.max_interval, adapt)

    def feed_fetches_articles(self, feed: FeedSettings) -> bool:
        if feed.fetch_articles is None:
            return self.defaults.fetch_articles
        return feed.fetch_articles

    @cached_property
    def feeds_by_name(self) -> dict[str, FeedSettings]:
        """Name -> the feed's table (each poll looks its feed up: no scan of 2,000 feeds)."""
        return {f.name: f for f in self.feed}

    def feed_by_name(self, name: str) -> FeedSettings:
        feed = self.feeds_by_name.get(name)
        if feed is not None:
            return feed
        known = ", ".join(f.name for f in self.feed) or "none"
        raise ConfigError(f"no feed named {name!r}", f"known feeds: {known}")

    def spike_rules(self) -> dict[str, SpikeRule]:
        """Watchlist name -> its spike rule, for the watchlists watched for spikes."""
        rules = {name: rule_for(self.spikes, wl.spike) for name, wl in self.watchlist.items()}
        return {name: rule for name, rule in rules.items() if rule is not None}

    def routes(self) -> dict[str, list[str]]:
        """Watchlist name -> channel names."""
        return {name: list(wl.channels) for name, wl in self.watchlist.items()}

    def copies_only(self) -> frozenset[str]:
        """The watchlists alerted once per story of copies, not once per event."""
        is_events = self.stories.events
        return frozenset(
            name for name, wl in self.watchlist.items() if not is_events or wl.story == "copies"
        )


def load(path: Path, *, with_secrets: bool = False) -> Settings:
    """Read, merge and validate; raise one ConfigError listing every problem.

    ``with_secrets``: also read every channel's secrets and refuse placeholders (see
    monitor.config.channels), as ``config check`` and the daemon do."""
    merged: dict[str, Any] = {}
    origins: list[Origin] = []
    for file in config_files(path):
        data, text = read_toml(file)
        feeds = data.get("feed")
        count = len(feeds) if isinstance(feeds, list) else 0
        origins.append(Origin(file, text, len(merged.get("feed", [])), count))
        merge_into(merged, data, file)
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        merged.setdefault("database", {})["url"] = url
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        lines = [line for err in exc.errors() for line in _describe(err, origins)]
        if with_secrets:
            lines += _secret_lines(_valid_channels(merged), origins)
        raise _problems(path, lines) from None
    settings._origins = (path, origins)
    if with_secrets:
        check_secrets(settings)
    return settings


def check_secrets(settings: Settings) -> None:
    """What the model cannot check alone: every channel's secrets can be read and hold
    no placeholder. One ConfigError lists every problem, by file, line and channel."""
    path, origins = settings._origins
    lines = _secret_lines(settings.channel, origins)
    if lines:
        raise _problems(path, lines)


def _problems(path: Path, lines: list[str]) -> ConfigError:
    return ConfigError(
        f"{len(lines)} problem(s) in {path}:\n  " + "\n  ".join(lines),
        "fix these, then run `newsmon config check`",
    )


def _valid_channels(merged: dict[str, Any]) -> dict[str, ChannelSettings]:
    """The channels whose own table is valid, when the whole config is not: their
    secrets are checked too, so that one run lists every problem."""
    found = {}
    tables = merged.get("channel")
    for name, table in (tables if isinstance(tables, dict) else {}).items():
        try:
            found[name] = ChannelSettings.model_validate(table)
        except ValidationError:
            continue  # reported by the whole config's validation
    return found


def _secret_lines(channels: Mapping[str, ChannelSettings], origins: list[Origin]) -> list[str]:
    return [_line(origins, loc, text) for loc, text in channel_checks.problems(channels)]


def _describe(err: Any, origins: list[Origin]) -> list[str]:
    """One line per problem: ``file:line: key: what is wrong``."""
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "cross_check":  # checks across tables, each with its own location
        return [_line(origins, loc, text) for loc, text in err["ctx"]["problems"]]
    if err["type"] == "extra_forbidden":
        message = "unknown key (check the spelling against config/newsmon.toml)"
    return [_line(origins, tuple(err["loc"]), message)]


def _line(origins: list[Origin], loc: tuple[object, ...], message: str) -> str:
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return f"{locate(origins, loc)}{key or '(top level)'}: {message}"
