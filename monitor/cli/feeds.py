"""``newsmon feeds``: feed health."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor.cli.output import emit, iso, listing_options
from monitor.store.db import connect
from monitor.store.feeds import list_feeds

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register"]


FEED_FIELDS = [
    "name",
    "url",
    "title",
    "enabled",
    "last_poll",
    "status",
    "errors",
    "last_error",
    "entries",
    "next_check",
]


@click.group()
def feeds() -> None:
    """Feeds and their health."""


@feeds.command("list")
@listing_options(FEED_FIELDS)
@click.pass_obj
def feeds_list(obj: Obj, fmt: str, fields: list[str] | None) -> None:
    """List feeds: URL, last poll, status, last error, entry count, next check.

    \b
    Example:
        newsmon feeds list
        newsmon feeds list --format json | jq '.[] | select(.status == "error")'
        newsmon feeds list --format ndjson --fields name,status,last_error
    """
    db = connect(obj.settings.database.url, is_read_only=True)
    try:
        db.migrate()
        rows = [
            {
                "name": f.name,
                "url": f.url,
                "title": f.title,
                "enabled": f.is_enabled,
                "last_poll": iso(f.last_polled_at),
                "status": f.last_status,
                "errors": f.error_count,
                "last_error": f.last_error,
                "entries": f.entry_count,
                "next_check": iso(f.next_check_at),
            }
            for f in list_feeds(db)
        ]
    finally:
        db.close()
    emit(
        rows,
        fmt,
        ["name", "status", "last_poll", "entries", "next_check", "last_error", "url"],
        "feeds",
        fields=fields,
    )


def register(group: click.Group) -> None:
    group.add_command(feeds)
