"""The lazy command groups: help without importing the commands, suggestions for typos."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO

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
        (("alerts",), ["monitor.cli.alerts", "monitor.cli.lazy", "monitor.cli.output"]),
    ],
    ids=["newsmon", "alerts"],
)
def test_help_lists_commands_without_importing_them(
    path: tuple[str, ...], modules: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", HELP_BEFORE_AND_AFTER, *path],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
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
