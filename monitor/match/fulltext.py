"""Full-text search: the words an article is indexed under, and a query as a pre-filter.

The index holds, per article, the words of its title, source (site name, host) and text,
in that order and with their positions, after the normalisation that matching uses (NFKC,
invisible characters dropped, casefolded; a word is a run of letters, digits and ``_``,
as in monitor.match.watchlists). A compiled query becomes a boolean expression over those words
that holds for every article the query matches: a superset, which the exact check
(monitor.match.watchlists) then narrows, so search agrees with what a watchlist with the same query
would match.

    word                  the word
    "a phrase"            the words next to each other, in order (a Phrase)
    word*                 a prefix
    word~ (inflected)     the prefix every accepted form shares (the lexicon's anchor)
    a phrase with a prefix or an inflected word: its words (in any order)
    a AND b, a NEAR b     both
    a OR b                either
    NOT a, /regex/        no condition: the exact check decides
    Chinese, Japanese     no condition (written without spaces between words)

A phrase that matching finds is a run of consecutive words of the text (monitor.match.automaton
checks word by word, each a whole run of word characters), so it is a run of consecutive
words of the index too; a database that splits a word into pieces splits the phrase's
words alike, so the pieces stay next to each other. ``None`` stands for "no condition"
throughout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from monitor.match.automaton import Form, Lexicon
from monitor.match.normalize import normalise
from monitor.match.watchlists import Watchlists
from monitor.query.syntax import And, Near, Node, Not, Or, Regex, Term

__all__ = [
    "AllOf",
    "AnyOf",
    "Expr",
    "Leaf",
    "Phrase",
    "Probed",
    "Word",
    "all_of",
    "any_of",
    "fts5_question",
    "index_text",
    "leaves_in",
    "prefilter",
    "render",
    "tsquery_question",
    "words",
]

_WORD = re.compile(r"\w+")
# word characters to Python that unicode61 (SQLite 3.40) takes for separators; a word of
# only these is no token at all, and FTS5 finds nothing for an empty phrase
_UNICODE61_SPLITS = re.compile("[\u19b0-\u19c0\u19c8\u19c9\u1cf2\u1cf3]")


@dataclass(frozen=True)
class Word:
    text: str  # normalised, casefolded
    is_prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]  # normalised, casefolded; two or more

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Expr, ...]


Leaf = Word | Phrase
Expr = Word | Phrase | AllOf | AnyOf


def words(text: str) -> list[str]:
    """The words of ``text`` as the index holds them."""
    return _WORD.findall(normalise(text).casefold())


def index_text(title: str, text: str, sitename: str | None, url: str | None) -> str:
    """The words of an article's title, source (site name, then host) and text, in
    order, space-separated. The source comes as matching reads it (monitor.match.watchlists: site
    name and host, so a phrase across them is next to each other here too)."""
    host = ""
    if url:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
    return " ".join(w for field in (title, sitename or "", host, text) for w in words(field))


def all_of(parts: Iterable[Expr | None]) -> Expr | None:
    flat = (q for p in parts if p is not None for q in (p.parts if isinstance(p, AllOf) else [p]))
    kept = tuple(dict.fromkeys(flat))
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else AllOf(kept)


def any_of(parts: Iterable[Expr | None]) -> Expr | None:
    found = list(parts)
    if not found or any(p is None for p in found):
        return None
    flat = (q for p in found if p is not None for q in (p.parts if isinstance(p, AnyOf) else [p]))
    kept = tuple(dict.fromkeys(flat))
    return kept[0] if len(kept) == 1 else AnyOf(kept)


def prefilter(compiled: Watchlists) -> Expr | None:
    """What every article that one of these watchlists matches contains."""
    parts: list[Expr | None] = []
    for watchlist in compiled:
        for query in watchlist.queries:
            forms = {leaf.node: leaf.forms for leaf in query.leaves}
            parts.append(_node(query.node, forms, compiled.lexicon))
    return any_of(parts)


def _node(node: Node, forms: dict[Term | Regex, tuple[Form, ...]], lexicon: Lexicon) -> Expr | None:
    if isinstance(node, Term):
        return any_of(_form(f, lexicon) for f in forms.get(node, ())) if forms.get(node) else None
    if isinstance(node, Regex | Not):
        return None
    if isinstance(node, Near):
        return all_of((_node(node.left, forms, lexicon), _node(node.right, forms, lexicon)))
    if isinstance(node, And):
        return all_of(_node(c, forms, lexicon) for c in node.children)
    assert isinstance(node, Or)
    return any_of(_node(c, forms, lexicon) for c in node.children)


def _form(form: Form, lexicon: Lexicon) -> Expr | None:
    if form.is_cjk:
        return None
    if len(form.slots) > 1 and all(kind == "x" for kind, _ in form.slots):
        return Phrase(tuple(word for _, word in form.slots))
    parts: list[Expr | None] = []
    for i, (kind, word) in enumerate(form.slots):
        if kind == "x":
            parts.append(Word(word))
        elif kind == "p":
            parts.append(Word(word, is_prefix=True))
        elif i == 0:  # an inflected first word starts with its anchor; later ones may not
            parts.append(Word(lexicon.anchor(word), is_prefix=True))
    return all_of(parts)


def leaves_in(expr: Expr | None) -> list[Leaf]:
    """The words and phrases of an expression, each once."""
    if expr is None:
        return []
    if isinstance(expr, Word | Phrase):
        return [expr]
    return list(dict.fromkeys(w for p in expr.parts for w in leaves_in(p)))


def render(
    expr: Expr | None, leaf: Callable[[Leaf], str | None], and_: str, or_: str
) -> str | None:
    """The expression in an engine's syntax; ``leaf`` gives None for a word or phrase the
    engine cannot look up (which then imposes no condition)."""
    if expr is None:
        return None
    if isinstance(expr, Word | Phrase):
        return leaf(expr)
    parts = [render(p, leaf, and_, or_) for p in expr.parts]
    if isinstance(expr, AllOf):
        kept = [p for p in parts if p is not None]
        return None if not kept else kept[0] if len(kept) == 1 else f"({and_.join(kept)})"
    if any(p is None for p in parts):
        return None
    texts = [p for p in parts if p is not None]
    return texts[0] if len(texts) == 1 else f"({or_.join(texts)})"


def fts5_question(expr: Expr | None) -> str | None:
    """The expression as an FTS5 query (monitor.store.search's SQLite index); None when
    nothing narrows it."""
    return render(expr, _fts5_leaf, " AND ", " OR ")


def _fts5_leaf(x: Leaf) -> str | None:
    """A word or phrase as an FTS5 phrase, which unicode61 splits as it split the text
    (so a word split into pieces is a phrase of its pieces)."""
    if not _UNICODE61_SPLITS.sub(" ", x.text).strip():
        return None
    quoted = '"' + x.text.replace('"', '""') + '"'
    return quoted + " *" if isinstance(x, Word) and x.is_prefix else quoted


class Probed(Protocol):
    """How PostgreSQL's parser takes a word or phrase (monitor.store.search.probe)."""

    @property
    def lexemes(self) -> Sequence[str]: ...  # none: PostgreSQL cannot look it up

    @property
    def phrase(self) -> str | None: ...  # as a phrase query

    @property
    def nodes(self) -> int: ...  # of that query


def tsquery_question(expr: Expr | None, probed: Mapping[str, Probed], long: str) -> str | None:
    """The expression as a tsquery (monitor.store.search's PostgreSQL index), from how
    PostgreSQL's parser takes each of its ``leaves_in`` (``probed``, by text); ``long``
    is the lexeme that marks an article kept without positions. None when nothing
    narrows it."""

    def leaf(x: Leaf) -> str | None:
        found = probed.get(x.text)
        quoted = [_quoted(p) for p in found.lexemes] if found else []
        if found is None or not quoted:
            return None
        if isinstance(x, Word) and x.is_prefix:
            terms = [q + ":*" for q in quoted]
            return terms[0] if len(terms) == 1 else f"({' & '.join(terms)})"
        if found.nodes == 1:
            return quoted[0]
        return f"({found.phrase} | {_quoted(long)} & {' & '.join(quoted)})"

    return render(expr, leaf, " & ", " | ")


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
