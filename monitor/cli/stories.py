"""``newsmon stories``: the news events that grouped several outlets' reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from monitor import display
from monitor.cli.output import counted, echo_json, emit, format_option, iso, listing_options
from monitor.cli.params import COUNT, ID, TEXT, WHEN
from monitor.cli.tables import terminal_width
from monitor.store.db import Database, connect
from monitor.store.eventlist import EventView, get_event, list_events

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register", "story_dict"]

STORY_FIELDS = [
    "id",
    "title",
    "first_seen",
    "last_seen",
    "reports",
    "sources",
    "languages",
    "members",
]


def _open(obj: Obj) -> Database:
    db = connect(obj.database_url, is_read_only=True)
    db.migrate()
    return db


def story_dict(event: EventView) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": event.title,
        "first_seen": iso(event.first_seen_at),
        "last_seen": iso(event.last_seen_at),
        "reports": len(event.members),
        "sources": list(dict.fromkeys(m.source for m in event.members)),
        "languages": sorted({m.language for m in event.members if m.language}),
        "members": [
            {
                "url": m.url,
                "title": m.title,
                "feed": m.feeds[0] if m.feeds else None,
                "source": m.source,
                "published": iso(m.published_at),
                "seen": iso(m.seen_at),
            }
            for m in event.members
        ],
    }


@click.group()
def stories() -> None:
    """Stories: one news event and every outlet's report of it, with its timeline.

    \b
    Example:
        newsmon stories list --since 7d --min-sources 2
        newsmon stories show 1
    """


@stories.command("list")
@click.option("--since", type=WHEN, help="Seen from this time: 24h, 7d, 30m, or a date (UTC).")
@click.option("--watchlist", type=TEXT, help="Only stories that alerted this watchlist.")
@click.option("--min-sources", type=COUNT, default=1, show_default=True, help="At least N sources.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@listing_options(STORY_FIELDS)
@click.pass_obj
def stories_list(
    obj: Obj,
    since: datetime | None,
    watchlist: str | None,
    min_sources: int,
    limit: int,
    fmt: str,
    fields: list[str] | None,
) -> None:
    """List stories, the most recently reported first: sources, languages, reports.

    \b
    Example:
        newsmon stories list --min-sources 2
        newsmon stories list --since 7d --watchlist ukraine --format json
        newsmon stories list --format csv --fields id,title,sources
    """
    db = _open(obj)
    try:
        found = list_events(
            db, since=since, watchlist=watchlist, limit=None if min_sources > 1 else limit
        )
    finally:
        db.close()
    rows = [story_dict(e) for e in found]
    rows = [r for r in rows if len(r["sources"]) >= min_sources][:limit]
    if fmt == "table":
        for row in rows:
            row["sources"] = f"{len(row['sources'])}: {', '.join(row['sources'])}"
            row["languages"] = ",".join(row["languages"])
    emit(
        rows,
        fmt,
        ["id", "last_seen", "reports", "languages", "title", "sources"],
        "stories",
        fields=fields,
        drop=["sources", "languages"],
    )


@stories.command("show")
@click.argument("story_id", metavar="ID", type=ID)
@format_option("text", "json", default="text")
@click.pass_obj
def stories_show(obj: Obj, story_id: int, fmt: str) -> None:
    """Show one story's timeline: the first report, then each later one, with its
    time and source.

    \b
    Example:
        newsmon stories show 1
        newsmon stories show 1 --format json
    """
    db = _open(obj)
    try:
        event = get_event(db, story_id)
    finally:
        db.close()
    if event is None:
        raise click.ClickException(f"no story {story_id}; `newsmon stories list` shows the ids")
    if fmt == "json":
        echo_json(story_dict(event))
        return
    _timeline(event)


def _timeline(event: EventView) -> None:
    """The story as a timeline, times by publication (else when first seen)."""
    width = terminal_width()
    data = story_dict(event)
    click.echo(_fit(f"Story {event.id}: {display.clean(event.title)}", width))
    sources, langs = data["sources"], ", ".join(data["languages"]) or "language unknown"
    click.echo(
        f"  {counted(len(event.members), 'report')} from {counted(len(sources), 'source')} "
        f"({langs})"
    )
    members = sorted(event.members, key=lambda m: (m.published_at or m.seen_at, m.article_id))
    start = members[0].published_at or members[0].seen_at if members else None
    for n, m in enumerate(members):
        at = m.published_at or m.seen_at
        when = at.strftime("%Y-%m-%d %H:%M")
        gap = "first report" if n == 0 or start is None else _after(at - start)
        via = f" (via {m.feeds[0]})" if m.feeds else ""
        line = f"  {when}  {gap:<13} {display.clean(m.source)}: {display.clean(m.title)}{via}"
        click.echo(_fit(line, width))


def _fit(line: str, width: int) -> str:
    """The line, cut to ``width`` with an ellipsis where it is longer."""
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def _after(gap: timedelta) -> str:
    """``+2h30m``, ``+1d4h``, ``+45m``: how long after the first report."""
    minutes = max(0, int(gap.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"+{days}d{hours}h"
    return f"+{hours}h{mins:02d}m" if hours else f"+{mins}m"


def register(group: click.Group) -> None:
    group.add_command(stories)
