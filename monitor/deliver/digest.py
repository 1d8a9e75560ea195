"""A digest: many alerts for one channel in one message, grouped by watchlist and, within
a watchlist, by story (the articles grouped as one story, see monitor/stories/copies.py)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from monitor.deliver.render import Message, also_reported, escape, fields
from monitor.store.alerts import AlertView

__all__ = ["render_digest"]


def _story_key(alert: AlertView) -> str:
    """The story the alert belongs to; the headline for an alert recorded without one."""
    if alert.story is not None:
        return f"story {alert.story.id}"
    return " ".join(re.findall(r"\w+", alert.title.casefold())) or f"alert {alert.id}"


def _groups(
    alerts: Sequence[AlertView], watchlists: Sequence[str]
) -> dict[str, list[list[AlertView]]]:
    """watchlist -> stories -> alerts, in the order the alerts were raised."""
    grouped: dict[str, dict[str, list[AlertView]]] = {}
    for alert in sorted(alerts, key=lambda a: (a.created_at, a.id)):
        names = [w for w in alert.watchlists if w in watchlists] or alert.watchlists[:1]
        for name in names or ["(no watchlist)"]:
            grouped.setdefault(name, {}).setdefault(_story_key(alert), []).append(alert)
    return {w: list(stories.values()) for w, stories in grouped.items()}


def _item(story: list[AlertView], fmt: str) -> str:
    first = fields(story[0], fmt)
    sources = []
    for alert in story:
        f = fields(alert, fmt)
        sources.append(f"{f['source']} · {f['time']} · {f['link'] or 'alert ' + f['alert']}")
    terms = escape(", ".join(dict.fromkeys(t for a in story for t in a.terms)), fmt)
    latest = story[-1]  # the story as the newest alert read it
    if latest.also_reported_by:
        sources.append(escape(also_reported(latest).capitalize(), fmt))
    if fmt == "html":
        lines = "<br>".join(sources)
        return f"<li><b>{first['title']}</b> ({terms})<br>{lines}<br><i>{first['snippet']}</i></li>"
    if fmt == "markdown":
        lines = "\n".join(f"  {s}" for s in sources)
        return f"- **{first['title']}** ({terms})\n{lines}\n  > {first['snippet']}"
    lines = "\n".join(f"  {s}" for s in sources)
    return f"- {first['title']} ({terms})\n{lines}\n  {first['snippet']}"


def render_digest(
    alerts: Sequence[AlertView], fmt: str, watchlists: Sequence[str], severity: str = "info"
) -> Message:
    """One message for ``alerts``; ``watchlists`` are those routed to the channel."""
    groups = _groups(alerts, watchlists)
    counts = Counter({w: sum(len(s) for s in stories) for w, stories in groups.items()})
    summary = ", ".join(f"{w} {n}" for w, n in counts.items())
    tag = {"warning": " warning", "critical": " CRITICAL"}.get(severity, "")
    title = f"[newsmon{tag}] digest: {len(alerts)} alert(s) ({summary})"
    parts = []
    for name, stories in groups.items():
        heading = escape(name, fmt)
        items = [_item(story, fmt) for story in stories]
        if fmt == "html":
            parts.append(
                f"<h3>{heading} ({len(stories)})</h3>\n<ul>\n" + "\n".join(items) + "\n</ul>"
            )
        elif fmt == "markdown":
            parts.append(f"### {heading} ({len(stories)})\n\n" + "\n".join(items))
        else:
            parts.append(f"{heading} ({len(stories)})\n" + "\n".join(items))
    ids = sorted(a.id for a in alerts)
    # the ids, then a command that runs as printed
    lines = [f"alerts {', '.join(map(str, ids))}", f"newsmon alerts show {ids[0]}"]
    footer = f"<p><small>{'<br>'.join(lines)}</small></p>" if fmt == "html" else "\n".join(lines)
    return Message(
        title=escape(title, "text")[:250], body="\n\n".join([*parts, footer]), format=fmt
    )
