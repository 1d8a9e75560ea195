"""Logging: one ``key=value`` line per event on stderr, which journald stores as it is.

A call reads ``log.info("polled feed=%s status=%s", name, status)``: the words before
the first ``key=`` become ``msg``, each ``key=value`` stays a field, and a value with
spaces, quotes or line breaks is quoted, so every line parses as logfmt::

    level=warning logger=newsmon.pipeline msg="poll failed" feed=bbc error="fetch: ..."

Stable keys: ``feed`` (feed name), ``url``, ``alert`` (id), ``channel`` (name),
``error``, ``status``. Secrets registered with ``hide()`` never reach the output.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping

__all__ = ["hide", "setup_logging"]

# Secret parts of channel URLs seen by this process: a last line of defence, so that a
# library that logs a request line (urllib3 at debug level) cannot leak a token.
_HIDDEN: set[str] = set()
_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
_FIRST_KEY = re.compile(r"(?:^|(?<=\s))[A-Za-z_]\w*=")
_TOKEN = re.compile(r"([A-Za-z_]\w*)=(.*)", re.DOTALL)
_PLAIN = re.compile(r'[^\s"=\\\x00-\x1f\x7f]+')


def hide(*secrets: str) -> None:
    """Never let these strings reach the log."""
    _HIDDEN.update(s for s in secrets if len(s) >= 3)


def _redact(text: str) -> str:
    for secret in sorted(_HIDDEN, key=len, reverse=True):
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
        text, pairs = fields(record)
        parts = [f"level={record.levelname.lower()}", f"logger={record.name}"]
        parts.append(f"msg={quote(text)}")
        parts += [f"{key}={quote(value)}" for key, value in pairs]
        if record.exc_info:
            parts.append("traceback=" + quote(self.formatException(record.exc_info)))
        if self.with_time:
            parts.insert(0, f"time={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}")
        line = " ".join(parts)
        return _redact(line) if _HIDDEN else line


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
