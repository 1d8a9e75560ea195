"""apprise behind one module: send one message to each target of a channel and report
each target's own result. Secrets in target URLs never leave this module unmasked."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import apprise

from monitor.render import Message

__all__ = ["TargetResult", "mask", "redact", "send"]

_TYPES = {
    "info": apprise.NotifyType.INFO,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
    "success": apprise.NotifyType.SUCCESS,
}
_SPLIT = re.compile(r"[/:@?&=#,]+")


@dataclass(frozen=True)
class TargetResult:
    target: str  # the URL with secrets masked
    is_ok: bool
    error: str | None = None


def mask(url: str) -> str:
    """The URL as apprise prints it in privacy mode, or just its scheme."""
    server = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if server is None:
        return url.split("://", 1)[0] + "://****"
    return str(server.url(privacy=True))


def redact(text: str, urls: list[str]) -> str:
    """Replace every secret-looking part of ``urls`` that occurs in ``text``."""
    for url in urls:
        public = set(_SPLIT.split(mask(url)))
        for part in sorted(set(_SPLIT.split(url)) - public, key=len, reverse=True):
            if len(part) >= 4:
                text = text.replace(part, "****")
    return text


def send(urls: list[str], message: Message, notify_type: str = "info") -> list[TargetResult]:
    """Send to every target in turn; each result stands alone."""
    results = []
    for url in urls:
        results.append(_send_one(url, message, notify_type))
    return results


def _send_one(url: str, message: Message, notify_type: str) -> TargetResult:
    shown = mask(url)
    server = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if server is None:
        return TargetResult(shown, False, "apprise does not understand this URL; check its scheme")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            is_ok = bool(
                server.notify(
                    body=message.body,
                    title=message.title,
                    notify_type=_TYPES.get(notify_type, apprise.NotifyType.INFO),
                    body_format=message.format,
                )
            )
        except Exception as exc:  # a plugin bug must not take the daemon down
            is_ok, extra = False, f"{type(exc).__name__}: {exc}"
        else:
            extra = ""
        log = captured.getvalue() if hasattr(captured, "getvalue") else ""
    if is_ok:
        return TargetResult(shown, True)
    detail = " ".join((str(log) + " " + extra).split())[-500:] or "the service refused the message"
    return TargetResult(shown, False, redact(detail, [url]))
