"""``newsmon alerts``: alert history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.lazy import LazyGroup
from monitor.cli.output import emit, iso, listing_options
from monitor.cli.params import TEXT, WHEN
from monitor.match.highlight import spans
from monitor.model import ALERT_FIELDS
from monitor.store.alerts import AlertView, list_alerts
from monitor.store.db import Database, connect

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["alert_dict", "alerts", "open_read_only", "register"]


def open_read_only(obj: Obj) -> Database:
    db = connect(obj.database_url, is_read_only=True)
    db.migrate()
    return db


def alert_dict(a: AlertView) -> dict[str, Any]:
    return {
        "id": a.id,
        "created_at": iso(a.created_at),
        "kind": a.kind,
        "watchlists": a.watchlists,
        "terms": a.terms,
        "title": a.title,
        "url": a.url,
        "source": a.sitename,
        "feed": a.feed,
        "published_at": iso(a.published_at),
        "story_id": a.story.id if a.story else None,
        "snippet": a.snippet,
        "snippet_marks": [list(x) for x in spans(a.snippet, [m.found for m in a.matches])],
        "text_source": a.text_source,
        "deliveries": [{"channel": d.channel, "status": d.status} for d in a.deliveries],
        "diff": a.diff,
        "story_first_seen_at": iso(a.story.first_seen_at) if a.story else None,
        "sources": a.story.sources if a.story else [a.source],
        "also_reported_by": a.also_reported_by,
        "also_languages": a.also_languages,
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


@click.group(
    cls=LazyGroup,
    lazy={"search": ("search",), "show": ("show",), "export": ("export",), "serve": ("export",)},
    summaries={
        "export": "Export alerts, newest first, as an Atom feed, CSV or JSON.",
        "search": "Search stored articles and their alerts, newest first, in the watchlist "
        "query language.",
        "serve": "Serve the alerts as Atom feeds over HTTP until stopped (Ctrl-C or SIGTERM).",
        "show": "Show one alert: the article with the hits highlighted, its story, matches, "
        "deliveries.",
    },
)
def alerts() -> None:
    """Alert history: list, show, export as Atom, CSV or JSON, serve as a feed.

    \b
    Example:
        newsmon alerts list --since 24h
        newsmon alerts export --format atom -o alerts.atom
    """


@alerts.command("list")
@click.option("--watchlist", type=TEXT, help="Only alerts that matched this watchlist.")
@click.option("--feed", type=TEXT, help="Only alerts first seen in this feed.")
@click.option("--since", type=WHEN, help="From this time: 24h, 7d, 30m, or a date (UTC).")
@click.option("--until", type=WHEN, help="Before this time: same forms as --since.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@listing_options(ALERT_FIELDS)
@click.pass_obj
def alerts_list(
    obj: Obj,
    watchlist: str | None,
    feed: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    fmt: str,
    fields: list[str] | None,
) -> None:
    """List alerts, newest first.

    \b
    Example:
        newsmon alerts list --watchlist osce --since 7d
        newsmon alerts list --since 2026-11-01 --format csv > alerts.csv
        newsmon alerts list --format ndjson --fields id,title,watchlists
    """
    db = open_read_only(obj)
    try:
        found = list_alerts(
            db,
            watchlist=watchlist,
            feed=feed,
            since=since,
            until=until,
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
            "also_languages",
            "deliveries",
        ],
        "alerts",
        fields=fields,
        drop=[
            "also_reported_by",
            "also_languages",
            "story_id",
            "deliveries",
            "kind",
            "terms",
            "feed",
        ],
    )


def register(group: click.Group) -> None:
    group.add_command(alerts)
