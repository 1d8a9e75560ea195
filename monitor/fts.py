"""Full-text search: the words an article is indexed under, and a query as a pre-filter.

The index holds, per article, the distinct words of its title, text and source after the
normalisation that matching uses (NFKC, invisible characters dropped, casefolded; a word
is a run of letters, digits and ``_``, as in monitor.match). A compiled query becomes a
boolean expression over those words that holds for every article the query matches: a
superset, which the exact check (monitor.match) then narrows, so search agrees with what
a watchlist with the same query would match.

    word, "phrase"        every word (in any order: the exact check wants them adjacent)
    word*                 a prefix
    word~ (inflected)     the prefix every accepted form shares (the lexicon's anchor)
    a AND b, a NEAR b     both
    a OR b                either
    NOT a, /regex/        no condition: the exact check decides
    Chinese, Japanese     no condition (written without spaces between words)

``None`` stands for "no condition" throughout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.lexicon import Form, Lexicon
from monitor.match import Watchlists
from monitor.query import And, Near, Node, Not, Or, Regex, Term
from monitor.textnorm import normalise

__all__ = [
    "AllOf",
    "AnyOf",
    "Expr",
    "MAX_INDEX_BYTES",
    "Word",
    "all_of",
    "any_of",
    "index_text",
    "prefilter",
    "render",
    "words",
    "words_in",
]

# PostgreSQL refuses a tsvector whose distinct words exceed 1 MB; no news page comes close
MAX_INDEX_BYTES = 900_000
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Word:
    text: str  # normalised, casefolded
    is_prefix: bool = False


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Expr, ...]


Expr = Word | AllOf | AnyOf


def words(text: str) -> list[str]:
    """The words of ``text`` as the index holds them."""
    return _WORD.findall(normalise(text).casefold())


def index_text(title: str, text: str, sitename: str | None, url: str | None) -> str:
    """The distinct words of an article's title, text and source, space-separated."""
    host = ""
    if url:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
    seen: dict[str, None] = {}
    size = 0
    for field in (title, sitename or "", host, text):
        for word in words(field):
            if word not in seen:
                size += len(word.encode()) + 1
                if size > MAX_INDEX_BYTES:
                    return " ".join(seen)
                seen[word] = None
    return " ".join(seen)


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
    parts: list[Expr | None] = []
    for i, (kind, word) in enumerate(form.slots):
        if kind == "x":
            parts.append(Word(word))
        elif kind == "p":
            parts.append(Word(word, is_prefix=True))
        elif i == 0:  # an inflected first word starts with its anchor; later ones may not
            parts.append(Word(lexicon.anchor(word), is_prefix=True))
    return all_of(parts)


def words_in(expr: Expr | None) -> list[Word]:
    if expr is None:
        return []
    if isinstance(expr, Word):
        return [expr]
    return list(dict.fromkeys(w for p in expr.parts for w in words_in(p)))


def render(
    expr: Expr | None, word: Callable[[Word], str | None], and_: str, or_: str
) -> str | None:
    """The expression in an engine's syntax; ``word`` gives None for a word the engine
    cannot look up (which then imposes no condition)."""
    if expr is None:
        return None
    if isinstance(expr, Word):
        return word(expr)
    parts = [render(p, word, and_, or_) for p in expr.parts]
    if isinstance(expr, AllOf):
        kept = [p for p in parts if p is not None]
        return None if not kept else kept[0] if len(kept) == 1 else f"({and_.join(kept)})"
    if any(p is None for p in parts):
        return None
    texts = [p for p in parts if p is not None]
    return texts[0] if len(texts) == 1 else f"({or_.join(texts)})"
