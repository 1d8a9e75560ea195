"""``newsmon db``: the schema upgraded, the search index rebuilt, old text pruned."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import Progress

from monitor.cli.output import format_option, iso
from monitor.cli.params import DURATION
from monitor.model import utcnow
from monitor.store.db import connect
from monitor.watch.retention import PruneReport, prune

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register"]


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
    from monitor.history.search import reindex
    from monitor.store.backfill import count_articles

    database = connect(obj.settings.database.url)
    try:
        database.migrate()
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("indexing articles", total=count_articles(database))
            done = reindex(database, lambda n: progress.advance(task, n))
    finally:
        database.close()
    click.echo(f"search index rebuilt: {done} articles")


@db.command("prune")
@click.option("--dry-run", "is_dry_run", is_flag=True, help="Only count what would go.")
@click.option(
    "--older-than",
    type=DURATION,
    help="Prune article text older than this, instead of [retention] article_text.",
)
@format_option("text", "json", default="text")
@click.pass_obj
def db_prune(obj: Obj, is_dry_run: bool, older_than: float | None, fmt: str) -> None:
    """Remove old article text (and delivery details) as [retention] says.

    Keeps every entry and article URL (so an old entry that turns up again does not
    alert again), titles, stories, alerts with their matches, and deliveries. Works
    in short batches, so it can run beside the daemon (which prunes every hour).

    \b
    Example:
        newsmon db prune --dry-run
        newsmon db prune --older-than 180d --format json
    """
    settings = obj.settings
    database = connect(settings.database.url)
    try:
        database.migrate()
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("prune", total=None)
            report = prune(
                database,
                settings,
                utcnow(),
                older_than=older_than,
                is_dry_run=is_dry_run,
                on_total=lambda total: progress.update(task, total=total),
                on_batch=lambda done: progress.advance(task, done),
            )
    finally:
        database.close()
    if fmt == "json":
        click.echo(json.dumps(_report_dict(report)))
    else:
        click.echo(_report_text(report))


def _report_dict(r: PruneReport) -> dict[str, Any]:
    return {
        "dry_run": r.is_dry_run,
        "articles": r.articles,
        "text_chars": r.text_chars,
        "deliveries": r.deliveries,
        "texts_before": iso(r.texts_before),
        "details_before": iso(r.details_before),
    }


def _report_text(r: PruneReport) -> str:
    if r.texts_before is None and r.details_before is None:
        return "nothing to prune: [retention] is off (set article_text, or pass --older-than)"
    verb = "would remove" if r.is_dry_run else "removed"
    parts = []
    if r.texts_before is not None:
        parts.append(
            f"the text of {r.articles} articles first seen before {iso(r.texts_before)} "
            f"({r.text_chars:,} characters)"
        )
    if r.details_before is not None:
        parts.append(
            f"the target details of {r.deliveries} deliveries sent before {iso(r.details_before)}"
        )
    return f"{verb} " + "; ".join(parts)


def register(group: click.Group) -> None:
    group.add_command(db)
