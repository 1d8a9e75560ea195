"""Tables fit the terminal they are printed on: at 80 and 120 columns no line is wider,
the columns that matter stay, timestamps show to the minute and long titles end in an
ellipsis; printed elsewhere (a pipe, a file) a table is wide and the same whatever the
environment says. The commands run through the CLI on a real poll; a terminal is what
rich takes for one (TTY_COMPATIBLE=1, COLUMNS=width)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.text import Text

from monitor.cli import cli
from monitor.cli.tables import WIDE, fit_widths, print_table, to_minutes

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BOX = "┏┃┡│└"
ARTICLE = (
    "Ukraine and NATO\n\nThe NATO summit in Vilnius talked about Ukraine and the OSCE for "
    "a long time, with Ryabkov's statement read out at the edge of the room.\n"
)


def on_terminal(config: Path, width: int, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), *args],
        env={"TTY_COMPATIBLE": "1", "COLUMNS": str(width)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    shown = ANSI.sub("", result.stdout)
    print(f"$ newsmon {' '.join(args)}  # {width} columns\n{shown}")  # look: pytest -s
    return shown


def header(table: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


# (command, columns that stay at 80, more that stay at 120)
LISTINGS = [
    (["alerts", "list"], ["id", "created_at", "watchlists", "title"], ["terms", "feed"]),
    (["alerts", "search", "Ukraine"], ["id", "title", "snippet"], ["stored_at", "watchlists"]),
    (["feeds", "list"], ["name", "health", "last_poll", "last_error"], ["next_check", "url"]),
    (
        ["deliveries", "list"],
        ["id", "channel", "status", "last_error", "title"],
        ["alert", "attempts"],
    ),
    (["watchlists", "test", "ARTICLE"], ["watchlist", "term", "found", "snippet"], ["how"]),
]


@pytest.mark.parametrize(
    ("command", "kept", "wider"), LISTINGS, ids=[" ".join(c[:2]) for c, _, _ in LISTINGS]
)
@pytest.mark.parametrize("width", [80, 120])
def test_listings_fit_the_terminal(
    polled: Path,  # noqa: F811
    tmp_path: Path,
    command: list[str],
    kept: list[str],
    wider: list[str],
    width: int,
) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    args = [str(article) if a == "ARTICLE" else a for a in command]
    shown = on_terminal(polled, width, *args)
    table = [line for line in shown.splitlines() if line[:1] in BOX]  # not echoed lines
    assert len(table) > 5 and max(len(line) for line in table) <= width
    assert set(kept + (wider if width == 120 else [])) <= set(header(shown))
    assert not re.search(r"\d\d:\d\d:\d\d", shown)  # timestamps to the minute
    if width == 80:
        assert "hidden at this width: " in shown


def test_titles_end_in_an_ellipsis_and_keep_their_start(polled: Path) -> None:  # noqa: F811
    shown = on_terminal(polled, 80, "alerts", "list")
    assert re.search(r"│ Ryabkov says Moscow open to talks o?n?… +│", shown)
    assert re.search(r"│ \d+ +│ \d{4}-\d\d-\d\d \d\d:\d\d │", shown)


def test_stats_fits_and_its_title_names_the_mark(polled: Path) -> None:  # noqa: F811
    for width in (80, 120):
        shown = on_terminal(polled, width, "stats", "--bucket", "hour", "--since", "7d")
        assert max(len(line) for line in shown.splitlines()) <= width
        unit = re.search(r"one mark = (\d+ hours)", shown)
        assert unit and f"Alerts per {unit[1]} by watchlist" in shown
        assert f"per {unit[1]}" in header_line(shown)


def header_line(chart: str) -> str:
    return next(line for line in chart.splitlines() if line.startswith("watchlist"))


def test_the_demo_fits_80_columns(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["demo", "--dir", str(tmp_path / "demo")],
        env={"TTY_COMPATIBLE": "1", "COLUMNS": "80"},
        catch_exceptions=False,
    )
    shown = ANSI.sub("", result.stdout)
    print(shown)
    assert result.exit_code == 0
    tables = [line for line in shown.splitlines() if line[:1] in BOX]
    assert tables and max(len(line) for line in tables) <= 80
    assert {"id", "watchlists", "title"} <= {c for line in tables for c in header_line_cells(line)}


def header_line_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip("┃").split("┃")] if line.startswith("┃") else []


def test_elsewhere_a_table_is_wide_and_stable(polled: Path) -> None:  # noqa: F811
    def piped(columns: str) -> str:
        result = CliRunner().invoke(
            cli, ["--config", str(polled), "alerts", "list"], env={"COLUMNS": columns}
        )
        return result.stdout

    narrow, wide = piped("60"), piped("300")
    assert narrow == wide
    assert "also_reported_by" in narrow and "hidden at this width" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= WIDE


# ------------------------------------------------------------------ the layout itself


def render(width: int, columns: list[str], rows: list[list[str]], **options: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    cells = [[Text(c) for c in row] for row in rows]
    print_table("t", columns, cells, console=console, **options)  # type: ignore[arg-type]
    text = out.getvalue()
    print(text)
    return text


@pytest.mark.parametrize("width", [40, 80, 120])
def test_a_long_title_takes_what_is_left(width: int) -> None:
    title = "Ryabkov: " + "arms control talks " * 10
    shown = render(
        width,
        ["id", "created_at", "title", "source"],
        [["7", "2026-11-04 08:15", title, "Meridian Post"]],
        drop=["source"],
        main="title",
    )
    assert max(len(line) for line in shown.splitlines()) <= width
    assert "│ 7  │ 2026-11-04 08:15 │ Ryabkov: ar" in shown and "…" in shown
    assert ("Meridian Post" in shown) == (width >= 80)


@pytest.mark.parametrize(
    ("natural", "width", "drop", "fitted"),
    [
        ({"id": 2, "title": 70}, 200, [], {"id": None, "title": None}),
        ({"id": 2, "title": 70}, 60, [], {"id": None, "title": 51}),
        ({"id": 2, "a": 16, "title": 70}, 40, ["a"], {"id": None, "title": 31}),
        ({"id": 2, "a": 16, "title": 70}, 60, ["a"], {"id": None, "a": None, "title": 32}),
        # what is left is shared by what each long column lacks
        ({"t": 100, "u": 30}, 87, [], {"t": 59, "u": 21}),
        # narrower than every minimum: each long column gives up its share
        ({"id": 2, "t": 100, "u": 30}, 30, [], {"id": None, "t": 12, "u": 6}),
    ],
    ids=["wide", "title-shortened", "dropped", "kept", "shared", "squeezed"],
)
def test_fit_widths(
    natural: dict[str, int], width: int, drop: list[str], fitted: dict[str, int | None]
) -> None:
    assert fit_widths(natural, width, drop, main="title" if "title" in natural else "t") == fitted


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2026-11-04T08:15:42.123456Z", "2026-11-04 08:15"),
        ("2026-11-04T08:15:42+00:00", "2026-11-04 08:15"),
        ("2026-11-04T08:15:42+01:00", "2026-11-04 08:15+01:00"),
        ("failing since 2026-11-04T08:15:42Z", "failing since 2026-11-04 08:15"),
        ("Report 2026-11-04", "Report 2026-11-04"),
        ("at 2026-11-04T08:15 local", "at 2026-11-04T08:15 local"),
    ],
)
def test_timestamps_to_the_minute(text: str, shown: str) -> None:
    assert to_minutes(text) == shown
