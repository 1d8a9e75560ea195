"""Running newsmon: run, poll, config check, db upgrade."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.output import counted, emit, format_option, iso, listing_options
from monitor.cli.params import TEXT
from monitor.cli.where import config_reason
from monitor.config.settings import load
from monitor.errors import ConfigError, FeedsError
from monitor.store.catalog import catalog
from monitor.store.db import connect

if TYPE_CHECKING:
    from monitor.cli import Obj
    from monitor.pipeline.assembly import CycleReport

__all__ = ["EX_CONFIG", "register"]

EX_CONFIG = 78  # sysexits.h: `newsmon run` on a bad config; the unit does not restart it


@click.command()
@click.pass_obj
def run(obj: Obj) -> None:
    """Run the daemon: poll feeds on their schedule and deliver alerts until stopped.

    SIGTERM or SIGINT stops it cleanly; SIGHUP reloads the config. A config that is
    not valid (secrets included) exits with 78 (EX_CONFIG), which the unit does not
    restart: the error stays at the end of `systemctl status newsmon`.

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml run
    """
    from monitor.daemon import Daemon

    try:
        daemon = Daemon(obj.config_path, obj.settings)
    except ConfigError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        click.echo(f"hint: {exc.hint}", err=True)
        sys.exit(EX_CONFIG)
    daemon.run()


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
    ctx = open_context(settings)
    try:
        enabled = {f.name for f in catalog(ctx.db) if f.is_enabled}
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


@click.group()
def config() -> None:
    """Check the configuration.

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml config check
    """


@config.command("check")
@format_option("text", "json", default="text")
@click.pass_obj
def config_check(obj: Obj, fmt: str) -> None:
    """Validate the config; exit 1 with every problem listed, by file, line and key.

    Every channel's secrets are read as the daemon reads them (urls_file, urls_env,
    urls_credential), and example placeholders (CHANGE-ME, <token>, example.org hosts)
    are refused. The first line names the file read and why that one: --config,
    NEWSMON_CONFIG, ./config/newsmon.toml (a checkout) or the default
    /etc/newsmon/newsmon.toml.

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml config check
    """
    settings = load(obj.config_path, with_secrets=True)
    summary = {
        "config": str(obj.config_path.resolve()),
        "config_from": obj.config_from,
        "feeds": len(settings.feed),
        "watchlists": len(settings.watchlist),
        "channels": len(settings.channel),
    }
    if fmt == "json":
        click.echo(json.dumps({"ok": True, **summary}))
    else:
        click.echo(
            f"config OK: {obj.config_path} ({config_reason(obj.config_from)}): "
            f"{counted(len(settings.feed), 'feed')}, "
            f"{counted(len(settings.watchlist), 'watchlist')}, "
            f"{counted(len(settings.channel), 'channel')}"
        )


@click.group()
def db() -> None:
    """Manage the database.

    \b
    Example:
        newsmon db upgrade
    """


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Obj) -> None:
    """Upgrade the database schema to the newest version (the daemon also does this on start).

    Creates the database (SQLite) and its tables when there are none, and says what it did.

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml db upgrade
    """
    from monitor.store.db import SCHEMA_HEAD

    database = connect(obj.settings.database.url)
    try:
        before = database.migrate()
    finally:
        database.close()
    if not before:
        click.echo(f"database schema created at revision {SCHEMA_HEAD}")
    elif before == [SCHEMA_HEAD]:
        click.echo(f"database schema already at revision {SCHEMA_HEAD}, the newest")
    else:
        click.echo(f"database schema upgraded from revision {', '.join(before)} to {SCHEMA_HEAD}")


@db.command("reindex")
@click.pass_obj
def db_reindex(obj: Obj) -> None:
    """Rebuild the full-text index that `alerts search` uses, from the stored articles.

    newsmon keeps the index up to date as it stores articles; rebuild it after loading
    articles by other means. It runs in one transaction, at roughly a million articles
    in one minute (SQLite) to three (PostgreSQL) on two cores: meanwhile the daemon
    waits to store articles (better stop it).

    \b
    Example:
        newsmon db reindex
    """
    from rich.console import Console
    from rich.progress import Progress

    from monitor.store.backfill import count_articles
    from monitor.store.search import reindex

    database = connect(obj.settings.database.url)
    try:
        database.migrate()
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("indexing articles", total=count_articles(database))
            done = reindex(database, lambda n: progress.advance(task, n))
    finally:
        database.close()
    click.echo(f"search index rebuilt: {done} articles")


def register(group: click.Group) -> None:
    for command in (run, poll, config, db):
        group.add_command(command)
