"""The watchlist query language, parsed by lark (imported on first parse) into a small tree.

    Рябков                 a word, matched whole ("Рябков's", "anti-Рябков", not "Рябковский")
    "North Atlantic"       a phrase: these words in this order, separated by spaces
    Рябков*                a suffix wildcard: words that start with "Рябков" (3+ letters before *)
    a b, a AND b           both (a space between terms means AND, as in a search engine)
    a OR b                 either
    NOT a, -a              the article must not contain a
    ( ... )                grouping
    a NEAR/10 b            a and b in the same field with at most 10 words between them
    title:a  text:a        only in the title, only in the main text
    source:tass            the article's source (site name and web address)
    /regex/                a regular expression over the normalised text, ignoring case, run
                           by RE2 in linear time (monitor.query.regex says what it refuses)

Operators are upper case (``AND``, ``OR``, ``NOT``, ``NEAR``); quote a word to search for
it literally ("OR"). A query must be able to match through a term that is not negated.
A query is at most MAX_CHARS long, nests at most MAX_PARENS parentheses and chains at most
MAX_NEAR NEARs and MAX_PREFIXES NOT/-/field: in a row: the tree stays shallow enough for
every walk over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from monitor.query.regex import RegexError, UserRegex, compile_user_regex

if TYPE_CHECKING:  # lark is imported when a query is first parsed (see _builder)
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

__all__ = [
    "And",
    "compile_regex",
    "Near",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Regex",
    "Term",
    "has_near",
    "leaves",
    "parse_query",
    "term_node",
    "to_text",
]

FIELDS = ("title", "text", "source")
DEFAULT_NEAR = 10
MIN_PREFIX = 3
MAX_CHARS = 10_000
MAX_PARENS = 16
MAX_NEAR = 64
MAX_PREFIXES = 4
MAX_DEPTH = 200

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: near_expr (AND? near_expr)*
?near_expr: unary (NEAR unary)*
?unary: NOT unary -> negation
      | MINUS unary -> negation
      | FIELD unary -> scoped
      | atom
?atom: WORD -> word
     | PHRASE -> phrase
     | REGEX -> regex
     | "(" or_expr ")"

OR.3: /OR(?=[\s()"]|$)/
AND.3: /AND(?=[\s()"]|$)/
NOT.3: /NOT(?=[\s()"]|$)/
NEAR.3: /NEAR(\/\d+)?(?=[\s()"]|$)/
FIELD.3: /(title|text|source):(?=\S)/
MINUS.2: /-(?=[^\s\-])/
PHRASE.2: /"[^"]*"/
REGEX.2: /\/(\\.|[^\/\\])+\//
WORD: /[^\s()"]+/
%ignore /\s+/
"""

_EXPECTED = {
    "RPAR": "')'",
    "WORD": "a word",
    "PHRASE": 'a "quoted phrase"',
    "REGEX": "a /regex/",
    "LPAR": "'('",
    "OR": "OR",
    "AND": "AND",
    "NOT": "NOT",
    "MINUS": "-",
    "NEAR": "NEAR/n",
    "FIELD": "title:, text: or source:",
    "$END": "the end of the query",
}


