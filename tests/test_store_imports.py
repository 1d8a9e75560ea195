"""The store only stores: monitor/store/ imports nothing of newsmon but itself, the values
passed between stages (monitor.model) and the error tree (monitor.errors). Schedules,
rendering and query compilation belong to their stages, which hand the store plain data."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

STORE = Path(__file__).resolve().parent.parent / "monitor" / "store"
OURS = ("monitor.store", "monitor.model", "monitor.errors")
LIBRARIES = {"sqlalchemy", "alembic"}  # the database, and its migrations (store/db.py)


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (at the top or inside a function), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, inside monitor/store
                found.append((node.lineno, "monitor.store"))
            elif node.module == "monitor":  # from monitor import schedule
                found += [(node.lineno, f"monitor.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module or ""))
    return found


def is_allowed(module: str) -> bool:
    if module == "monitor" or module.startswith("monitor."):
        return any(module == ok or module.startswith(ok + ".") for ok in OURS)
    top = module.split(".")[0]
    return top in LIBRARIES or top in sys.stdlib_module_names or top == "__future__"


@pytest.mark.parametrize("path", sorted(STORE.glob("*.py")), ids=lambda p: p.name)
def test_store_imports_only_store_model_and_errors(path: Path) -> None:
    wrong = [f"{path.name}:{line}: {m}" for line, m in imported(path) if not is_allowed(m)]
    assert wrong == []


def test_the_rule_sees_what_it_forbids(tmp_path: Path) -> None:
    """The check finds a stage's import, at the top, inside a function, and as a name."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from monitor.schedule import backoff\n"
        "from monitor import render\n"
        "import httpx\n"
        "def f():\n"
        "    from monitor.config.settings import Settings\n"
        "from monitor.store.db import Database\n"
        "from monitor.model import Entry\n"
        "import sqlalchemy.orm\n"
    )
    wrong = [m for _, m in imported(sample) if not is_allowed(m)]
    assert wrong == ["monitor.schedule", "monitor.render", "httpx", "monitor.config.settings"]
