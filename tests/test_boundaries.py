"""Module boundaries that are easy to blur: each of these libraries is imported by one
module of newsmon only, and test modules share code through tests/helpers/, never by
importing each other or conftest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers.paths import REPO

# library -> the one module that imports it
BEHIND_ONE_MODULE: dict[str, str | tuple[str, ...]] = {
    "ahocorasick_rs": "monitor/match/automaton.py",
    "apprise": "monitor/deliver/notify.py",
    "feedparser": "monitor/sources/feeds.py",
    "lark": "monitor/query/syntax.py",
    "lxml": "monitor/extract/markup.py",
    "matplotlib": "monitor/history/pngchart.py",
    # and language detection: py3langid's model is numpy arrays, read small
    # (monitor/extract/langmodel.py), and its features are counted on them
    # (monitor/extract/language.py)
    "numpy": (
        "monitor/extract/language.py",
        "monitor/extract/langmodel.py",
        "monitor/stories/minhash.py",
    ),
    "prometheus_client": "monitor/metrics.py",
    "trafilatura": "monitor/extract/article.py",
    "w3lib": "monitor/stories/urlkeys.py",
}


def _imported(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("library", sorted(BEHIND_ONE_MODULE))
def test_a_library_sits_behind_one_module(library: str) -> None:
    importers = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "monitor").rglob("*.py")
        if library in _imported(path)
    )
    wanted = BEHIND_ONE_MODULE[library]
    assert importers == sorted([wanted] if isinstance(wanted, str) else wanted)


def test_test_modules_do_not_import_each_other() -> None:
    tests = REPO / "tests"
    modules = {p.stem for p in tests.glob("*.py")}  # test_*.py and conftest
    found = {
        str(path.relative_to(tests)): sorted(_imported(path) & modules)
        for path in [*tests.glob("*.py"), *(tests / "helpers").glob("*.py")]
    }
    assert {path: names for path, names in found.items() if names} == {}
