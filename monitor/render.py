"""Alert -> message, per channel format. Text from feeds and pages is untrusted: it is
escaped for the format, and chat mentions (@everyone, @here, @channel) are defused."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from monitor.store.alerts import AlertView

__all__ = ["Message", "render"]

_MENTION = re.compile(r"@(?=(everyone|here|channel|all|room)\b)", re.IGNORECASE)
_SLACK_SPECIAL = re.compile(r"<(?=[!@#])")  # <!channel>, <@U123>, <@&role>, <#C123>
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")  # and bidi
_LINKABLE = re.compile(r"(?i)^https?://")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    format: str  # text, markdown or html


def _defuse(text: str) -> str:
    """Break chat mentions and Slack's special sequences with a zero-width space, and drop
    control and bidirectional-override characters."""
    text = _INVISIBLE.sub("", text)
    return _SLACK_SPECIAL.sub("<\u200b", _MENTION.sub("@\u200b", text))


def _one_line(text: str) -> str:
    """A title is one line: no header or subject injection through CR/LF."""
    return " ".join(text.split())


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
    # apprise blends the title into the body for services without a title field, reading it
    # in the body's format: it is escaped like the body.
    headline = _one_line(alert.title) or "(no title)"
    title = _one_line(f"[newsmon] {watchlists}: {_escape(headline, fmt)}")[:250]
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
    is_linkable = bool(_LINKABLE.match(url)) and not any(c.isspace() for c in url)
    if fmt == "html":
        link = f'<a href="{html.escape(url, quote=True)}">{e(url)}</a>' if is_linkable else e(url)
        body = (
            f"<p><b>{e(headline)}</b></p>\n<p>{e(source)} · {when}<br>{link}</p>\n"
            f"<p>Matched: {e(hits)}</p>\n<blockquote>{snippet}</blockquote>"
        )
    elif fmt == "markdown":
        link = f"<{url}>" if is_linkable and not re.search(r"[<>\\]", url) else e(url)
        body = (
            f"**{e(headline)}**\n{e(source)} · {when}\n{link}\n\n"
            f"Matched: {e(hits)}\n\n> {snippet}"
        )
    else:
        body = f"{headline}\n{source} · {when}\n{url}\n\nMatched: {hits}\n\n{snippet}"
        body = _defuse(body)
    return Message(title=title, body=body, format=fmt)
