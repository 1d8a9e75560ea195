"""What a hostile feed writes reaches the terminal, a file or a spreadsheet as inert text:
CSV cells never become formulas (one writer for every command), and bidirectional
controls never reach any output. A real feed is served and polled; the commands run
through the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import hook_url, write_config
from helpers.hostile import FORMULA, SPOOFED
from monitor.cli import cli
from monitor.demo.server import Receiver, Site
from monitor.display import clean, clean_data, clean_marked
from monitor.history.csvsafe import cell

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
HIDDEN = re.compile(f"[{BIDI}]")
FORMULA_START = re.compile("^[=+\\-@\t\r]")


def invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _csv(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


@pytest.mark.parametrize(
    "command",
    [
        ["alerts", "list", "--format", "csv"],
        ["alerts", "search", "Ukraine", "--format", "csv"],
        ["deliveries", "list", "--format", "csv"],
        ["alerts", "export", "--format", "csv"],
    ],
    ids=["alerts-list", "alerts-search", "deliveries-list", "alerts-export"],
)
def test_csv_from_every_command_defuses_formulas(polled: Path, command: list[str]) -> None:
    out = invoke(polled, *command)
    rows = _csv(out)
    assert {r["title"] for r in rows} >= {"'" + FORMULA, clean(SPOOFED)}
    assert not HIDDEN.search(out)
    # no cell a spreadsheet would run; every text cell quoted, quotes doubled
    assert not [v for r in rows for v in r.values() if FORMULA_START.match(v)]
    assert '"\'=HYPERLINK(""http://evil.example/x"",""Ukraine click"")"' in out
    # ids stay bare numbers
    assert all(re.match(r"\d+,", line) for line in out.splitlines()[1:])


def test_bidi_controls_never_reach_the_terminal_or_json(polled: Path, tmp_path: Path) -> None:
    listed = json.loads(invoke(polled, "alerts", "list", "--format", "json"))
    spoofed = next(r for r in listed if r["title"].startswith("Ukraine invoice"))
    assert spoofed["title"] == clean(SPOOFED) == "Ukraine invoice gnp.exe شكرا"
    outputs = {
        "list table": invoke(polled, "alerts", "list", "--feed", "hostile"),
        "list json": json.dumps(listed, ensure_ascii=False),
        "list ndjson": invoke(polled, "alerts", "list", "--format", "ndjson"),
        "show": invoke(polled, "alerts", "show", str(spoofed["id"])),
        "show json": invoke(polled, "alerts", "show", str(spoofed["id"]), "--format", "json"),
        "search": invoke(polled, "alerts", "search", "Ukraine"),
        "search json": invoke(polled, "alerts", "search", "Ukraine", "--format", "json"),
        "deliveries": invoke(polled, "deliveries", "list"),
    }
    for fmt in ("json", "csv", "atom"):
        path = tmp_path / f"alerts.{fmt}"
        invoke(polled, "alerts", "export", "--format", fmt, "-o", str(path))
        outputs[f"export {fmt}"] = path.read_text(encoding="utf-8")
    assert {k: v for k, v in outputs.items() if HIDDEN.search(v)} == {}
    assert "gnp.exe" in outputs["show"] and "gnp.exe" in outputs["list table"]
    # highlight spans still cover the hit once the controls before it are gone
    shown = json.loads(outputs["show json"])
    assert [shown["title"][a:b] for a, b in shown["title_marks"]] == ["Ukraine"]
    found = json.loads(outputs["search json"])
    for row in found:
        assert {row["snippet"][a:b] for a, b in row["snippet_marks"]} == {"Ukraine"}


# ------------------------------------------------------------------ the cells themselves


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        (FORMULA, "'" + FORMULA),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2+3", "'-2+3"),
        ("- a list", "'- a list"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'=cmd"),
        ("  =1+2", "'  =1+2"),
        ("\uff1d1+2", "'\uff1d1+2"),
        ('=1+2";=1+2', "'=1+2\";=1+2"),
        ("\u202e=1+2", "'=1+2"),
        ("Ukraine = 1", "Ukraine = 1"),
        ("a@b.example", "a@b.example"),
        ("", ""),
        (None, ""),
        (3, 3),
        (-3, -3),
        (-3.5, -3.5),
        ("-3.5", "-3.5"),
        ("+7", "+7"),
        ("1e-3", "1e-3"),
        (True, "True"),
        (["=a", "b"], "'=a, b"),
        (["a", "=b"], "a, =b"),
        ([{"channel": "chat", "status": "sent"}], "channel=chat status=sent"),
    ],
    ids=lambda v: repr(v),
)
def test_csv_cell(value: object, written: object) -> None:
    assert cell(value) == written
    assert type(cell(value)) is type(written)


def test_csv_quotes_text_cells_and_leaves_numbers_bare() -> None:
    from monitor.history.csvsafe import CsvWriter

    out = io.StringIO()
    writer = CsvWriter(out)
    writer.rows([["id", "title"], [7, 'a;=1+2 "q"'], [-3.5, "=x"]])
    assert out.getvalue() == '"id","title"\r\n7,"a;=1+2 ""q"""\r\n-3.5,"\'=x"\r\n'


@pytest.mark.parametrize(
    ("text", "marks", "shown", "kept"),
    [
        ("NATO", [[0, 4]], "NATO", ["NATO"]),
        ("\u202eNATO\u202c and OSCE", [[1, 5], [11, 15]], "NATO and OSCE", ["NATO", "OSCE"]),
        ("a\u200f\u200fNATO", [[3, 7]], "aNATO", ["NATO"]),
        ("N\u2066AT\u2069O", [[0, 6]], "NATO", ["NATO"]),
        ("\x1b[31mNATO", [[5, 9]], "[31mNATO", ["NATO"]),
        ("\u202e\u202c", [[0, 2]], "", []),
    ],
    ids=["none", "around", "before", "inside", "escape", "only-controls"],
)
def test_clean_marked_moves_spans(
    text: str, marks: list[list[int]], shown: str, kept: list[str]
) -> None:
    cleaned, moved = clean_marked(text, marks)
    assert cleaned == shown and [cleaned[a:b] for a, b in moved] == kept


def test_clean_data_keeps_marks_beside_their_text() -> None:
    data = {
        "snippet_marks": [[1, 5]],
        "snippet": "\u202eNATO",
        "excerpt": {"text": "\u2066NATO", "marks": [[1, 5]]},
        "hits": [{"found": "\u200eNATO", "start": 1, "end": 5}],
        "id": 3,
    }
    assert clean_data(data) == {
        "snippet_marks": [[0, 4]],
        "snippet": "NATO",
        "excerpt": {"text": "NATO", "marks": [[0, 4]]},
        "hits": [{"found": "NATO", "start": 1, "end": 5}],
        "id": 3,
    }


def test_counts_agree_with_their_nouns(site: Site, hook: Receiver, tmp_path: Path) -> None:
    config = write_config(tmp_path / "n.toml", "sqlite:///x.db", site, {"chat": [hook_url(hook)]})
    out = invoke(config, "config", "check")
    assert out.endswith(": 3 feeds, 4 watchlists, 1 channel\n")
