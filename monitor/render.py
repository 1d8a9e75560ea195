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


def _highlight(snippet: str, found: str, fmt: str) -> str:
    """Escape the snippet and mark the first occurrence of the hit."""
    words = found.split()
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
    hit_at = re.search(pattern, snippet, re.IGNORECASE) if words else None
    if hit_at is None:
        return _escape(snippet, fmt)
    before, hit, after = snippet[: hit_at.start()], hit_at.group(0), snippet[hit_at.end() :]
    mark = {"html": ("<b>", "</b>"), "markdown": ("**", "**")}.get(fmt, ("«", "»"))
    return _escape(before, fmt) + mark[0] + _escape(hit, fmt) + mark[1] + _escape(after, fmt)


def render(alert: AlertView, fmt: str = "text") -> Message:
    watchlists = ", ".join(alert.watchlists)
    label = "correction: " if alert.kind == "correction" else ""
    title = _defuse(f"[newsmon] {watchlists}: {label}{alert.title}")[:250]
    source = alert.sitename or alert.feed or "unknown source"
    when = (alert.published_at or alert.created_at).strftime("%Y-%m-%d %H:%M UTC")
    hits = "; ".join(
        f"{m.watchlist} ← {' '.join((m.found or m.term).split())} ({m.field})"
        for m in {(m.watchlist, m.term): m for m in alert.matches}.values()
    )
    first = next((m for m in alert.matches if m.field == "text"), None) or (
        alert.matches[0] if alert.matches else None
    )
    snippet = _highlight(first.snippet, first.found, fmt) if first else ""

    def e(text: str) -> str:
        return _escape(text, fmt)

    url = alert.url or ""
    extra = _story_lines(alert)
    if fmt == "html":
        link = f'<a href="{html.escape(url, quote=True)}">{e(url)}</a>' if url else ""
        body = (
            f"<p><b>{e(alert.title)}</b></p>\n<p>{e(source)} · {when}<br>{link}</p>\n"
            f"<p>Matched: {e(hits)}</p>\n<blockquote>{snippet}</blockquote>"
        )
        body += "".join(f"\n<p>{e(line)}</p>" for line in extra)
    elif fmt == "markdown":
        link = f"<{url}>" if url and ">" not in url and " " not in url else e(url)
        body = (
            f"**{e(alert.title)}**\n{e(source)} · {when}\n{link}\n\n"
            f"Matched: {e(hits)}\n\n> {snippet}"
        )
        body += "".join(f"\n\n{e(line)}" for line in extra)
    else:
        body = f"{alert.title}\n{source} · {when}\n{url}\n\nMatched: {hits}\n\n{snippet}"
        body = _defuse(body + "".join(f"\n\n{line}" for line in extra))
    return Message(title=title, body=body, format=fmt)


def _story_lines(alert: AlertView) -> list[str]:
    """A correction's diff, and the other sources that carry the story so far."""
    lines = []
    if alert.kind == "correction" and alert.diff:
        lines.append("Changed since the first alert:\n" + alert.diff)
    if alert.also_reported_by:
        names = ", ".join(dict.fromkeys(m.source for m in alert.others))
        lines.append(f"Also reported by {alert.also_reported_by} source(s): {names}")
    return lines
