"""Logging: ``key=value`` lines to stderr, which journald stores as they are."""

from __future__ import annotations

import logging
import sys

__all__ = ["hide", "setup_logging"]

# Secret parts of channel URLs seen by this process: a last line of defence, so that a
# library that logs a request line (urllib3 at debug level) cannot leak a token.
_HIDDEN: set[str] = set()


def hide(*secrets: str) -> None:
    """Never let these strings reach the log."""
    _HIDDEN.update(s for s in secrets if len(s) >= 3)


def _redact(text: str) -> str:
    for secret in sorted(_HIDDEN, key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


class _KeyValueFormatter(logging.Formatter):
    def __init__(self, *, with_time: bool) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\n", " | ")
        head = f"level={record.levelname.lower()} logger={record.name} msg={message}"
        if self.with_time:
            head = f"time={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {head}"
        if record.exc_info:
            head += " traceback=" + self.formatException(record.exc_info).replace("\n", " | ")
        return _redact(head) if _HIDDEN else head


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_KeyValueFormatter(with_time=sys.stderr.isatty()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "httpx",
        "httpcore",
        "apscheduler",
        "trafilatura",
        "htmldate",
        "apprise",
        "charset_normalizer",
        "courlan",
        "justext",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
