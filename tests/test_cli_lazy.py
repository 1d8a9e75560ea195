"""The lazy command groups: help without importing the commands, suggestions for typos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers.interpreter import cli_imports, last_json, run_python

# prints the help of PATH as the lazy group gives it, the command modules that took, and
# the help again once every command is loaded
HELP_BEFORE_AND_AFTER = """
import json, sys
from monitor.cli.reference import commands, help_text
path = tuple(sys.argv[1:])
lazy = help_text(path)
loaded = sorted(m for m in sys.modules if m.startswith("monitor.cli.") and "reference" not in m)
heavy = sorted(m for m in ("sqlalchemy", "pydantic", "rich", "httpx") if m in sys.modules)
list(commands())
print(json.dumps({"lazy": lazy, "loaded": loaded, "heavy": heavy, "full": help_text(path)}))
"""


@pytest.mark.parametrize(
    ("path", "modules"),
    [
        ((), ["monitor.cli.lazy"]),
        (
            ("alerts",),
            [
                "monitor.cli.alerts",
                "monitor.cli.lazy",
                "monitor.cli.output",
                "monitor.cli.params",
                "monitor.cli.tables",
            ],
        ),
    ],
    ids=["newsmon", "alerts"],
)
def test_help_lists_commands_without_importing_them(
    path: tuple[str, ...], modules: list[str]
) -> None:
    found = last_json(run_python(HELP_BEFORE_AND_AFTER, *path))
    assert found["loaded"] == modules
    assert found["lazy"] == found["full"]  # the summaries are the commands' own help
    if not path:
        assert found["heavy"] == []
    assert "Commands:" in found["lazy"]


@pytest.mark.parametrize(
    ("args", "typo", "suggested"),
    [
        (["alert", "list"], "alert", "alerts"),
        (["wachlists", "show"], "wachlists", "watchlists"),
        (["alerts", "shw", "1"], "shw", "show"),
        (["alerts", "lst"], "lst", "list"),
        (["feeds", "lst"], "lst", "list"),
        (["db", "upgrad"], "upgrad", "upgrade"),
    ],
    ids=["top-level", "top-level-2", "lazy-subcommand", "subcommand", "feeds", "db"],
)
def test_a_mistyped_command_is_told_the_closest(args: list[str], typo: str, suggested: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert f"No such command {typo!r}." in done.stderr
    assert f"Did you mean '{suggested}'?" in done.stderr, done.stderr


def test_an_unknown_command_far_from_any_gets_no_guess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "frobnicate"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "No such command 'frobnicate'." in done.stderr
    assert "Did you mean" not in done.stderr


# what listing alerts has no use for when the database is current
LIST_HEAVY = (
    "pydantic",
    "lark",
    "apscheduler",
    "alembic",
    "httpx",
    "apprise",
    "trafilatura",
    "numpy",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.orm",
    "rich",
    "monitor.config.settings",
)


def test_alerts_list_reads_only_the_database_url(tmp_path: Path) -> None:
    """A current database is listed without the config's validation and its libraries,
    nor the ORM, nor rich (JSON prints no table); a mistake elsewhere in the config is
    left to `config check`."""
    config = tmp_path / "newsmon.toml"
    url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    upgrade = [sys.executable, "-m", "monitor", "--config", str(config), "db", "upgrade"]
    subprocess.run(upgrade, check=True, capture_output=True)
    with config.open("a", encoding="utf-8") as out:
        out.write('[http]\ntimeout = "soon"\n')  # wrong, and not needed to list
    found, printed = cli_imports(
        ["--config", str(config), "alerts", "list", "--format", "json"], LIST_HEAVY
    )
    assert found == {"code": 0, "heavy": []}
    assert printed[0] == "[]"  # the empty list, as JSON
    check = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "config", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1 and "timeout" in check.stderr


# `newsmon` as its script runs it, with one more command that tells whether the garbage
# collector runs while a command runs, and how many objects it was told to leave alone
GC_DURING_A_COMMAND = """
import gc, sys, click
from monitor import cli
@click.command("gc-state")
def state() -> None:
    print(gc.isenabled(), gc.get_freeze_count() > 0)
cli.cli.add_command(state)
sys.argv = ["newsmon", "gc-state"]
cli.main()
"""


def test_the_collector_runs_while_a_command_runs() -> None:
    """main() holds the garbage collector back only while start-up imports: a long-running
    command (the daemon) collects as usual."""
    done = subprocess.run(
        [sys.executable, "-c", GC_DURING_A_COMMAND],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["True", "True"]
