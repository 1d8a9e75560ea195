"""t.me addresses: which URL names a public Telegram channel. Both the config (a
channel's default interval) and the Telegram reader (monitor.sources.telegram) ask."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["HOSTS", "channel_of", "is_preview_url"]

HOSTS = ("t.me", "telegram.me", "www.t.me", "www.telegram.me", "telegram.dog")
# t.me paths that are not channels
_RESERVED = {"s", "c", "joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "iv"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")  # a public channel's username


def channel_of(url: str) -> str | None:
    """The channel name in a t.me link (``t.me/NAME``, ``t.me/s/NAME``, ``t.me/NAME/12``)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if (parts.hostname or "").lower() not in HOSTS:
        return None
    path = [p for p in parts.path.split("/") if p]
    if path[:1] == ["s"]:
        path = path[1:]
    if not path or path[0].lower() in _RESERVED or not _NAME.match(path[0]):
        return None
    return path[0]


def is_preview_url(url: str) -> bool:
    """``url`` is a channel's web preview, ``t.me/s/NAME``."""
    if channel_of(url) is None:
        return False
    return [p for p in urlsplit(url.strip()).path.split("/") if p][:1] == ["s"]
