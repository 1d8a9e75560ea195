"""Alert -> message, per channel format. Text from feeds and pages is untrusted: it is
escaped for the format, and chat mentions (@everyone, @here, @channel) are defused.

A channel may bring its own ``title_template`` and ``template`` (``string.Template``
syntax); the fields are the ones in ``monitor.config.settings.TEMPLATE_FIELDS``, already escaped
for the channel's format. The defaults below suit both mail and chat.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from string import Template

from monitor import display
from monitor.config.values import exact_duration
from monitor.store.alerts import AlertView
from monitor.store.outbox import DeliveryRow
from monitor.store.spikes import SpikeView

__all__ = [
    "DEFAULT_TEMPLATES",
    "Message",
    "also_reported",
    "delivery_title",
    "escape",
    "fields",
    "render",
    "render_spike",
    "spike_title",
]

_MENTION = re.compile(r"@(?=(everyone|here|channel|all|room)\b)", re.IGNORECASE)
_SLACK_SPECIAL = re.compile(r"<(?=[!@#])")  # <!channel>, <@U123>, <@&role>, <#C123>
_LINKABLE = re.compile(r"(?i)^https?://")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")

DEFAULT_TITLE = "[newsmon$tag] $watchlists: $title"
DEFAULT_TEMPLATES = {
    "text": "$title\n$source · $time\n$link\n\nMatched: $matched\n\n$snippet\n\n"
    "newsmon alerts show $alert",
    "markdown": "**$title**\n$source · $time\n$link\n\nMatched: $matched\n\n> $snippet\n\n"
    "newsmon alerts show $alert",
    "html": "<p><b>$title</b></p>\n<p>$source · $time<br>$link</p>\n<p>Matched: $matched</p>\n"
    "<blockquote>$snippet</blockquote>\n<p><small>newsmon alerts show $alert</small></p>",
}
_TAGS = {"info": "", "warning": " warning", "critical": " CRITICAL"}


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    format: str  # text, markdown or html


def _defuse(text: str) -> str:
    """Break chat mentions and Slack's special sequences with a zero-width space, and drop
    control and bidirectional-override characters."""
    text = display.clean(text)
    return _SLACK_SPECIAL.sub("<\u200b", _MENTION.sub("@\u200b", text))


def _one_line(text: str) -> str:
    """A title is one line: no header or subject injection through CR/LF."""
    return " ".join(text.split())


def escape(text: str, fmt: str) -> str:
    """Untrusted text made inert for ``fmt``; mentions defused in every format."""
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
        out += [escape(snippet[at:start], fmt), mark[0], escape(snippet[start:end], fmt), mark[1]]
        at = end
    return "".join(out) + escape(snippet[at:], fmt)


def link(url: str, fmt: str) -> str:
    """A link to ``url`` in ``fmt``; only http(s) URLs without spaces become links."""
    if not url:
        return ""
    is_linkable = bool(_LINKABLE.match(url)) and not any(c.isspace() for c in url)
    if fmt == "html":
        if not is_linkable:
            return escape(url, fmt)
        return f'<a href="{html.escape(url, quote=True)}">{escape(url, fmt)}</a>'
    if fmt == "markdown":
        is_safe = is_linkable and not re.search(r"[<>\\]", url)
        return f"<{url}>" if is_safe else escape(url, fmt)
    return _defuse(url)


def fields(alert: AlertView, fmt: str, severity: str = "info") -> dict[str, str]:
    """The template fields for one alert, each escaped for ``fmt``."""
    hits = "; ".join(
        f"{m.watchlist} ← {' '.join((m.found or m.term).split())} ({m.field})"
        for m in {(m.watchlist, m.term): m for m in alert.matches}.values()
    )
    first = next((m for m in alert.matches if m.field == "text"), None) or (
        alert.matches[0] if alert.matches else None
    )
    same = [m.found for m in alert.matches if first and m.snippet == first.snippet]
    if alert.kind == "growth" and not hits:  # the story grew: nothing new was matched
        hits = (alert.diff or "").split("\n", 1)[0]
    when = (alert.published_at or alert.created_at).strftime("%Y-%m-%d %H:%M UTC")
    label = {"correction": "correction: ", "growth": "growing story: "}.get(alert.kind, "")
    return {
        "title": escape(label + (_one_line(alert.title) or "(no title)"), fmt),
        "source": escape(alert.sitename or alert.feed or "unknown source", fmt),
        "time": when,
        "link": link(alert.url or "", fmt),
        "url": escape(alert.url or "", fmt),
        "matched": escape(hits, fmt),
        "snippet": _highlight(first.snippet, same, fmt) if first else "",
        "watchlists": escape(", ".join(alert.watchlists), fmt),
        "terms": escape(", ".join(alert.terms), fmt),
        "severity": severity,
        "alert": str(alert.id),
        "tag": _TAGS.get(severity, ""),
    }


def render(
    alert: AlertView,
    fmt: str = "text",
    *,
    severity: str = "info",
    template: str | None = None,
    title_template: str | None = None,
) -> Message:
    values = fields(alert, fmt, severity)
    # apprise blends the title into the body for services without a title field, reading
    # it in the body's format: its values are escaped like the body's, and it is one line.
    title = Template(title_template or DEFAULT_TITLE).safe_substitute(values)
    body = Template(template or DEFAULT_TEMPLATES[fmt]).safe_substitute(values)
    extra = _story_lines(alert)
    if fmt == "html":
        body += "".join(f"\n<p>{escape(line, fmt)}</p>" for line in extra)
    else:
        body += "".join(f"\n\n{escape(line, fmt)}" for line in extra)
    return Message(title=_defuse(_one_line(title))[:250], body=body, format=fmt)


def _story_lines(alert: AlertView) -> list[str]:
    """A correction's diff or a growing story's new sources, and the other sources that
    carry the story so far."""
    lines = []
    if alert.kind == "correction" and alert.diff:
        lines.append("Changed since the first alert:\n" + alert.diff)
    if alert.kind == "growth" and alert.diff:
        return [alert.diff]  # "Now reported by N sources in M languages", the new ones
    if alert.also_reported_by:
        names = ", ".join(dict.fromkeys(m.source for m in alert.others))
        lines.append(f"{also_reported(alert).capitalize()}: {names}")
    return lines


def also_reported(alert: AlertView) -> str:
    """How many other sources carry the alert's story, in how many languages: "also
    reported by 3 sources in 2 languages" (the languages left out when none is known),
    or "no other source so far"."""
    sources = alert.also_reported_by
    if not sources:
        return "no other source so far"
    said = f"also reported by {sources} source{'s' if sources != 1 else ''}"
    languages = len(alert.also_languages)
    return said + (f" in {languages} language{'s' if languages != 1 else ''}" if languages else "")


SPIKE_TEMPLATES = {
    "text": "$title\n$time\n\n$snippet\n\n"
    "newsmon alerts list --watchlist $watchlists --since $window",
    "markdown": "**$title**\n$time\n\n$snippet\n\n"
    "newsmon alerts list --watchlist $watchlists --since $window",
    "html": "<p><b>$title</b><br>$time</p>\n<p>$snippet</p>\n"
    "<p><small>newsmon alerts list --watchlist $watchlists --since $window</small></p>",
}


def render_spike(
    spike: SpikeView,
    fmt: str = "text",
    *,
    severity: str = "info",
    template: str | None = None,
    title_template: str | None = None,
) -> Message:
    """A spike: which watchlist, how many alerts in its window, and what is usual. A
    channel's own templates get the same fields as for an alert (``$alert`` is
    ``spike N``, ``$link``, ``$url`` and ``$terms`` are empty)."""
    window = exact_duration(spike.window)
    name = escape(spike.watchlist, fmt)
    title = spike_title(name, spike.count, spike.window)
    detail = (
        f"{name} is busier than usual: {spike.count} alerts in the last {window}, where "
        f"{spike.expected:.1f} are usual (the average over the "
        f"{exact_duration(spike.baseline)} before); a spike is {spike.factor:g} times "
        "the usual number or more."
    )
    values = {
        "title": title,
        "source": "newsmon",
        "time": spike.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "link": "",
        "url": "",
        "matched": detail,
        "snippet": detail,
        "watchlists": name,
        "terms": "",
        "severity": severity,
        "alert": f"spike {spike.id}",
        "tag": _TAGS.get(severity, ""),
        "window": window,
    }
    head = Template(title_template or "[newsmon$tag] $title").safe_substitute(values)
    body = Template(template or SPIKE_TEMPLATES[fmt]).safe_substitute(values)
    return Message(title=_defuse(_one_line(head))[:250], body=body, format=fmt)


def spike_title(watchlist: str, count: int, window: float) -> str:
    """``spike: ukraine, 3 alerts in 1h`` (``watchlist`` as given: escape it first)."""
    return f"spike: {watchlist}, {count} alerts in {exact_duration(window)}"


def delivery_title(d: DeliveryRow) -> str:
    """What a delivery is about, in a line: its article's title, ``feed NAME: KIND`` for
    a feed-health notice, or the spike's title."""
    if d.article_title is not None:
        title = d.article_title
    elif d.notice is not None:
        title = f"feed {d.notice.feed}: {d.notice.kind}"
    else:
        title = ""
    if title or d.spike is None:
        return title
    return spike_title(d.spike.watchlist, d.spike.count, d.spike.window)
