"""``newsmon feeds``: the feeds, their health, and adding or removing them."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.output import emit, format_option, iso, listing_options
from monitor.cli.params import INTERVAL, TEXT
from monitor.errors import FeedsError
from monitor.model import utcnow
from monitor.sources import catalog
from monitor.sources.kinds import KINDS
from monitor.store import catalog as store
from monitor.store.db import Database, connect
from monitor.store.feeds import FeedRow, list_feeds
from monitor.store.health import HealthView, health_by_feed
from monitor.watch.health import has_never_worked

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["feeds", "open_db", "register"]


def open_db(obj: Obj, *, is_read_only: bool = False) -> Database:
    db = connect(obj.settings.database.url, is_read_only=is_read_only)
    try:
        db.migrate()
    except BaseException:
        db.close()
        raise
    return db


FEED_FIELDS = [
    "name",
    "url",
    "title",
    "origin",
    "enabled",
    "health",
    "health_since",
    "failing_since",
    "rhythm_seconds",
    "last_poll",
    "last_success",
    "status",
    "errors",
    "last_error",
    "entries",
    "next_check",
    "polled_by",
    "lease_until",
    "encoding",
    "encoding_reason",
    "kind",
    "detected_kind",
]


@click.group()
def feeds() -> None:
    """Feeds, their health, adding and removing them, OPML import and export.

    Feeds come from the config's [[feed]] tables and from `feeds add` / `feeds import`,
    which store them in the database (a running daemon polls them at its next tick).

    \b
    Example:
        newsmon feeds list --format json
    """


def _health(f: FeedRow, h: HealthView | None) -> tuple[str, str | None]:
    if not f.is_enabled:
        return "disabled", None
    if f.last_status == "new":
        return "new", None
    if h is not None and h.state != "ok":
        return h.state, iso(h.since)
    if has_never_worked(f.last_status, f.last_success_at):  # not judged since it failed
        return "failing", None
    return "ok", None


def _row(f: FeedRow, h: HealthView | None, now: datetime) -> dict[str, Any]:
    health, since = _health(f, h)
    is_held = f.lease_owner is not None and f.lease_until is not None and f.lease_until > now
    shown = f"{health} since {since}" if since else health
    if health == "ok" and f.error_count:
        shown = f"ok, {f.error_count} failed poll(s)"
    elif health == "failing" and f.last_success_at is None:
        shown += ", never worked"
    return {
        "name": f.name,
        "url": f.url,
        "title": f.title,
        "origin": h.origin if h else "config",
        "enabled": f.is_enabled,
        "health": health,
        "health_since": since,
        "failing_since": iso(h.failing_since) if h else None,
        "rhythm_seconds": round(h.rhythm) if h and h.rhythm is not None else None,
        "last_poll": iso(f.last_polled_at),
        "last_success": iso(f.last_success_at),
        "status": f.last_status,
        "errors": f.error_count,
        "last_error": f.last_error,
        "entries": f.entry_count,
        "next_check": iso(f.next_check_at) if f.is_enabled else None,
        # the instance (host:pid:tag) polling it right now, under a lease until then
        "polled_by": f.lease_owner if is_held else None,
        "lease_until": iso(f.lease_until) if is_held else None,
        # what its last body was read in, and why: "detected; no charset declared"
        "encoding": f.encoding,
        "encoding_reason": f.encoding_reason,
        # feed, sitemap, page or telegram: as configured (None: detected), as last read
        "kind": f.kind,
        "detected_kind": f.detected_kind,
        "shown": shown,
    }


@feeds.command("list")
@listing_options(FEED_FIELDS)
@click.pass_obj
def feeds_list(obj: Obj, fmt: str, fields: list[str] | None) -> None:
    """List feeds: health (ok, failing since, silent since), last poll, last error, next check.

    \b
    Example:
        newsmon feeds list
        newsmon feeds list --format json | jq '.[] | select(.health != "ok")'
        newsmon feeds list --format ndjson --fields name,health,last_error
        newsmon feeds list --format json --fields name,polled_by,lease_until

    polled_by: the instance (host:pid:tag) polling the feed right now, under a lease;
    several instances on one PostgreSQL database share the feeds this way.
    """
    db = open_db(obj, is_read_only=True)
    try:
        health = health_by_feed(db)
        now = utcnow()
        rows = [_row(f, health.get(f.name), now) for f in list_feeds(db)]
    finally:
        db.close()
    if fmt == "table":
        for row in rows:
            row["health"] = row.pop("shown")
            row["kind"] = row["kind"] or row["detected_kind"] or "?"
    else:
        for row in rows:
            del row["shown"]
    columns = ["name", "kind", "health", "last_poll", "entries", "next_check", "last_error", "url"]
    emit(
        rows,
        fmt,
        columns if fmt != "csv" else [*columns, "origin", "status"],
        "feeds",
        fields=fields,
        drop=["url", "entries", "next_check", "last_poll"],
    )


@feeds.command("show")
@click.argument("name", type=TEXT)
@format_option("text", "json", default="text")
@click.pass_obj
def feeds_show(obj: Obj, name: str, fmt: str) -> None:
    """One feed in full: health, polls, last error, and the encoding its last body was
    read in and why (declared, detected, or a declaration the bytes contradicted).

    \b
    Example:
        newsmon feeds show demo-novosti
        newsmon feeds show demo-novosti --format json
    """
    db = open_db(obj, is_read_only=True)
    try:
        found = next((f for f in list_feeds(db) if f.name == name), None)
        row = _row(found, health_by_feed(db).get(name), utcnow()) if found else None
    finally:
        db.close()
    if row is None:
        raise FeedsError(f"no feed named {name!r}", "`newsmon feeds list` shows every feed")
    shown = row.pop("shown")
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    row["health"] = shown
    reason = row.pop("encoding_reason")
    row["encoding"] = f"{row['encoding']} ({reason})" if row["encoding"] else "not read yet"
    width = max(map(len, row))
    for key, value in row.items():
        click.echo(f"{key + ':':{width + 1}} {'' if value is None else value}")


@feeds.command("add")
@click.argument("url", type=TEXT)
@click.option(
    "--name", type=TEXT, help="The feed's name (default: from its title with --check, else host)."
)
@click.option(
    "--interval",
    type=INTERVAL,
    help="How often to check it, e.g. 10m  [default: [defaults] interval, telegram_interval]",
)
@click.option("--check", is_flag=True, help="Fetch and parse it first; add nothing if that fails.")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="Read it as this kind of source  [default: detected from each response]",
)
@click.option(
    "--yes",
    "-y",
    "is_yes",
    is_flag=True,
    help="On a site's page, add the first feed, sitemap or channel found without asking.",
)
@format_option("text", "json", default="text")
@click.pass_obj
def feeds_add(
    obj: Obj,
    url: str,
    name: str | None,
    interval: float | None,
    check: bool,
    kind: str | None,
    is_yes: bool,
    fmt: str,
) -> None:
    """Add a feed, or a source of another kind: a sitemap, a section page, a Telegram
    channel. It is stored in the database, not in the config file; a running daemon
    polls it at its next tick (within seconds), without a reload.

    Given a site's page (an address that does not name a feed) and no --kind, it looks
    for what the site offers (as `feeds discover` does) and asks which to add; --yes
    takes the first. A t.me/NAME link adds the channel's preview, t.me/s/NAME.

    \b
    Example:
        newsmon feeds add https://www.osce.org/rss/news --name osce-news --check
        newsmon feeds add https://meduza.io/rss/all --interval 30m
        newsmon feeds add https://www.reuters.com/world/ --kind page --name reuters-world
        newsmon feeds add https://t.me/MID_Russia --name mid-russia
    """
    settings = obj.settings
    url = catalog.check_url(url)
    url, kind = _source(obj, url, kind, is_yes=is_yes)
    default = settings.defaults.telegram_interval if kind == "telegram" else None
    seconds = interval or default or settings.defaults.interval
    title, count, read_as = catalog.check_feed(settings, url, kind) if check else (None, None, None)
    db = open_db(obj)
    try:
        wanted = catalog.Candidate(url, label=title or None, name=name, kind=kind)
        plan = catalog.plan([wanted], settings, store.catalog(db), seconds)
        if plan.skipped:
            raise FeedsError(plan.skipped[0], "nothing added; `newsmon feeds list` shows it")
        store.add_feeds(db, plan.add, utcnow(), is_backlog_absorbed=settings.defaults.alert_backlog)
    finally:
        db.close()
    added = plan.add[0]
    if fmt == "json":
        found = {"name": added.name, "url": added.url, "interval": added.interval, "kind": kind}
        report = {**found, "title": title, "entries": count, "detected_kind": read_as}
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    checked = f" ({read_as} {title or 'untitled'}: {count} entries)" if check else ""
    click.echo(f"added feed {added.name}: {added.url}{checked}")


def _source(obj: Obj, url: str, kind: str | None, *, is_yes: bool) -> tuple[str, str | None]:
    """The address and kind to add: a Telegram channel's preview; on a site's page,
    what discovery found there (monitor.cli.offers.choose)."""
    from monitor.cli.offers import choose, looks_like_a_feed
    from monitor.sources import telegram

    channel = telegram.channel_of(url)
    if channel is not None and kind in (None, "telegram"):
        return telegram.preview_url(channel), "telegram"
    if kind is not None or looks_like_a_feed(url):
        return url, kind
    return choose(obj.settings, url, is_yes=is_yes, is_interactive=sys.stdin.isatty())


@feeds.command("remove")
@click.argument("name", type=TEXT)
@click.pass_obj
def feeds_remove(obj: Obj, name: str) -> None:
    """Stop polling a feed added with `feeds add` or `feeds import`. Its entries and alerts
    are kept, so adding it back alerts nothing old. Feeds of the config are removed there.

    \b
    Example:
        newsmon feeds remove osce-news
    """
    db = open_db(obj)
    try:
        catalog.removable(name, obj.settings, store.catalog(db), str(obj.config_path))
        store.disable(db, name)
    finally:
        db.close()
    click.echo(f"removed feed {name}; a running daemon stops polling it at its next tick")


def register(group: click.Group) -> None:
    group.add_command(feeds)
