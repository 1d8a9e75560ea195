"""Alert -> message, per channel format. Text from feeds and pages is untrusted: it is
escaped for the format, and chat mentions (@everyone, @here, @channel) are defused."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from monitor.store.alerts import AlertView

__all__ = ["Message", "render"]

_MENTION = re.compile(r"@(?=(everyone|here|channel|all|room)\b)", re.IGNORECASE)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    format: str  # text, markdown or html


def _defuse(text: str) -> str:
    return _MENTION.sub("@\u200b", text)


def _escape(text: str, fmt: str) -> str:
    text = _defuse(text)
    if fmt == "html":
        return html.escape(text)
    if fmt == "markdown":
        return _MD_SPECIAL.sub(r"\\\1", text)
    return text


def _highlight(snippet: str, found: list[str], fmt: str) -> str:
    """Escape the snippet and mark every hit of the alert that stands in it."""
    spans: list[tuple[int, int]] = []
    for text in dict.fromkeys(found):
        words = text.split()
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
        for hit in re.finditer(pattern, snippet, re.IGNORECASE):
            if all(hit.end() <= a or hit.start() >= b for a, b in spans):
                spans.append((hit.start(), hit.end()))
    mark = {"html": ("<b>", "</b>"), "markdown": ("**", "**")}.get(fmt, ("«", "»"))
    out, at = [], 0
    for start, end in sorted(spans):
        out += [_escape(snippet[at:start], fmt), mark[0], _escape(snippet[start:end], fmt), mark[1]]
        at = end
    return "".join(out) + _escape(snippet[at:], fmt)


def render(alert: AlertView, fmt: str = "text") -> Message:
    watchlists = ", ".join(alert.watchlists)
    title = _defuse(f"[newsmon] {watchlists}: {alert.title}")[:250]
    source = alert.sitename or alert.feed or "unknown source"
    when = (alert.published_at or alert.created_at).strftime("%Y-%m-%d %H:%M UTC")
    hits = "; ".join(
        f"{m.watchlist} ← {' '.join((m.found or m.term).split())} ({m.field})"
        for m in {(m.watchlist, m.term): m for m in alert.matches}.values()
    )
    first = next((m for m in alert.matches if m.field == "text"), None) or (
        alert.matches[0] if alert.matches else None
    )
    same = [m.found for m in alert.matches if first and m.snippet == first.snippet]
    snippet = _highlight(first.snippet, same, fmt) if first else ""

    def e(text: str) -> str:
        return _escape(text, fmt)

    url = alert.url or ""
    if fmt == "html":
        link = f'<a href="{html.escape(url, quote=True)}">{e(url)}</a>' if url else ""
        body = (
            f"<p><b>{e(alert.title)}</b></p>\n<p>{e(source)} · {when}<br>{link}</p>\n"
            f"<p>Matched: {e(hits)}</p>\n<blockquote>{snippet}</blockquote>"
        )
    elif fmt == "markdown":
        link = f"<{url}>" if url and ">" not in url and " " not in url else e(url)
        body = (
            f"**{e(alert.title)}**\n{e(source)} · {when}\n{link}\n\n"
            f"Matched: {e(hits)}\n\n> {snippet}"
        )
    else:
        body = f"{alert.title}\n{source} · {when}\n{url}\n\nMatched: {hits}\n\n{snippet}"
        body = _defuse(body)
    return Message(title=title, body=body, format=fmt)
