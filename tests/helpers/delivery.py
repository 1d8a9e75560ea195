"""The sample feed "novosti" polled once, its alerts queued and nothing sent yet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.config.settings import load
from monitor.pipeline.assembly import close_context, open_context
from monitor.pipeline.context import Context
from monitor.pipeline.cycle import run_cycle
from monitor.store.alerts import list_alerts

NOVOSTI_ALERTS = 4  # what the sample feed "novosti" raises (see test_pipeline.EXPECTED)


@contextmanager
def raised(config: Path, feeds: tuple[str, ...] = ("novosti",)) -> Iterator[Context]:
    """A context whose feeds have been polled once: alerts are queued, nothing sent."""
    ctx = open_context(load(config))
    try:
        run_cycle(ctx, names=list(feeds), is_forced=True)
        yield ctx
    finally:
        close_context(ctx)


def statuses(ctx: Context) -> list[str]:
    return sorted(d.status for a in list_alerts(ctx.db, limit=1000) for d in a.deliveries)
