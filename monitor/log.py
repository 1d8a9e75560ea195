"""Logging: one ``key=value`` line per event on stderr, which journald stores as it is.

A call reads ``log.info("polled feed=%s status=%s", name, status)``: the words before
the first ``key=`` become ``msg``, each ``key=value`` stays a field, and a value with
spaces, quotes or line breaks is quoted, so every line parses as logfmt::

    level=warning logger=newsmon.pipeline msg="poll failed" feed=bbc error="fetch: ..."

Stable keys: ``feed`` (feed name), ``url``, ``alert`` (id), ``channel`` (name),
``error``, ``status``. Secrets registered with ``hide()`` (feed URLs' tokens) never
reach the output; those given to ``hidden()`` are masked in what one thread logs while
the block runs (a channel URL's, while a message goes to it), and nowhere else.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["hidden", "hide", "setup_logging"]

# Secret parts of feed URLs: never logged by anyone.
_HIDDEN: set[str] = set()
# Secret parts of the channel URL this thread is sending to (see hidden()).
_SCOPED = threading.local()
_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
_FIRST_KEY = re.compile(r"(?:^|(?<=\s))[A-Za-z_]\w*=")
_TOKEN = re.compile(r"([A-Za-z_]\w*)=(.*)", re.DOTALL)
_PLAIN = re.compile(r'[^\s"=\\\x00-\x1f\x7f]+')


def hide(*secrets: str) -> None:
    """Never let these strings reach the log."""
    _HIDDEN.update(s for s in secrets if len(s) >= 3)


@contextmanager
def hidden(*secrets: str) -> Iterator[None]:
    """Mask these strings in every line this thread logs until the block ends: apprise,
    requests and urllib3 may put a request's path or query into a message."""
    outer: tuple[str, ...] = getattr(_SCOPED, "secrets", ())
    _SCOPED.secrets = outer + tuple(s for s in secrets if len(s) >= 3)
    try:
        yield
    finally:
        _SCOPED.secrets = outer


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "****")
    return text


def quote(value: str) -> str:
    """A logfmt value: as it is when it is one plain word, else JSON-quoted."""
    if _PLAIN.fullmatch(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _format(spec: str, value: object) -> str:
    if spec == "%%":
        return "%"
    return str(value) if spec.endswith(("r", "s", "a")) else spec % (value,)


def _fill(template: str, args: list[object]) -> str:
    """``template`` with its placeholders replaced by values taken from ``args``."""
    return _PLACEHOLDER.sub(
        lambda m: _format(m.group(), None if m.group() == "%%" else args.pop(0)), template
    )


def fields(record: logging.LogRecord) -> tuple[str, list[tuple[str, str]]]:
    """The record's message text and its ``key=value`` fields, values unquoted."""
    template = str(record.msg)
    args = record.args
    try:
        if isinstance(args, Mapping) or "%(" in template or "%*" in template:
            raise ValueError("mapping or starred formats")
        pending = list(args or ())
        if not pending:
            template = template.replace("%", "%%")
        first = _FIRST_KEY.search(template)
        cut = first.start() if first else len(template)
        text = _fill(template[:cut], pending).strip()
        pairs: list[tuple[str, str]] = []
        tail = template[cut:]
        for token in tail.split():
            match = _TOKEN.fullmatch(token)
            if match is None:
                raise ValueError(f"not a key=value token: {token!r}")
            pairs.append((match.group(1), _fill(match.group(2), pending)))
        if pending:
            raise ValueError("more arguments than placeholders")
    except (ValueError, TypeError, IndexError):
        return record.getMessage(), []
    return text, pairs


class _KeyValueFormatter(logging.Formatter):
    def __init__(self, *, with_time: bool) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        secrets = sorted({*_HIDDEN, *getattr(_SCOPED, "secrets", ())}, key=len, reverse=True)
        text, pairs = fields(record)
        parts = [f"level={record.levelname.lower()}", f"logger={record.name}"]
        parts.append(f"msg={quote(_redact(text, secrets))}")  # before quoting escapes a part
        parts += [f"{key}={quote(_redact(value, secrets))}" for key, value in pairs]
        if record.exc_info:
            trace = _redact(self.formatException(record.exc_info), secrets)
            parts.append("traceback=" + quote(trace))
        if self.with_time:
            parts.insert(0, f"time={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}")
        return _redact(" ".join(parts), secrets)


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
        "requests",
        "urllib3",  # apprise's requests: its debug lines hold request paths and queries
        "charset_normalizer",
        "courlan",
        "justext",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
