"""Spike detection, after each poll pass: is a watchlist suddenly busier than usual?

For each watchlist watched for spikes (``[spikes]``, ``spike = ...``), its new alerts in
the last ``window`` are compared with the usual number per window, averaged over the
``baseline`` before it. It spikes while the count reaches ``factor`` times that, and at
least ``min_count``. A spike alerts its watchlist's channels once, through the outbox;
it ends when the count falls below the threshold again, and a later rise is a new spike.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from monitor.context import Context
from monitor.pipeline import FeedResult
from monitor.store.spikes import Reading, SpikeView, record_readings, volumes
from monitor.units import exact_duration

__all__ = ["check_spikes"]

log = logging.getLogger("newsmon.spikes")


def check_spikes(ctx: Context, results: Sequence[FeedResult] | None = None) -> list[SpikeView]:
    """Read every watched watchlist's volume at ``ctx.clock()`` and record spikes; the
    spikes that started now. Given a poll pass's ``results``, nothing is read when the
    pass polled no feed (the daemon's idle ticks)."""
    rules = ctx.settings.spike_rules()
    if not rules or (results is not None and not results):
        return []
    now = ctx.clock()
    by_lengths: dict[tuple[float, float], list[str]] = defaultdict(list)
    for name, rule in rules.items():
        by_lengths[(rule.window, rule.baseline)].append(name)
    readings = []
    for (window, baseline), names in by_lengths.items():
        found = volumes(ctx.db, names, now, window, baseline)
        for name in names:
            count, earlier = found.get(name, (0, 0))
            rule = rules[name]
            expected = earlier * window / baseline
            threshold = rule.threshold(expected)
            readings.append(
                Reading(name, count, expected, threshold, window, baseline, rule.factor)
            )
    opened = record_readings(ctx.db, readings, now, ctx.settings.routes())
    for spike in opened:
        log.info(
            "spike watchlist=%s spike=%d alerts=%d window=%s usual=%.1f",
            spike.watchlist,
            spike.id,
            spike.count,
            exact_duration(spike.window),
            spike.expected,
        )
    return opened
