"""The error tree drawn in monitor/errors.py's docstring is drawn again here from the
classes themselves, so the drawing cannot drift from the code; and every error newsmon
defines lives in that one module."""

from __future__ import annotations

import importlib
import pkgutil
import re

import monitor
from monitor import errors
from monitor.errors import NewsmonError

# a line of the drawing: "    " then the branches, then a class name or a description
LINE = re.compile(r"^    (?P<branches>(?:[│ ]   |[├└]── )*)(?P<rest>.*)$")
NAME = re.compile(r"^(?:NewsmonError|\w+Error)\b")


def _children(cls: type[NewsmonError]) -> list[type[NewsmonError]]:
    return [c for c in cls.__subclasses__() if c.__module__ == errors.__name__]


def _draw(cls: type[NewsmonError], prefix: str = "") -> list[tuple[str, str]]:
    """(branches, name) per class below ``cls``, in the order the module defines them."""
    lines: list[tuple[str, str]] = []
    kids = _children(cls)
    for i, kid in enumerate(kids):
        is_last = i == len(kids) - 1
        lines.append((prefix + ("└── " if is_last else "├── "), kid.__name__))
        lines += _draw(kid, prefix + ("    " if is_last else "│   "))
    return lines


def _drawing() -> list[tuple[str, str]]:
    """(branches, first word) of each line of the docstring's tree, descriptions and all."""
    doc = errors.__doc__ or ""
    block = doc.split("\n\n")[1]  # the paragraph after the summary line
    found = []
    for line in block.splitlines():
        m = LINE.match(line)
        assert m is not None, f"not a line of the tree: {line!r}"
        found.append((m["branches"], m["rest"].split(" ")[0]))
    return found


def test_the_docstring_draws_the_classes() -> None:
    drawing = _drawing()
    names = [(b, w) for b, w in drawing if NAME.match(w)]
    assert names == [("", "NewsmonError"), *_draw(NewsmonError)]


def test_description_lines_continue_their_branch() -> None:
    """A description that wraps keeps the branches of its class: a "│" below a class goes
    on to that class's children."""
    expected = ""
    for branches, word in _drawing():
        if NAME.match(word):
            below = branches.replace("├── ", "│   ").replace("└── ", "    ")
            expected = below + ("│   " if _children(getattr(errors, word)) else "    ")
        else:
            assert branches.rstrip() == expected.rstrip(), (word, branches)


def test_every_error_is_in_the_tree_and_exported() -> None:
    drawn = {name for _, name in _draw(NewsmonError)} | {"NewsmonError"}
    assert set(errors.__all__) == drawn
    for name in drawn:
        assert issubclass(getattr(errors, name), NewsmonError)


def test_no_error_class_lives_outside_errors_py() -> None:
    for info in pkgutil.walk_packages(monitor.__path__, "monitor."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    stack, outside = [NewsmonError], []
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        if cls.__module__ != errors.__name__:
            outside.append(f"{cls.__module__}.{cls.__qualname__}")
    assert outside == []
