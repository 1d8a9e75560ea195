"""Load and validate the TOML config into frozen settings. Nothing here is global.

``load(path)`` takes a file, or a folder whose ``*.toml`` files are merged in name order.
Every problem is reported at once, each with its file, line and key.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.errors import ConfigError
from monitor.query import QueryError, parse_query
from monitor.tomlpos import Origin, locate

__all__ = [
    "ChannelSettings",
    "FeedSettings",
    "QuerySettings",
    "Settings",
    "TermSettings",
    "WatchlistSettings",
    "default_config_path",
    "load",
    "parse_duration",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def parse_duration(value: object) -> float:
    """``"90s"``, ``"10m"``, ``"1h"``, ``"2d"`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '10m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (
        m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value)
    ):
        seconds = float(m.group(1)) * _UNITS[m.group(2) or "s"]
    else:
        raise ValueError(f"expected a duration such as '30s', '10m', '1h' or '1d', not {value!r}")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"expected an http:// or https:// URL, not {value!r}")
    return value


class DatabaseSettings(_Table):
    url: str = "sqlite:///newsmon.db"


class HttpSettings(_Table):
    user_agent: str = "newsmon/0.1 (news monitor; +https://github.com/newsmon/newsmon)"
    timeout: Duration = 20.0
    connect_timeout: Duration = 10.0
    max_bytes: int = Field(default=5_000_000, ge=10_000)
    max_redirects: int = Field(default=5, ge=0, le=20)
    concurrency: int = Field(default=4, ge=1, le=64)


class DefaultsSettings(_Table):
    interval: Duration = 600.0
    alert_backlog: bool = False
    fetch_articles: bool = True


class DeliverySettings(_Table):
    interval: Duration = 15.0
    retry_base: Duration = 60.0
    retry_max: Duration = 6 * 3600.0
    max_attempts: int = Field(default=12, ge=1)


class FeedSettings(_Table):
    name: str = Field(pattern=_NAME)
    url: Annotated[str, BeforeValidator(str)]
    interval: Duration | None = None
    alert_backlog: bool | None = None
    fetch_articles: bool | None = None
    enabled: bool = True

    _check_url = field_validator("url")(_http_url)


class ChannelSettings(_Table):
    urls: list[str] = []
    urls_file: Path | None = None
    format: Literal["text", "markdown", "html"] | None = None

    @model_validator(mode="after")
    def _has_target(self) -> ChannelSettings:
        if not self.urls and self.urls_file is None:
            raise ValueError("a channel needs `urls` or `urls_file`")
        return self

    def targets(self) -> list[str]:
        """The apprise URLs, reading ``urls_file`` (one per line, # comments) when set."""
        found = list(self.urls)
        if self.urls_file is not None:
            try:
                lines = self.urls_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read urls_file {self.urls_file}: {exc.strerror}",
                    "check the path and that the newsmon user may read it",
                ) from None
            found += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        return found


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
    fields: list[Literal["title", "text"]] = ["title", "text"]
    inflect: bool = False
    translit: bool = False
    case: CaseMode = "ignore"

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
    feed: list[FeedSettings] = []
    channel: dict[Annotated[str, Field(pattern=_NAME)], ChannelSettings] = {}
    watchlist: dict[Annotated[str, Field(pattern=_NAME)], WatchlistSettings] = {}

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for i, feed in enumerate(self.feed):
            if feed.name in seen:
                problems.append(f"feed[{i}].name: {feed.name!r} is already feed[{seen[feed.name]}]")
            seen[feed.name] = i
        for name, wl in self.watchlist.items():
            for ch in wl.channels:
                if ch not in self.channel:
                    known = ", ".join(sorted(self.channel)) or "none defined"
                    problems.append(f"watchlist.{name}.channels: unknown channel {ch!r} ({known})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def feed_interval(self, feed: FeedSettings) -> float:
        return feed.interval or self.defaults.interval

    def feed_alerts_backlog(self, feed: FeedSettings) -> bool:
        return self.defaults.alert_backlog if feed.alert_backlog is None else feed.alert_backlog

    def feed_fetches_articles(self, feed: FeedSettings) -> bool:
        if feed.fetch_articles is None:
            return self.defaults.fetch_articles
        return feed.fetch_articles

    def feed_by_name(self, name: str) -> FeedSettings:
        for feed in self.feed:
            if feed.name == name:
                return feed
        known = ", ".join(f.name for f in self.feed) or "none"
        raise ConfigError(f"no feed named {name!r}", f"known feeds: {known}")

    def routes(self) -> dict[str, list[str]]:
        """Watchlist name -> channel names."""
        return {name: list(wl.channels) for name, wl in self.watchlist.items()}


def default_config_path() -> Path:
    return Path(os.environ.get("NEWSMON_CONFIG", "config/newsmon.toml"))


def load(path: Path) -> Settings:
    """Read, merge and validate; raise one ConfigError listing every problem."""
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if not files:
        raise ConfigError(f"{path}: no *.toml files in this folder", "point --config at a file")
    merged: dict[str, Any] = {}
    origins: list[Origin] = []
    for file in files:
        data, text = _read(file)
        feeds = data.get("feed")
        count = len(feeds) if isinstance(feeds, list) else 0
        origins.append(Origin(file, text, len(merged.get("feed", [])), count))
        _merge(merged, data, file)
    url = os.environ.get("NEWSMON_DATABASE_URL")
    if url:
        merged.setdefault("database", {})["url"] = url
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        lines = [line for err in exc.errors() for line in _describe(err, origins)]
        raise ConfigError(
            f"{len(lines)} problem(s) in {path}:\n  " + "\n  ".join(lines),
            "fix these, then run `newsmon config check`",
        ) from None


def _read(file: Path) -> tuple[dict[str, Any], str]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such file",
            "pass --config PATH or set NEWSMON_CONFIG; config/newsmon.toml is an example",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None


def _merge(into: dict[str, Any], data: dict[str, Any], file: Path) -> None:
    for key, value in data.items():
        if key == "feed" and isinstance(value, list):
            into.setdefault("feed", []).extend(value)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            for sub, subvalue in value.items():
                if sub in into[key]:
                    raise ConfigError(f"{file}: [{key}] {sub} is defined in two files")
                into[key][sub] = subvalue
        elif key in into:
            raise ConfigError(f"{file}: {key} is defined in two files")
        else:
            into[key] = value


def _describe(err: Any, origins: list[Origin]) -> list[str]:
    """One line per problem: ``file:line: key: what is wrong``."""
    message = err["msg"].removeprefix("Value error, ")
    if not err["loc"]:  # cross-field checks: "feed[1].name: ...; watchlist.x.channels: ..."
        parts = [p.split(": ", 1) for p in message.split("; ")]
        return [_line(origins, _parse_key(k), text) for k, text in parts]
    if err["type"] == "extra_forbidden":
        message = "unknown key (check the spelling against config/newsmon.toml)"
    return [_line(origins, tuple(err["loc"]), message)]


def _line(origins: list[Origin], loc: tuple[object, ...], message: str) -> str:
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return f"{locate(origins, loc)}{key or '(top level)'}: {message}"


def _parse_key(key: str) -> tuple[object, ...]:
    """``feed[1].name`` -> ("feed", 1, "name")."""
    parts: list[object] = []
    for piece in key.split("."):
        name, _, index = piece.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    return tuple(parts)
