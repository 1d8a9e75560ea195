"""``newsmon deliveries``: where every alert's notification stands, and retrying it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.output import counted, emit, iso, listing_options
from monitor.cli.params import ID, TEXT
from monitor.deliver.render import delivery_title
from monitor.model import DeliveryStatus
from monitor.store.db import Database, connect
from monitor.store.outbox import DeliveryRow, list_deliveries, requeue

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register"]


def _open(obj: Obj) -> Database:
    db = connect(obj.settings.database.url)
    db.migrate()
    return db


def delivery_dict(d: DeliveryRow) -> dict[str, Any]:
    return {
        "id": d.id,
        "alert": d.alert_id,
        "notice": d.notice_id,
        "spike": d.spike_id,
        "title": delivery_title(d),
        "channel": d.channel,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": iso(d.created_at),
        "next_attempt_at": iso(d.next_attempt_at) if d.status not in ("sent", "dead") else None,
        "sent_at": iso(d.sent_at),
        "last_error": d.last_error,
        "targets": [
            {"target": t.get("target"), "ok": t.get("ok"), "error": t.get("error")}
            for t in d.targets
        ],
    }


DELIVERY_FIELDS = [
    "id",
    "alert",
    "notice",
    "spike",
    "title",
    "channel",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
    "sent_at",
    "last_error",
    "targets",
]


@click.group()
def deliveries() -> None:
    """The outbox: one delivery per alert and channel.

    \b
    Example:
        newsmon deliveries list --status failed
        newsmon deliveries retry --dead
    """


@deliveries.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in DeliveryStatus]),
    help="Only deliveries in this state.",
)
@click.option("--channel", type=TEXT, help="Only deliveries to this channel.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@listing_options(DELIVERY_FIELDS)
@click.pass_obj
def deliveries_list(
    obj: Obj,
    status: str | None,
    channel: str | None,
    limit: int,
    fmt: str,
    fields: list[str] | None,
) -> None:
    """List deliveries, newest first: status, attempts, next try, last error (masked).

    States: pending (not tried yet), sending (in progress), sent (every target
    accepted it), failed (will be retried), dead (gave up; see `deliveries retry`).

    \b
    Example:
        newsmon deliveries list --status failed
        newsmon deliveries list --channel desk --format json
        newsmon deliveries list --format csv --fields id,alert,status,last_error
    """
    db = _open(obj)
    try:
        rows = [
            delivery_dict(d)
            for d in list_deliveries(db, status=status, channel=channel, limit=limit)
        ]
    finally:
        db.close()
    columns = ["id", "alert", "channel", "status", "attempts", "next_attempt_at", "sent_at"]
    emit(
        rows,
        fmt,
        [*columns, "last_error", "title"],
        "deliveries",
        fields=fields,
        drop=["sent_at", "attempts", "next_attempt_at", "alert", "title"],
    )


@deliveries.command("retry")
@click.argument("ids", type=ID, nargs=-1)
@click.option("--dead", "is_dead", is_flag=True, help="Every dead delivery.")
@click.pass_obj
def deliveries_retry(obj: Obj, ids: tuple[int, ...], is_dead: bool) -> None:
    """Queue failed or dead deliveries for a new round of tries, starting now.

    The running daemon sends them at its next delivery pass (or run `newsmon poll
    --once`). Attempts start again from zero; targets that already accepted the
    message are not sent it again. An ID that is not failed or dead (sent, say) is
    listed with its status, and the command exits 1.

    \b
    Example:
        newsmon deliveries retry 1 2
        newsmon deliveries retry --dead
    """
    if bool(ids) == is_dead:
        raise click.UsageError("give delivery IDs or --dead (one of them)")
    db = _open(obj)
    try:
        done = requeue(db, datetime.now(UTC), ids=ids, is_all_dead=is_dead)
        missing = sorted(set(ids) - set(done))
        known = {d.id: d.status for d in list_deliveries(db, limit=100_000)} if missing else {}
    finally:
        db.close()
    if done:
        click.echo(
            f"queued {counted(len(done), 'delivery', 'deliveries')}: " + ", ".join(map(str, done))
        )
    else:
        click.echo("nothing to retry")
    if missing:
        why = [f"{i} ({known[i]})" if i in known else f"{i} (no such delivery)" for i in missing]
        raise click.ClickException(
            "not retried: " + ", ".join(why) + "; see `newsmon deliveries list`"
        )


def register(group: click.Group) -> None:
    group.add_command(deliveries)
