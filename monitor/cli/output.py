"""Shared output for listings: ``--format table|json|ndjson|csv`` and ``--fields a,b,c``.

A listing builds one dict per row and hands it to ``emit``. JSON and NDJSON carry every
field unless ``--fields`` names some; the table and CSV show the command's default
columns unless ``--fields`` names others. A row may carry ``<field>_marks``, a list of
[start, end) spans of its ``<field>`` text to highlight in the table (search hits).

Every format is for people as much as for scripts: text from feeds reaches the terminal,
a file or a spreadsheet without control and bidirectional-control characters
(``monitor.display``), its highlight spans moved to match; JSON too (``echo_json``). CSV
is written by the one CSV writer, ``monitor.history.csvsafe``, which defuses formulas.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor.cli.tables import print_table, to_minutes
from monitor.display import clean_data
from monitor.history.csvsafe import CsvWriter, as_text

if TYPE_CHECKING:
    from rich.text import Text

__all__ = [
    "FORMATS",
    "HIGHLIGHT",
    "counted",
    "echo_json",
    "emit",
    "fields_option",
    "format_option",
    "iso",
    "listing_options",
    "styled",
]

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "ndjson", "csv")
HIGHLIGHT = "bold black on yellow"


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices or FORMATS)),
        default=default,
        show_default=True,
        help="Output format: a readable table, or JSON, NDJSON (one object per line) or "
        "CSV for scripts.",
    )


def fields_option(available: Sequence[str]) -> Callable[[F], F]:
    """``--fields a,b,c``: these fields, in this order; an unknown name is an error that
    lists the available ones."""
    names = list(available)

    def check(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
        if value is None:
            return None
        chosen = [n.strip() for n in value.split(",") if n.strip()]
        if not chosen:
            raise click.BadParameter(f"name one or more fields: {', '.join(names)}")
        unknown = [n for n in chosen if n not in names]
        if unknown:
            raise click.BadParameter(
                f"unknown field{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(n) for n in unknown)}; available: {', '.join(names)}"
            )
        return list(dict.fromkeys(chosen))

    return click.option(
        "--fields",
        callback=check,
        metavar="A,B,C",
        help=f"Only these fields, in this order. Available: {', '.join(names)}.",
    )


def listing_options(available: Sequence[str]) -> Callable[[F], F]:
    """``--format`` (table, json, ndjson, csv) and ``--fields`` for a listing."""

    def decorate(command: F) -> F:
        return format_option(*FORMATS)(fields_option(available)(command))

    return decorate


def counted(count: int, word: str, words: str | None = None) -> str:
    """``1 channel``, ``2 channels``, ``0 deliveries`` (``words``: an irregular plural)."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def echo_json(value: Any, *, is_one_line: bool = False, is_clean: bool = False) -> None:
    """``value`` as JSON on stdout, its text cleaned (``monitor.display.clean_data``)
    unless ``is_clean`` says it was: indented, or on one line (for NDJSON)."""
    data = value if is_clean else clean_data(value)
    click.echo(json.dumps(data, ensure_ascii=False, indent=None if is_one_line else 2))


def styled(text: str, marks: Sequence[Sequence[int]] | None, style: str = HIGHLIGHT) -> Text:
    """Plain text (never read as markup), with the marked spans highlighted."""
    from rich.text import Text  # rich is imported only to print a table

    shown = Text(text)
    for start, end in marks or ():
        shown.stylize(style, start, end)
    return shown


def emit(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    columns: Sequence[str],
    title: str = "",
    *,
    fields: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    main: str = "title",
) -> None:
    """Print rows as JSON, NDJSON (every field, or ``fields``), CSV or a table (``columns``,
    or ``fields``). A table fits the terminal (``monitor.cli.tables``): the columns of
    ``drop`` are left out, first to last, while it would not fit (never ``fields``), and
    ``main`` gets the most room."""
    rows = clean_data(list(rows))  # before --fields drops the marks spans refer to
    if fmt in ("json", "ndjson"):
        chosen = [{k: row.get(k) for k in fields} for row in rows] if fields else rows
        if fmt == "json":
            echo_json(chosen, is_clean=True)
        else:
            for row in chosen:
                echo_json(row, is_one_line=True, is_clean=True)
        return
    shown = list(fields or columns)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = CsvWriter(buffer)
        writer.row(shown)
        writer.rows([row.get(k) for k in shown] for row in rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    cells = [[_table_cell(row, c) for c in shown] for row in rows]
    print_table(title, shown, cells, drop=() if fields else drop, main=main)


def _table_cell(row: dict[str, Any], column: str) -> Text:
    from rich.text import Text

    marks = row.get(f"{column}_marks")
    text = as_text(row.get(column))
    return styled(text, marks) if marks else Text(to_minutes(text))
