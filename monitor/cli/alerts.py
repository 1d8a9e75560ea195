"""``newsmon alerts``: alert history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.output import emit, format_option, iso
from monitor.store.alerts import AlertView, get_alert, list_alerts
from monitor.store.db import Database, connect

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["parse_when", "register"]

_AGO = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str | None) -> datetime | None:
    """``24h``, ``7d``, ``30m``, ``2w`` ago, or an ISO date/time (UTC if no zone)."""
    if not value:
        return None
    if m := re.fullmatch(r"(\d+)([mhdw])", value.strip()):
        return datetime.now(UTC) - timedelta(**{_AGO[m.group(2)]: int(m.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a span like 24h, 7d or 30m nor a date like 2026-11-01"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _open(obj: Obj) -> Database:
    db = connect(obj.settings.database.url, is_read_only=True)
    db.migrate()
    return db


def alert_dict(a: AlertView) -> dict[str, Any]:
    return {
        "id": a.id,
        "created_at": iso(a.created_at),
        "watchlists": a.watchlists,
        "terms": a.terms,
        "title": a.title,
        "url": a.url,
        "feed": a.feed,
        "source": a.sitename,
        "published_at": iso(a.published_at),
        "text_source": a.text_source,
        "snippet": a.snippet,
        "deliveries": [{"channel": d.channel, "status": d.status} for d in a.deliveries],
        "kind": a.kind,
        "diff": a.diff,
        "story_id": a.story.id if a.story else None,
        "story_first_seen_at": iso(a.story.first_seen_at) if a.story else None,
        "sources": a.story.sources if a.story else [a.source],
        "also_reported_by": a.also_reported_by,
        "members": [
            {
                "title": m.title,
                "url": m.url,
                "source": m.source,
                "seen_at": iso(m.seen_at),
                "is_alerted": m.article_id == a.article_id,
            }
            for m in (a.story.members if a.story else [])
        ],
    }


@click.group()
def alerts() -> None:
    """Alert history: list, show, export as Atom, CSV or JSON, serve as a feed.

    \b
    Example:
        newsmon alerts list --since 24h
        newsmon alerts export --format atom -o alerts.atom
    """


@alerts.command("list")
@click.option("--watchlist", help="Only alerts that matched this watchlist.")
@click.option("--feed", help="Only alerts first seen in this feed.")
@click.option("--since", help="From this time: 24h, 7d, 30m, or a date (UTC).")
@click.option("--until", help="Before this time: same forms as --since.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@format_option("table", "json", "csv")
@click.pass_obj
def alerts_list(
    obj: Obj,
    watchlist: str | None,
    feed: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
) -> None:
    """List alerts, newest first.

    \b
    Example:
        newsmon alerts list --watchlist osce --since 7d
        newsmon alerts list --since 2026-11-01 --format csv > alerts.csv
    """
    db = _open(obj)
    try:
        found = list_alerts(
            db,
            watchlist=watchlist,
            feed=feed,
            since=parse_when(since),
            until=parse_when(until),
            limit=limit,
        )
    finally:
        db.close()
    rows = [alert_dict(a) for a in found]
    emit(
        rows,
        fmt,
        [
            "id",
            "created_at",
            "kind",
            "watchlists",
            "terms",
            "title",
            "feed",
            "story_id",
            "also_reported_by",
            "deliveries",
        ],
        "alerts",
    )


@alerts.command("show")
@click.argument("alert_id", type=int)
@format_option("text", "json", default="text")
@click.pass_obj
def alerts_show(obj: Obj, alert_id: int, fmt: str) -> None:
    """Show one alert: the article, its story, every match with its snippet, the deliveries.

    The story lists every article that tells the same story, including those seen after
    the alert ("also reported by 3 sources"). A correction alert shows what changed.

    \b
    Example:
        newsmon alerts show 42
    """
    db = _open(obj)
    try:
        alert = get_alert(db, alert_id)
    finally:
        db.close()
    if alert is None:
        raise click.ClickException(f"no alert {alert_id}; `newsmon alerts list` shows the ids")
    data = alert_dict(alert)
    data["matches"] = [
        {
            "watchlist": m.watchlist,
            "term": m.term,
            "found": m.found,
            "field": m.field,
            "start": m.start,
            "end": m.end,
            "snippet": m.snippet,
        }
        for m in alert.matches
    ]
    data["deliveries"] = [
        {
            "channel": d.channel,
            "status": d.status,
            "attempts": d.attempts,
            "last_error": d.last_error,
            "next_attempt_at": iso(d.next_attempt_at),
            "sent_at": iso(d.sent_at),
        }
        for d in alert.deliveries
    ]
    if fmt == "json":
        data["text"] = alert.text
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.secho(f"Alert {alert.id}: {alert.title}", bold=True)
    for key in ("url", "feed", "source", "published_at", "created_at", "text_source"):
        click.echo(f"  {key:<13} {data[key] or '-'}")
    click.echo(f"  {'watchlists':<13} {', '.join(alert.watchlists)}")
    if alert.kind == "correction":
        click.secho("\nCorrection", bold=True)
        for line in (alert.diff or "").splitlines():
            click.echo(f"  {line}")
    if alert.story is not None:
        n = alert.also_reported_by
        also = f"also reported by {n} source(s)" if n else "no other source so far"
        click.secho(f"\nStory {alert.story.id}: {also}", bold=True)
        click.echo(f"  first seen {data['story_first_seen_at']}")
        for m in data["members"]:
            mark = "*" if m["is_alerted"] else "-"
            click.echo(f"  {mark} {m['seen_at']}  {m['source']}: {m['title']}\n      {m['url']}")
    click.secho("\nMatches", bold=True)
    for m in data["matches"]:
        click.echo(
            f"  {m['watchlist']}: {m['found']!r} ({m['term']}) in {m['field']} "
            f"[{m['start']}:{m['end']}]\n    {_highlighted(m['snippet'], m['found'])}"
        )
    click.secho("\nDeliveries", bold=True)
    for d in data["deliveries"] or [{"channel": "-", "status": "no channel routed"}]:
        error = f"  error: {d['last_error']}" if d.get("last_error") else ""
        click.echo(f"  {d['channel']}: {d['status']} (attempts {d.get('attempts', 0)}){error}")


def _highlighted(snippet: str, found: str) -> str:
    """The snippet with the hit in bold (and between » « when not on a terminal)."""
    words = found.split()
    hit = re.search(r"\s+".join(map(re.escape, words)), snippet, re.IGNORECASE) if words else None
    if hit is None:
        return snippet
    marked = click.style(f"»{hit.group()}«", bold=True)
    return snippet[: hit.start()] + marked + snippet[hit.end() :]


def register(group: click.Group) -> None:
    group.add_command(alerts)
