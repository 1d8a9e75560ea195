"""Noise control for one channel: digests, quiet hours, rate limits, and the severity and
urgency an alert carries into a channel. Pure functions over settings and times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from monitor.config.settings import ChannelSettings, Settings, parse_quiet_hours, parse_rate
from monitor.scheduler import next_fire, zone

__all__ = ["SEVERITIES", "digest_at", "quiet_until", "rate_free_at", "rating"]

SEVERITIES = ("info", "warning", "critical")


def digest_at(channel: ChannelSettings, created_at: datetime) -> datetime:
    """When the digest that carries an alert created at ``created_at`` goes out."""
    assert channel.schedule is not None
    return next_fire(channel.schedule, channel.timezone, created_at)


def quiet_until(channel: ChannelSettings, now: datetime) -> datetime | None:
    """The end of the channel's quiet hours when ``now`` is inside them, else None."""
    if channel.quiet_hours is None:
        return None
    start, end = parse_quiet_hours(channel.quiet_hours)
    tz = zone(channel.timezone)
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    is_quiet = start <= minute < end if start < end else (minute >= start or minute < end)
    if not is_quiet:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    until = datetime.combine(day, time(end // 60, end % 60), tzinfo=tz)
    return until.astimezone(UTC)


def rate_free_at(channel: ChannelSettings, recent: Sequence[datetime]) -> datetime | None:
    """When the channel may send again, given its most recent sends (newest first), or
    None when it may send now."""
    if channel.rate_limit is None:
        return None
    count, seconds = parse_rate(channel.rate_limit)
    if len(recent) < count:
        return None
    return recent[count - 1] + timedelta(seconds=seconds)


def rate_window(channel: ChannelSettings) -> tuple[int, float] | None:
    return parse_rate(channel.rate_limit) if channel.rate_limit else None


def rating(settings: Settings, channel: str, watchlists: Sequence[str]) -> tuple[str, bool]:
    """(severity, is_urgent) of an alert in ``channel``: the highest severity, and whether
    any, of the matched watchlists that route to this channel."""
    routed = [
        settings.watchlist[w]
        for w in watchlists
        if w in settings.watchlist and channel in settings.watchlist[w].channels
    ] or [settings.watchlist[w] for w in watchlists if w in settings.watchlist]
    if not routed:
        return "info", False
    severity = max((w.severity for w in routed), key=SEVERITIES.index)
    return severity, any(w.urgent for w in routed)
