"""Listing tables that fit the terminal they are printed on.

On a terminal a table is at most as wide as the terminal; anywhere else (a pipe, a
file) it is ``WIDE`` columns whatever the environment, so the output is stable. In a
table, timestamps show to the minute (UTC unless an offset is shown). Columns of short
values keep their width; columns of longer text (titles, snippets, errors) share what
is left and end in an ellipsis, no narrower than ``_MIN_TEXT``; when even that does not
fit, the command's optional columns are left out, least useful first.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich itself is imported when a table is printed, not before
    from rich.console import Console
    from rich.text import Text

__all__ = ["WIDE", "fit_widths", "print_table", "terminal_width", "to_minutes"]

WIDE = 200  # the width of a table that is not printed on a terminal
_SHORT = 16  # a column no wider than this is never shortened
_MIN_TEXT = 16  # a longer column is not shortened below this
_MIN_MAIN = 32  # nor the main one (the title), unless the terminal is too narrow
_MACHINE_TIME = re.compile(
    r"\b(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d(?:\.\d+)?(Z|[+-]\d\d:\d\d)(?![\w:])"
)


def terminal_width(wide: int = WIDE) -> int:
    """The terminal's width when stdout is one, else ``wide``."""
    from rich.console import Console

    console = Console(file=sys.stdout)
    return console.width if console.is_terminal else wide


def to_minutes(text: str) -> str:
    """Machine timestamps (``2026-11-04T08:15:42.123Z``) as ``2026-11-04 08:15``."""
    return _MACHINE_TIME.sub(
        lambda m: f"{m[1]} {m[2]}" + ("" if m[3] in ("Z", "+00:00") else m[3]), text
    )


def _natural(header: str, cells: Sequence[Text]) -> int:
    from rich.cells import cell_len

    lines = [header, *(line for t in cells for line in t.plain.split("\n"))]
    return max(cell_len(line) for line in lines)


def _overhead(columns: int) -> int:
    """Borders and padding of a boxed table: a left edge, then per column a space either
    side and a border."""
    return 1 + 3 * columns


def fit_widths(
    natural: dict[str, int], width: int, drop: Sequence[str] = (), main: str | None = None
) -> dict[str, int | None]:
    """Which columns (in order) fit in ``width``, and the width of each one shortened
    (None: as wide as its widest cell). Columns named in ``drop`` are left out, first to
    last, while the rest does not fit with every long column at ``_MIN_TEXT`` and the
    ``main`` one (the title) at ``_MIN_MAIN``."""
    shown = list(natural)
    left = [c for c in drop if c in shown]

    def least(column: str) -> int:
        if natural[column] <= _SHORT:
            return natural[column]
        return min(natural[column], _MIN_MAIN if column == main else _MIN_TEXT)

    while left and _overhead(len(shown)) + sum(least(c) for c in shown) > width:
        shown.remove(left.pop(0))
    fixed = [c for c in shown if natural[c] <= _SHORT]
    long = [c for c in shown if c not in fixed]
    room = width - _overhead(len(shown)) - sum(natural[c] for c in fixed)
    given = {c: least(c) for c in long}
    floor = sum(given.values())
    if room < floor:  # narrower still: every long column gives up its share
        given = {c: max(1, given[c] * max(room, 0) // floor) for c in long}
    else:  # room to spare: shared in proportion to what each still lacks
        lacking = {c: natural[c] - given[c] for c in long}
        total = sum(lacking.values())
        spare = room - floor
        for c in long:
            given[c] += min(lacking[c], spare * lacking[c] // total) if total else 0
        spare = room - sum(given.values())
        for c in sorted(long, key=lambda c: c != main):  # what rounding left: main first
            more = min(spare, natural[c] - given[c])
            given[c] += more
            spare -= more
    return {c: (given[c] if c in given and given[c] < natural[c] else None) for c in shown}


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Text]],
    *,
    drop: Sequence[str] = (),
    main: str | None = None,
    console: Console | None = None,
) -> None:
    """``rows`` of cells under ``columns``, fitted to the console's width (default: the
    terminal's, or ``WIDE``), leaving out columns of ``drop`` if need be; a note says
    which."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(file=sys.stdout, width=terminal_width())
    natural = {c: _natural(c, [row[i] for row in rows]) for i, c in enumerate(columns)}
    widths = fit_widths(natural, console.width, drop, main)
    table = Table(title=title or None, show_lines=False)
    for column, fixed in widths.items():
        table.add_column(column, width=fixed, no_wrap=True, overflow="ellipsis")
    index = [list(columns).index(c) for c in widths]
    for row in rows:
        table.add_row(*(row[i] for i in index))
    console.print(table)
    if left_out := [c for c in columns if c not in widths]:
        console.print(
            f"hidden at this width: {', '.join(left_out)} (see --fields)",
            style="dim",
            highlight=False,
        )
