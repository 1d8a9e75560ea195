"""apprise behind one module: send one message to each target of a channel and report
each target's own result. Secrets in target URLs never leave this module unmasked."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import apprise

from monitor.log import hide
from monitor.render import Message

__all__ = ["TargetResult", "fingerprint", "mask", "redact", "secrets_of", "send", "send_each"]

# newsmon's severities, as apprise notification types
_TYPES = {
    "info": apprise.NotifyType.INFO,
    "warning": apprise.NotifyType.WARNING,
    "critical": apprise.NotifyType.FAILURE,
}
_SPLIT = re.compile(r"[/:@?&=#,;%]+")
_SHOWN_OPTIONS = {"to", "cc", "bcc", "from", "mode"}


@dataclass(frozen=True)
class TargetResult:
    key: str  # fingerprint(url): stable, reveals nothing
    target: str  # the URL with secrets masked
    is_ok: bool
    error: str | None = None


def fingerprint(url: str) -> str:
    """A short stable name for a target, for remembering which targets accepted."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _server(url: str) -> Any:
    """A fresh apprise plugin object: a kept one may hold a connection the server closed."""
    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


@lru_cache(maxsize=256)
def _private(url: str) -> str:
    """apprise's privacy-mode URL, query and all."""
    server = _server(url)
    if server is None:
        return url.split("://", 1)[0] + "://****"
    return str(server.url(privacy=True))


def mask(url: str) -> str:
    """The URL as apprise prints it in privacy mode, without apprise's own query options
    (recipients stay), or just its scheme when apprise does not know it."""
    shown = urlsplit(_private(url))
    kept = [(k, v) for k, v in parse_qsl(shown.query) if k in _SHOWN_OPTIONS]
    return urlunsplit(shown._replace(query=urlencode(kept, safe="@,*")))


@lru_cache(maxsize=256)
def secrets_of(url: str) -> tuple[str, ...]:
    """The parts of ``url`` that apprise hides in privacy mode, longest first."""
    public = set(_SPLIT.split(unquote(_private(url))))
    found = {p for p in _SPLIT.split(unquote(url)) if len(p) >= 3} - public
    found |= {quote(p, safe="") for p in found}  # as they may appear in a request line
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, urls: Iterable[str]) -> str:
    """Replace every secret-looking part of ``urls`` that occurs in ``text``."""
    for url in urls:
        for part in secrets_of(url):
            text = text.replace(part, "****")
    return text


def send(urls: list[str], message: Message, severity: str = "info") -> list[TargetResult]:
    """Send to every target in turn; each result stands alone."""
    return list(send_each(urls, message, severity))


def send_each(
    urls: Iterable[str], message: Message, severity: str = "info"
) -> Iterator[TargetResult]:
    """Like ``send``, one result at a time, so the caller can record each before the next."""
    for url in urls:
        yield _send_one(url, message, severity)


def _send_one(url: str, message: Message, severity: str) -> TargetResult:
    hide(*secrets_of(url))
    shown, key = mask(url), fingerprint(url)
    server = _server(url)
    if server is None:
        error = "apprise does not understand this URL; check its scheme"
        return TargetResult(key, shown, False, error)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            is_ok = bool(
                server.notify(
                    body=message.body,
                    title=message.title,
                    notify_type=_TYPES.get(severity, apprise.NotifyType.INFO),
                    body_format=message.format,
                )
            )
        except Exception as exc:  # a plugin bug must not take the daemon down
            is_ok, extra = False, f"{type(exc).__name__}: {exc}"
        else:
            extra = ""
        log = captured.getvalue() if hasattr(captured, "getvalue") else ""
    if is_ok:
        return TargetResult(key, shown, True)
    lines = [ln.split(" - ", 2)[-1] for ln in str(log).splitlines()] + [extra]
    detail = " ".join(" ".join(lines).split())[-500:] or "the service refused the message"
    return TargetResult(key, shown, False, redact(detail, [url]))
