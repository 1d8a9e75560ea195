"""``newsmon alerts show``: one alert in full: the article with its hits highlighted, its
story (which source carried it first, through which feeds), every match, the deliveries."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

from monitor.cli.alerts import alert_dict, alerts, open_read_only
from monitor.cli.output import echo_json, format_option, iso, styled
from monitor.cli.params import ID
from monitor.config.settings import Settings
from monitor.deliver.render import also_reported
from monitor.display import clean_data
from monitor.errors import NewsmonError
from monitor.match.highlight import Span, excerpt, marked, spans
from monitor.match.offsets import original_offsets, original_span
from monitor.store.alerts import AlertView, get_alert

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register", "show_dict"]

_LEAD = 200  # characters of text shown when only the title matched


def show_dict(alert: AlertView, settings: Settings | None = None) -> dict[str, Any]:
    """Everything ``alerts show`` prints; marks are [start, end) spans of the text they
    follow (``title_marks`` of ``title``, ``excerpt.marks`` of ``excerpt.text``)."""
    data = alert_dict(alert)
    data["title_marks"] = [list(s) for s in spans(alert.title, _found(alert, "title"))]
    # match offsets refer to the normalised text; the excerpt is cut from the text as written
    body, offsets = alert.text, original_offsets(alert.text)
    hits = [original_span(offsets, m.start, m.end) for m in alert.matches if m.field == "text"]
    text, marks = excerpt(body, hits) if hits else (_lead(body), [])
    data["excerpt"] = {"text": text, "marks": [list(s) for s in marks]}
    members = alert.story.members if alert.story else []
    for row, member in zip(data["members"], members, strict=True):
        row["published_at"] = iso(member.published_at)
        row["feeds"] = list(member.feeds)
        row["is_first"] = member is members[0]
    data["matches"] = [
        {
            "watchlist": m.watchlist,
            "term": m.term,
            "found": m.found,
            "field": m.field,
            "start": m.start,
            "end": m.end,
            "snippet": m.snippet,
            "snippet_marks": [list(s) for s in spans(m.snippet, [m.found])],
        }
        for m in alert.matches
    ]
    data["deliveries"] = [
        {
            "channel": d.channel,
            "status": d.status,
            "attempts": d.attempts,
            "last_error": _redacted(d.last_error, d.channel, settings),
            "next_attempt_at": iso(d.next_attempt_at),
            "sent_at": iso(d.sent_at),
        }
        for d in alert.deliveries
    ]
    return data


def _found(alert: AlertView, field: str) -> list[str]:
    return [m.found for m in alert.matches if m.field == field]


def _lead(body: str) -> str:
    lead = " ".join(body[: _LEAD + 1].split())
    return lead[:_LEAD].rsplit(" ", 1)[0] + " …" if len(lead) > _LEAD else lead


def _redacted(error: str | None, channel: str, settings: Settings | None) -> str | None:
    """Stored errors are masked when written; mask again with the channel's current URLs
    (a URL may have changed since), when they can be read."""
    if not error or settings is None or channel not in settings.channel:
        return error
    try:
        urls = settings.channel[channel].targets()
    except NewsmonError:
        return error
    from monitor.deliver.notify import redact

    return redact(error, urls)


@click.command("show")
@click.argument("alert_id", type=ID)
@format_option("text", "json", default="text")
@click.pass_obj
def alerts_show(obj: Obj, alert_id: int, fmt: str) -> None:
    """Show one alert: the article with the hits highlighted, its story, matches, deliveries.

    The story lists every article that tells the same story, in the order newsmon first
    saw them, with their sources and feeds: the first is the one that carried it first
    ("also reported by 3 sources in 2 languages"). A correction alert shows what
    changed. With --format json, highlights are [start, end) spans of the text they
    follow.

    \b
    Example:
        newsmon alerts show 1
        newsmon alerts show 1 --format json | jq '.excerpt'
    """
    db = open_read_only(obj)
    try:
        alert = get_alert(db, alert_id)
    finally:
        db.close()
    if alert is None:
        raise click.ClickException(f"no alert {alert_id}; `newsmon alerts list` shows the ids")
    data = show_dict(alert, obj.settings)
    if fmt == "json":
        data["text"] = alert.text
        echo_json(data)
        return
    console = Console(file=sys.stdout, highlight=False)
    # a terminal wraps long lines at its width, between words; a pipe keeps them whole
    console.soft_wrap = not console.is_terminal
    _print(console, alert, clean_data(data))


def _print(console: Console, alert: AlertView, data: dict[str, Any]) -> None:
    """The alert as text; every text from the feed or page comes from ``data``, cleaned."""

    def hl(text: str, marks: list[list[int]]) -> Text:
        if console.is_terminal:
            return styled(text, marks)
        return Text(marked(text, _spans(marks)))  # »hit« where styles are lost

    def head(text: str) -> None:
        console.print(Text("\n" + text, style="bold"))

    console.print(
        Text(f"Alert {alert.id}: ", style="bold") + hl(data["title"], data["title_marks"])
    )
    for key in ("url", "feed", "source", "published_at", "created_at", "text_source"):
        console.print(Text(f"  {key:<13} {data[key] or '-'}"))
    console.print(Text(f"  {'watchlists':<13} {', '.join(data['watchlists'])}"))
    head("Excerpt")
    console.print(Text("  ") + hl(data["excerpt"]["text"], data["excerpt"]["marks"]))
    if alert.kind in ("correction", "growth"):
        head(alert.kind.capitalize())
        for line in (data["diff"] or "").splitlines():
            console.print(Text(f"  {line}"))
    if alert.story is not None:
        head(f"Story {alert.story.id}: {also_reported(alert)}")
        console.print(Text(f"  first seen {data['story_first_seen_at']}, in this order:"))
        for i, m in enumerate(data["members"], 1):
            feeds = f" (via {', '.join(m['feeds'])})" if m["feeds"] else ""
            flags = (("first", m["is_first"]), ("this alert", m["is_alerted"]))
            tags = [tag for tag, is_on in flags if is_on]
            console.print(
                Text(f"  {i}. {m['seen_at']}  {m['source']}: {m['title']}{feeds}")
                + Text(f"  [{', '.join(tags)}]" if tags else "", style="bold")
            )
            console.print(Text(f"     {m['url'] or '-'}"))
    head("Matches")
    for m in data["matches"]:
        console.print(
            Text(f"  {m['watchlist']}: {m['found']!r} ({m['term']}) in {m['field']} ")
            + Text(f"[{m['start']}:{m['end']}]")
        )
        console.print(Text("    ") + hl(m["snippet"], m["snippet_marks"]))
    head("Deliveries")
    for d in data["deliveries"] or [{"channel": "-", "status": "no channel routed"}]:
        error = f"  error: {d['last_error']}" if d.get("last_error") else ""
        console.print(
            Text(f"  {d['channel']}: {d['status']} (attempts {d.get('attempts', 0)}){error}")
        )


def _spans(marks: list[list[int]]) -> list[Span]:
    return [(s, e) for s, e in marks]


def register(_group: click.Group) -> None:
    """``alerts show`` joins the ``alerts`` group (defined in monitor.cli.alerts)."""
    alerts.add_command(alerts_show)
