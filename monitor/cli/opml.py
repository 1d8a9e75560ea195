"""``newsmon feeds import`` and ``feeds export``: feed lists in OPML."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import Progress

from monitor.cli.feeds import feeds, open_db
from monitor.cli.params import INTERVAL
from monitor.errors import FeedsError
from monitor.model import utcnow
from monitor.sources import catalog
from monitor.sources.opml import read_opml, write_opml
from monitor.store import catalog as store
from monitor.store.catalog import NewFeed
from monitor.store.db import Database

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register"]

BATCH = 200  # feeds stored per transaction; the progress bar moves per batch


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FeedsError(f"cannot read {path}: {exc.strerror}", "check the path") from None


@click.command("import")
@click.argument("file", metavar="FILE.opml")
@click.option(
    "--interval",
    type=INTERVAL,
    help="How often to check the new feeds  [default: [defaults] interval]",
)
@click.option("--dry-run", is_flag=True, help="Say what would be added; add nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def feeds_import(obj: Obj, file: str, interval: float | None, dry_run: bool, fmt: str) -> None:
    """Add the feeds of an OPML file (from another reader, or `feeds export`).

    Folders are followed; a feed whose URL is already polled, or that comes twice, is
    skipped and reported, and so is an outline without an http(s) xmlUrl. FILE may be -.

    \b
    Example:
        newsmon feeds import subscriptions.opml --dry-run
        newsmon feeds import subscriptions.opml --interval 30m
    """
    settings = obj.settings
    seconds = interval or obj.settings.defaults.interval
    source = "stdin" if file == "-" else file
    found = read_opml(_read(file), source)
    candidates = [
        catalog.Candidate(f.url, label=f.text or f.title, where=f"line {f.line}")
        for f in found.feeds
    ]
    db = open_db(obj)
    try:
        plan = catalog.plan(candidates, settings, store.catalog(db), seconds)
        if not dry_run:
            _store(db, plan.add, settings.defaults.alert_backlog)
    finally:
        db.close()
    skipped = found.problems + plan.skipped
    if fmt == "json":
        added = [{"name": f.name, "url": f.url} for f in plan.add]
        report = {"added": added, "skipped": skipped, "dry_run": dry_run}
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    verb = "would add" if dry_run else "added"
    for feed in plan.add:
        click.echo(f"{verb} {feed.name}: {feed.url}")
    for line in skipped:
        click.echo(f"skipped {line}", err=True)
    click.echo(f"{source}: {verb} {len(plan.add)} feed(s), skipped {len(skipped)}")


def _store(db: Database, added: list[NewFeed], alert_backlog: bool) -> None:
    now = utcnow()
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=len(added) <= BATCH) as progress:
        task = progress.add_task("importing feeds", total=len(added))
        for start in range(0, len(added), BATCH):
            batch = added[start : start + BATCH]
            store.add_feeds(db, batch, now, is_backlog_absorbed=alert_backlog)
            progress.advance(task, len(batch))


@click.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@click.pass_obj
def feeds_export(obj: Obj, output: Path | None) -> None:
    """Write the feeds in force (the config's and those added) as OPML 2.0.

    \b
    Example:
        newsmon feeds export -o newsmon-feeds.opml
        newsmon feeds export | grep -c '<outline'
    """
    db = open_db(obj, is_read_only=True)
    try:
        rows = catalog.feed_set(obj.settings, store.catalog(db))
    finally:
        db.close()
    data = write_opml(rows, "newsmon feeds", utcnow())
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, output)
    except OSError as exc:
        raise FeedsError(f"cannot write {output}: {exc.strerror}", "check the path") from None
    click.echo(f"wrote {len(rows)} feed(s) to {output}", err=True)


def register(_group: click.Group) -> None:
    feeds.add_command(feeds_import)
    feeds.add_command(feeds_export)
