"""A query tree evaluated on the hits of its terms: AND, OR, NOT and NEAR."""

from __future__ import annotations

import re
from typing import NamedTuple

from monitor.query.syntax import And, Near, Node, Not, Or, Regex, Term

__all__ = ["Hit", "evaluate"]

_WORDS = re.compile(r"\w+")


class Hit(NamedTuple):
    field: str
    start: int  # normalised offsets
    end: int
    term: str  # the query part, as written
    how: str


def evaluate(
    node: Node, hits: dict[Term | Regex, list[Hit]], texts: dict[str, str]
) -> tuple[bool, list[Hit]]:
    if isinstance(node, Term | Regex):
        found = hits.get(node, [])
        return bool(found), found
    if isinstance(node, Not):
        is_match, _ = evaluate(node.child, hits, texts)
        return not is_match, []
    if isinstance(node, And):
        results = [evaluate(c, hits, texts) for c in node.children]
        if all(ok for ok, _ in results):
            return True, [h for _, found in results for h in found]
        return False, []
    if isinstance(node, Or):
        # many plain terms under one OR: look only at those that hit
        plain, others = _split_children(node)
        found = [h for leaf, leaf_hits in hits.items() if leaf in plain for h in leaf_hits]
        is_match = bool(found)
        for child in others:
            ok, more = evaluate(child, hits, texts)
            is_match |= ok
            found += more if ok else []
        return is_match, found
    assert isinstance(node, Near)
    _, left = evaluate(node.left, hits, texts)
    _, right = evaluate(node.right, hits, texts)
    near = _near(left, right, node.distance, texts)
    return bool(near), near


def _split_children(node: Or) -> tuple[frozenset[Node], tuple[Node, ...]]:
    """(the terms right under an OR, its other children), computed once per node."""
    cached = node.__dict__.get("_split")
    if cached is None:
        plain = frozenset(c for c in node.children if isinstance(c, Term | Regex))
        cached = (plain, tuple(c for c in node.children if c not in plain))
        object.__setattr__(node, "_split", cached)
    return cached


def _near(left: list[Hit], right: list[Hit], distance: int, texts: dict[str, str]) -> list[Hit]:
    found: dict[Hit, None] = {}
    for a in left:
        for b in right:
            if a.field != b.field:
                continue
            first, second = (a, b) if a.start <= b.start else (b, a)
            between = texts[a.field][first.end : second.start] if second.start > first.end else ""
            if len(_WORDS.findall(between)) <= distance:
                found[a] = None
                found[b] = None
    return list(found)
