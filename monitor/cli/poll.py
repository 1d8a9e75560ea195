"""``newsmon poll --once``: every feed once, whatever its schedule, then the outbox."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.output import emit, iso, listing_options
from monitor.cli.params import TEXT
from monitor.errors import FeedsError
from monitor.store.catalog import catalog

if TYPE_CHECKING:
    from monitor.cli import Obj
    from monitor.pipeline.assembly import CycleReport

__all__ = ["FEEDS_FAILED", "register"]

POLL_FIELDS = ["feed", "status", "new", "backlog", "alerts", "error", "polled_by", "lease_until"]
FEEDS_FAILED = 3  # poll --once: the exit code when a feed's poll failed


@click.command()
@click.option("--once", is_flag=True, required=True, help="Poll once and exit (required).")
@click.option("--feed", "feeds", type=TEXT, multiple=True, help="Only this feed (repeatable).")
@listing_options(POLL_FIELDS)
@click.pass_obj
def poll(obj: Obj, once: bool, feeds: tuple[str, ...], fmt: str, fields: list[str] | None) -> None:
    """Poll every feed once, whatever its schedule, deliver alerts, and exit.

    Exits 0 when every poll worked, 3 when a feed's poll failed (its error is in the
    output and the log; the other feeds were polled), 1 on an error that stopped it
    (a bad config, a database that does not answer), 2 on a bad command line.
    A feed another instance holds under a lease (polling it now, or died before its
    lease expired) is skipped: stderr says which, by whom and until when, and the
    listing has a row for it with status "skipped", polled_by and lease_until.

    \b
    Example:
        newsmon poll --once
        newsmon poll --once --feed demo-world-wire --format json
    """
    from monitor.pipeline.assembly import (  # the whole pipeline
        close_context,
        open_context,
        poll_once,
    )

    settings = obj.settings
    ctx = open_context(settings, is_parsing_inline=True)  # workers only for a backlog
    try:
        enabled = {f.name for f in catalog(ctx.db) if f.is_enabled} if feeds else set()
        for name in feeds:
            if name not in enabled:
                settings.feed_by_name(name)  # names the config's feeds in its error
                raise FeedsError(f"the feed {name!r} is disabled")
        report = poll_once(ctx, list(feeds) or None)
    finally:
        close_context(ctx)
    rows = _poll_rows(report)
    emit(rows, fmt, POLL_FIELDS[:6], "poll", fields=fields, drop=["backlog", "new"], main="error")
    if fmt == "table":
        d = report.deliveries
        click.echo(
            f"deliveries: {d.sent} sent, {d.failed} failed (will retry), {d.dead} dead, "
            f"{d.held} held (digest, quiet hours or rate limit)"
        )
        for change in report.health:
            click.echo(
                f"feed health: {change.feed} is now {change.state} (notice {change.notice_id})"
            )
    if any(r.status == "error" for r in report.feeds):
        sys.exit(FEEDS_FAILED)


def _poll_rows(report: CycleReport) -> list[dict[str, Any]]:
    """A row per feed polled, and per feed skipped (said on stderr too)."""
    rows = [
        {
            "feed": r.feed,
            "status": r.status,
            "new": r.new_entries,
            "backlog": r.backlog,
            "alerts": len(r.alerts),
            "error": r.error,
            "polled_by": None,
            "lease_until": None,
        }
        for r in report.feeds
    ]
    for lease in report.skipped:
        until = iso(lease.until)
        click.echo(
            f"skipped feed {lease.feed}: leased by {lease.owner} until {until} (another "
            "instance polls it, or died and its lease has not expired yet)",
            err=True,
        )
        rows.append(
            {
                "feed": lease.feed,
                "status": "skipped",
                "new": 0,
                "backlog": 0,
                "alerts": 0,
                "error": None,
                "polled_by": lease.owner,
                "lease_until": until,
            }
        )
    return rows


def register(group: click.Group) -> None:
    group.add_command(poll)
