"""Operating newsmon: ``status`` (health, for people and monitoring scripts) and
``db prune`` (retention on demand)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import Progress

from monitor.cli.admin import db as db_group
from monitor.cli.output import format_option, iso
from monitor.cli.params import DURATION
from monitor.cli.where import config_reason
from monitor.model import utcnow
from monitor.store.db import connect
from monitor.watch.retention import PruneReport, prune
from monitor.watch.status import Limits, Status, ago, check

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register"]

ATTENTION = 2  # the exit code when something needs attention


@click.command()
@click.option(
    "--poll-age",
    type=DURATION,
    help="Attention when a due feed waited this long to be polled, or no poll "
    "succeeded for this long [default: 3 × the shortest feed interval, at least 30m].",
)
@click.option(
    "--queue-age", type=DURATION, help="Attention when a due delivery waited this long [15m]."
)
@click.option(
    "--silent-after",
    type=DURATION,
    help="Attention when a feed had no new entry for this long [7d].",
)
@format_option("text", "json", default="text")
@click.pass_obj
def status(
    obj: Obj,
    poll_age: float | None,
    queue_age: float | None,
    silent_after: float | None,
    fmt: str,
) -> None:
    """Summarise health; exit 2 when something needs attention, 0 when all is well.

    Checks that the database answers and has the newest schema; counts the feeds that
    are ok, failing (a feed that never worked from its first failure) or silent (naming
    them), the last poll and the last successful one, the deliveries
    waiting (and how long the oldest due one has), the dead ones, and the alerts of the
    last 24 hours. Reads only. A bad config exits 1.

    \b
    Example:
        newsmon status
        newsmon status --format json | jq .problems
        newsmon status --format json > /dev/null || echo "newsmon needs attention"
    """
    settings = obj.settings
    limits = Limits.for_settings(settings)
    limits = Limits(
        poll_age or limits.poll_age,
        queue_age or limits.queue_age,
        silent_after or limits.silent_after,
    )
    found = check(settings, utcnow(), limits)
    config = str(obj.config_path.resolve())
    if fmt == "json":
        data = {"config": config, **found.as_dict()}
        click.echo(json.dumps(_jsonable(data), ensure_ascii=False, indent=2))
    else:
        head, _, rest = _readable(found).partition("\n")
        where = f"  config     {config} ({config_reason(obj.config_from)})"
        click.echo("\n".join(part for part in (head, where, rest) if part))
    sys.exit(0 if found.is_ok else ATTENTION)


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_jsonable(v) for v in data]
    return iso(data) if hasattr(data, "isoformat") else data


def _readable(found: Status) -> str:
    db, feeds, box = found.database, found.feeds, found.outbox
    lines = [f"newsmon: {'ok' if found.is_ok else 'needs attention'}"]
    if db.get("reachable"):
        schema = ", ".join(db["schema"]) or "empty"
        newest = "newest" if db["schema"] == db["newest"] else "not the newest"
        lines.append(f"  database   reachable, schema {schema} ({newest})")
    else:
        lines.append(f"  database   unreachable: {db.get('error')}")
    if feeds:
        named = [f"{feeds['ok']} ok", f"{feeds['failing']} failing", f"{feeds['silent']} silent"]
        if feeds["not_polled_yet"]:
            named.append(f"{feeds['not_polled_yet']} not polled yet")
        lines.append(f"  feeds      {feeds['enabled']} enabled: " + ", ".join(named))
        last, success = found.last_poll_at, found.last_success_at
        shown = iso(last) or "never"
        if last is not None and success != last:
            shown += f" (last success: {iso(success) or 'never'})"
        lines.append(f"  last poll  {shown}")
    if box:
        age = box["oldest_due_age"]
        oldest = f" (oldest due for {ago(age)})" if age is not None else ""
        lines.append(
            f"  outbox     {box['pending']} pending{oldest}, {box['sending']} sending, "
            f"{box['held']} held, {box['retrying']} retrying, {box['dead']} dead"
        )
    if found.alerts_24h is not None:
        lines.append(f"  alerts     {found.alerts_24h} in the last 24h")
    lines += [f"  attention: {p}" for p in found.problems]
    return "\n".join(lines)


@click.command("prune")
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
    group.add_command(status)
    db_group.add_command(db_prune)