class QueryError(ValueError):
    """A query that cannot be parsed or cannot work; ``position`` is 1-based."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        self.query = query
        self.position = position
        self.problem = problem
        shown = query if len(query) <= 100 else f"{query[:80]}…({len(query)} characters)"
        super().__init__(f"{shown!r}: at character {position}: {problem}")


@dataclass(frozen=True, eq=False)
class Term:
    """Words to find in sequence. A word ending in ``*`` is a prefix."""

    words: tuple[str, ...]
    source: str  # as written in the query, for provenance
    fields: tuple[str, ...] | None = None  # None: the watchlist's fields
    is_literal: bool = False  # a plain `terms` entry: "*" is not a wildcard

    def prefix_at(self, i: int) -> bool:
        return not self.is_literal and len(self.words[i]) > 1 and self.words[i].endswith("*")


@dataclass(frozen=True, eq=False)
class Regex:
    pattern: str
    source: str
    fields: tuple[str, ...] | None = None


@dataclass(frozen=True, eq=False)
class Not:
    child: Node


@dataclass(frozen=True, eq=False)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Near:
    left: Node
    right: Node
    distance: int


Node = Term | Regex | Not | And | Or | Near


@lru_cache(maxsize=1)
def _builder() -> Any:
    """The transformer class that builds a Node tree from lark's parse tree. lark is
    imported here and where a query is parsed, not with this module: matching, and a
    config whose watchlists have terms only, never parse one (20 ms a poll)."""
    from lark import Token, Transformer_NonRecursive

    class _Build(Transformer_NonRecursive[Token, Node]):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

        def word(self, items: list[Token]) -> Node:
            tok = items[0]
            return Term((str(tok),), str(tok))

        def phrase(self, items: list[Token]) -> Node:
            tok = items[0]
            words = tuple(str(tok)[1:-1].split())
            if not words:
                raise QueryError(self.query, _pos(tok), "an empty phrase")
            return Term(words, str(tok))

        def regex(self, items: list[Token]) -> Node:
            tok = items[0]
            pattern = str(tok)[1:-1].replace("\\/", "/")
            try:
                compile_regex(pattern)
            except RegexError as exc:
                at = _pos(tok) + exc.position  # the pattern starts after the "/"
                raise QueryError(self.query, at, f"{exc.problem}: {exc.hint}") from None
            return Regex(pattern, str(tok))

        def negation(self, items: list[Node | Token]) -> Node:
            child = items[1]
            assert not isinstance(child, Token)
            return Not(child)

        def scoped(self, items: list[Node | Token]) -> Node:
            field = str(items[0]).rstrip(":")
            child = items[1]
            assert not isinstance(child, Token)
            return _scope(child, field)

        def and_expr(self, items: list[Node | Token]) -> Node:
            return And(tuple(i for i in items if not isinstance(i, Token)))

        def or_expr(self, items: list[Node | Token]) -> Node:
            return Or(tuple(i for i in items if not isinstance(i, Token)))

        def near_expr(self, items: list[Node | Token]) -> Node:
            node = items[0]
            assert not isinstance(node, Token)
            for op, right in zip(items[1::2], items[2::2], strict=True):
                assert isinstance(op, Token) and not isinstance(right, Token)
                distance = int(str(op)[5:]) if "/" in str(op) else DEFAULT_NEAR
                node = Near(node, right, distance)
            return node

    return _Build


def _pos(tok: Token) -> int:
    return (tok.start_pos or 0) + 1


def _scope(node: Node, field: str) -> Node:
    """Give every term below ``node`` that has no field of its own this field."""
    if isinstance(node, Term | Regex):
        return node if node.fields else _replace_fields(node, (field,))
    if isinstance(node, Not):
        return Not(_scope(node.child, field))
    if isinstance(node, Near):
        return Near(_scope(node.left, field), _scope(node.right, field), node.distance)
    return type(node)(tuple(_scope(c, field) for c in node.children))


def _replace_fields(node: Term | Regex, fields: tuple[str, ...]) -> Term | Regex:
    if isinstance(node, Term):
        return Term(node.words, f"{fields[0]}:{node.source}", fields, node.is_literal)
    return Regex(node.pattern, f"{fields[0]}:{node.source}", fields)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    from lark import Lark

    return Lark(_GRAMMAR, parser="lalr", lexer="basic", maybe_placeholders=False)


def parse_query(query: str) -> Node:
    """Parse one query; raise QueryError naming the position and what was expected."""
    if not query.strip():
        raise QueryError(query, 1, "the query is empty")
    _check_size(query)
    from lark.exceptions import UnexpectedInput

    try:
        tree = _parser().parse(query)
    except UnexpectedInput as exc:
        raise _explain(query, exc) from None
    try:
        node: Node = _builder()(query).transform(tree)
    except Exception as exc:  # lark wraps errors raised in callbacks
        inner = getattr(exc, "orig_exc", exc)
        if isinstance(inner, QueryError):
            raise inner from None
        raise
    if _depth(node) > MAX_DEPTH:
        raise QueryError(query, 1, f"the query nests deeper than {MAX_DEPTH} levels: split it")
    _check(query, node)
    return node


def _depth(node: Node) -> int:
    """The depth of the tree, walked without recursion."""
    deepest, todo = 0, [(node, 1)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(item, Not):
            todo.append((item.child, depth + 1))
        elif isinstance(item, Near):
            todo += [(item.left, depth + 1), (item.right, depth + 1)]
        elif isinstance(item, And | Or):
            todo += [(c, depth + 1) for c in item.children]
    return deepest


def compile_regex(pattern: str) -> UserRegex:
    """A `/regex/` query part, case-insensitive, run by RE2; RegexError if it cannot run."""
    return compile_user_regex(pattern)


def _check_size(query: str) -> None:
    """Refuse, before parsing, a query whose tree would be too deep to walk: long chains
    of NEAR or NOT, deep parentheses, or sheer length. The lexer does not recurse."""
    if len(query) > MAX_CHARS:
        raise QueryError(
            query, MAX_CHARS + 1, f"the query is longer than {MAX_CHARS} characters: split it"
        )
    from lark.exceptions import UnexpectedInput

    depth = nears = prefixes = 0
    try:
        for tok in _parser().lex(query):
            if tok.type == "LPAR":
                depth += 1
            elif tok.type == "RPAR":
                depth -= 1
            if depth > MAX_PARENS:
                raise QueryError(
                    query, _pos(tok), f"parentheses nest deeper than {MAX_PARENS} levels"
                )
            nears += tok.type == "NEAR"
            if nears > MAX_NEAR:
                raise QueryError(
                    query, _pos(tok), f"more than {MAX_NEAR} NEAR in one query: split it"
                )
            prefixes = prefixes + 1 if tok.type in ("NOT", "MINUS", "FIELD") else 0
            if prefixes > MAX_PREFIXES:
                raise QueryError(
                    query, _pos(tok), f"more than {MAX_PREFIXES} NOT, - or field: in a row"
                )
    except UnexpectedInput:
        return  # the parser names the mistake


def term_node(term: str) -> Term:
    """A plain `terms` entry: one literal word or phrase (no operators, no wildcard)."""
    return Term(tuple(term.split()), term.strip(), is_literal=True)


def _explain(query: str, exc: UnexpectedInput) -> QueryError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        return QueryError(query, at + 1, f"unexpected {query[at]!r}")
    expected = set(getattr(exc, "expected", set()) or set())
    wanted = ", ".join(text for name, text in _EXPECTED.items() if name in expected)
    wanted = wanted or "something else"
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        return QueryError(query, len(query) + 1, f"the query ends too soon: expected {wanted}")
    assert isinstance(exc, UnexpectedToken)
    return QueryError(query, _pos(exc.token), f"unexpected {str(exc.token)!r}: expected {wanted}")


def _check(query: str, node: Node) -> None:
    """Reject what would silently never work: short wildcards, queries made of NOT only."""
    for term in _terms(node):
        if isinstance(term, Term):
            for i, word in enumerate(term.words):
                stem = word[:-1] if term.prefix_at(i) else word
                if term.prefix_at(i) and len(stem) < MIN_PREFIX:
                    raise QueryError(
                        query,
                        _where(query, word),
                        f"a wildcard needs at least {MIN_PREFIX} letters before '*'",
                    )
                if not re.search(r"\w", stem):
                    raise QueryError(query, _where(query, word), f"{word!r} has no letter or digit")
    if not _positive(node):
        raise QueryError(query, 1, "the query can match without any term found (NOT on its own)")


def _where(query: str, word: str) -> int:
    return query.find(word) + 1 if word in query else 1


def _terms(node: Node) -> list[Term | Regex]:
    if isinstance(node, Term | Regex):
        return [node]
    if isinstance(node, Not):
        return _terms(node.child)
    if isinstance(node, Near):
        return _terms(node.left) + _terms(node.right)
    return [t for c in node.children for t in _terms(c)]


def _positive(node: Node) -> bool:
    """True when every way the query can match includes a hit of some term."""
    if isinstance(node, Term | Regex):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, Near):
        return True
    if isinstance(node, And):
        return any(_positive(c) for c in node.children)
    return all(_positive(c) for c in node.children)


def has_near(node: Node) -> bool:
    if isinstance(node, Near):
        return True
    if isinstance(node, Not):
        return has_near(node.child)
    if isinstance(node, And | Or):
        return any(has_near(c) for c in node.children)
    return False


def leaves(node: Node) -> list[Term | Regex]:
    """Every term and regex in the query, negated ones included, in query order."""
    return _terms(node)


def to_text(node: Node) -> str:
    """The query as newsmon reads it, fully parenthesised: ``(a AND (b OR c))``."""
    if isinstance(node, Term):
        words = " ".join(node.words)
        is_keyword = words in ("AND", "OR", "NOT") or words.startswith("NEAR")
        text = f'"{words}"' if len(node.words) > 1 or node.is_literal or is_keyword else words
        return f"{node.fields[0]}:{text}" if node.fields else text
    if isinstance(node, Regex):
        return f"{node.fields[0]}:/{node.pattern}/" if node.fields else f"/{node.pattern}/"
    if isinstance(node, Not):
        return f"NOT {to_text(node.child)}"
    if isinstance(node, Near):
        return f"({to_text(node.left)} NEAR/{node.distance} {to_text(node.right)})"
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(to_text(c) for c in node.children) + ")"
