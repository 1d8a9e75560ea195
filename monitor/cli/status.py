"""``newsmon status``: health, for people and for monitoring scripts."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.output import format_option, iso
from monitor.cli.params import DURATION
from monitor.cli.where import config_reason
from monitor.model import utcnow
from monitor.watch.status import Limits, Status, ago, check

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["ATTENTION", "register"]

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


def register(group: click.Group) -> None:
    group.add_command(status)
