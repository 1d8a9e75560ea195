"""Untrusted text (from feeds and pages) made safe to show a person: on a terminal, in a
file, in a chat message.

``clean`` drops the characters that can make text lie about itself: control characters
(ESC starts terminal escape sequences; tab and newline stay) and the bidirectional
controls (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates, U+200E/U+200F
and U+061C marks), with which "gnp.exe" written right-to-left reads as "exe.png".
``clean_marked`` and ``clean_data`` also move highlight spans so they still cover the
same characters.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

__all__ = ["BIDI", "clean", "clean_data", "clean_marked"]

BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_HIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}]")


def clean(text: str) -> str:
    """``text`` without control and bidirectional-control characters."""
    return _HIDDEN.sub("", text)


def clean_marked(text: str, marks: Sequence[Sequence[int]]) -> tuple[str, list[list[int]]]:
    """``clean(text)``, with each [start, end) span of ``marks`` moved to the same
    characters in the cleaned text."""
    gone = [m.start() for m in _HIDDEN.finditer(text)]
    if not gone:
        return text, [list(span) for span in marks]

    def moved(at: int) -> int:
        return at - bisect_left(gone, at)

    shown = [[moved(start), moved(end)] for start, end, *_ in marks]
    return _HIDDEN.sub("", text), [span for span in shown if span[0] < span[1]]


def _marks_key(key: str) -> str:
    return "marks" if key == "text" else f"{key}_marks"


def clean_data(value: Any) -> Any:
    """Every string in ``value`` (dicts, lists, scalars) cleaned. In a dict, a string
    field ``f`` with a list ``f_marks`` beside it (``text`` with ``marks``) keeps its
    highlight spans on the same characters."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list | tuple):
        return [clean_data(v) for v in value]
    if not isinstance(value, dict):
        return value
    result: dict[Any, Any] = {}
    moved: dict[str, list[list[int]]] = {}
    for key, item in value.items():
        marks = value.get(_marks_key(key)) if isinstance(key, str) else None
        if isinstance(item, str) and isinstance(marks, list):
            result[key], moved[_marks_key(key)] = clean_marked(item, marks)
        else:
            result[key] = clean_data(item)
    result.update(moved)
    return result
