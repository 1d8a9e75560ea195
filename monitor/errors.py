"""One error tree for newsmon. Every error carries a hint for the operator.

    NewsmonError
    ├── ConfigError          config file missing, unreadable or invalid
    ├── DatabaseError        database misconfigured, unreadable, migration failed (names
    │   │                    the SQLite file or PostgreSQL server: monitor/store/dberrors.py)
    │   └── UnavailableError the database did not answer: down, locked or full (retried)
    ├── FetchError           a feed or page could not be fetched
    │   ├── TooLargeError    the body went over the size cap
    │   ├── ThrottledError   the server said wait: 429 or 503, perhaps with Retry-After
    │   └── BlockedError     the URL resolves to an address newsmon does not fetch from
    ├── ParseError           the bytes are not a usable feed
    ├── ExtractError         no main text could be found on a page
    ├── NotifyError          a channel could not be built or refused a message
    ├── FeedsError           a feed cannot be added, removed, imported or exported
    │   └── OpmlError        an OPML file is not usable (with its line and column)
    ├── ExportError          an export file could not be written, or the feed not served
    ├── SearchError          a search query or filter that cannot work
    ├── StatsError           a stats request that cannot work: time zone, range, buckets
    ├── PlotError            a chart cannot be drawn: matplotlib missing, file not written
    ├── MatchTimeoutError    matching one article took longer than [scale] match_timeout
    ├── WorkerError          a worker process died or overran its time on one feed or page
    └── InstallError         `newsmon init` cannot write the config, state folder or unit

Messages start with the stage (``fetch: ...``) so a log line says where it failed.
Every error newsmon raises to the operator is defined here; tests/test_errors.py draws
this tree from the classes and fails when this drawing and the code disagree. The query
language's ``QueryError`` and ``RegexError`` (monitor/query/) are positioned
``ValueError``s, not in this tree: where a query comes in they become a ``ConfigError``
or a ``SearchError``.
"""

from __future__ import annotations

__all__ = [
    "BlockedError",
    "ConfigError",
    "DatabaseError",
    "ExportError",
    "ExtractError",
    "FeedsError",
    "FetchError",
    "InstallError",
    "MatchTimeoutError",
    "NewsmonError",
    "NotifyError",
    "OpmlError",
    "ParseError",
    "PlotError",
    "SearchError",
    "StatsError",
    "ThrottledError",
    "TooLargeError",
    "UnavailableError",
    "WorkerError",
]


class NewsmonError(Exception):
    """Base class. ``hint`` tells the operator what to do next."""

    stage = "newsmon"
    default_hint = "see the log for details"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return f"{self.stage}: {self.message}"

    def __reduce__(self) -> tuple[type[NewsmonError], tuple[str, str]]:
        # raised in a worker process and re-raised here: keep the hint
        return (type(self), (self.message, self.hint))


class ConfigError(NewsmonError):
    stage = "config"
    default_hint = "fix the config, then run `newsmon config check`"


class DatabaseError(NewsmonError):
    stage = "database"
    default_hint = "check [database] url; `newsmon status` says whether the database answers"


class UnavailableError(DatabaseError):
    default_hint = "newsmon retries; `newsmon status` says whether the database answers"


class FetchError(NewsmonError):
    stage = "fetch"
    default_hint = "newsmon retries on the next check; if it persists, check the URL in a browser"


class TooLargeError(FetchError):
    default_hint = "raise [http] max_bytes if this source is legitimately large"


class ThrottledError(FetchError):
    """``retry_after`` is the server's Retry-After header as sent, when it sent one."""

    default_hint = "newsmon waits as the server asked (within [defaults] max_interval)"

    def __init__(
        self, message: str, hint: str | None = None, retry_after: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after


class BlockedError(FetchError):
    default_hint = (
        "a feed or a redirect points into a private network; if this source is trusted, "
        "add its network to [http] allow_networks"
    )


class ParseError(NewsmonError):
    stage = "parse"
    default_hint = "the server did not return a usable RSS or Atom feed; check the feed URL"


class ExtractError(NewsmonError):
    stage = "extract"
    default_hint = "the feed's summary is used instead; nothing to do unless this repeats"


class NotifyError(NewsmonError):
    stage = "notify"
    default_hint = "check the channel URL with `newsmon notify test CHANNEL`"


class FeedsError(NewsmonError):
    stage = "feeds"
    default_hint = "`newsmon feeds list` shows the feeds and where each one comes from"


class OpmlError(FeedsError):
    stage = "opml"
    default_hint = "check the file: an OPML file is XML with <outline xmlUrl=...> elements"


class ExportError(NewsmonError):
    stage = "export"
    default_hint = "check the path or the [export] listen address, then try again"


class SearchError(NewsmonError):
    stage = "search"
    default_hint = "queries use the watchlist query language: see docs/watchlists.md"


class StatsError(NewsmonError):
    stage = "stats"
    default_hint = "see `newsmon stats --help`"


class PlotError(NewsmonError):
    stage = "plot"
    default_hint = "pip install 'newsmon[plot]'"


class MatchTimeoutError(NewsmonError):
    stage = "match"
    default_hint = (
        "the entry is kept without alerts; look for a slow /regex/ or a very long query in "
        "the watchlists, or raise [scale] match_timeout"
    )


class WorkerError(NewsmonError):
    stage = "worker"
    default_hint = (
        "newsmon goes on with a fresh worker and retries on the next check; if it repeats "
        "for the same source, report the feed or page that causes it"
    )


class InstallError(NewsmonError):
    stage = "init"
    default_hint = "see `newsmon init --help` for where each file goes"
