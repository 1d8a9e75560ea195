"""Story growth: when an alerted event has reached a number of distinct sources.

A watchlist's claim on an event remembers the largest number of sources announced so
far (``grown_to``). When the event reaches a threshold above it (``[stories] growth``,
e.g. 5 and 20), one update says "now reported by N sources in M languages" with the
sources that joined since the last word and their headlines; a jump over two
thresholds is one update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from monitor.store.stories import Member

__all__ = ["SHOWN", "grower", "due"]

SHOWN = 10  # new sources listed in an update


def due(
    thresholds: Sequence[int], announced: int, crowd: Sequence[Member], claimed_at: datetime
) -> tuple[int, str] | None:
    """(sources, summary) when a threshold above ``announced`` is reached, else None."""
    first: dict[str, Member] = {}
    for member in crowd:
        first.setdefault(member.source, member)
    sources = len(first)
    reached = [n for n in thresholds if announced < n <= sources]
    if not reached:
        return None
    at_claim = sum(m.seen_at <= claimed_at for m in first.values())
    known = max(announced, at_claim, 1)
    fresh = list(first.values())[known:]
    languages = len({m.language for m in crowd if m.language})
    where = f" in {languages} language{'s' if languages != 1 else ''}" if languages else ""
    lines = [f"Now reported by {sources} sources{where}; new since the last word:"]
    lines += [f"- {m.source}: {' '.join(m.title.split())}" for m in fresh[:SHOWN]]
    if len(fresh) > SHOWN:
        lines.append(f"- and {len(fresh) - SHOWN} more")
    return sources, "\n".join(lines)


def grower(
    thresholds: Sequence[int],
) -> Callable[[int, Sequence[Member], datetime], tuple[int, str] | None]:
    """``due`` for these thresholds, as the store asks for it."""
    return lambda announced, crowd, claimed_at: due(thresholds, announced, crowd, claimed_at)
