"""Watchlists compiled once; article -> matches with provenance.

A watchlist holds plain ``terms`` (each a whole word or phrase; any one is enough) and
``queries`` in the query language (monitor.query). Every term is expanded into its forms
(transliterations, prefixes, inflections), and all forms of all watchlists go into one
index (monitor.lexicon), searched once per article field. Queries are then evaluated on
the hits. Text and terms are compared after NFKC normalisation and casefolding
(monitor.textnorm); offsets refer to the normalised text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from urllib.parse import urlsplit

from monitor.config import QuerySettings, Settings, TermSettings, WatchlistSettings
from monitor.inflect import fallback_languages
from monitor.language import detect_language
from monitor.lexicon import Form, Lexicon, separator_key_raw
from monitor.model import Article, Match
from monitor.query import And, Near, Node, Not, Or, Regex, Term, leaves, parse_query, term_node
from monitor.textnorm import fold, normalise, sentence_around, separator_key, words_of
from monitor.translit import expand

__all__ = [
    "Query",
    "Watchlist",
    "Watchlists",
    "compile_watchlists",
    "find_matches",
    "normalise",
    "snippet",
]

_HITS_PER_FIELD = 3
_HITS_PER_LEAF = 200
_FORMS_PER_TERM = 64
_FIELD_ORDER = {"title": 0, "text": 1, "source": 2}
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Options:
    inflect: bool = False
    translit: bool = False
    case: str = "ignore"


@dataclass(frozen=True)
class Leaf:
    node: Term | Regex
    fields: tuple[str, ...]
    forms: tuple[Form, ...]
    regex: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Query:
    source: str
    node: Node
    leaves: tuple[Leaf, ...]
    options: Options

    @property
    def regex_leaves(self) -> tuple[Leaf, ...]:
        found = self.__dict__.get("_regex_leaves")
        if found is None:
            found = tuple(leaf for leaf in self.leaves if leaf.regex is not None)
            object.__setattr__(self, "_regex_leaves", found)
        return found

    @property
    def by_form(self) -> dict[Form, list[Leaf]]:
        found = self.__dict__.get("_by_form")
        if found is None:
            found = {}
            for leaf in self.leaves:
                for form in leaf.forms:
                    found.setdefault(form, []).append(leaf)
            object.__setattr__(self, "_by_form", found)
        return found


@dataclass(frozen=True)
class Watchlist:
    name: str
    terms: tuple[str, ...]  # every query as written (a plain term is a query of its own)
    fields: tuple[str, ...]
    queries: tuple[Query, ...]


class Watchlists(tuple[Watchlist, ...]):
    """Compiled watchlists with one combined index; what ``find_matches`` wants."""

    lexicon: Lexicon
    has_inflection: bool
    by_form: dict[Form, set[tuple[int, int]]]  # form -> (watchlist, query) that use it
    with_regex: set[tuple[int, int]]  # queries with a /regex/, always evaluated

    def __new__(cls, items: Iterable[Watchlist]) -> Watchlists:
        self = super().__new__(cls, items)
        self.lexicon = Lexicon()
        self.has_inflection = False
        self.by_form = {}
        self.with_regex = set()
        for w, wl in enumerate(self):
            for q, query in enumerate(wl.queries):
                self.has_inflection |= query.options.inflect
                for leaf in query.leaves:
                    if leaf.regex is not None:
                        self.with_regex.add((w, q))
                    for form in leaf.forms:
                        self.lexicon.add(form)
                        self.by_form.setdefault(form, set()).add((w, q))
        return self


_Spot = tuple[str, int, int]  # field, start, end


@dataclass(frozen=True)
class _Hit:
    field: str
    start: int  # normalised offsets
    end: int
    leaf: Leaf
    how: str


# ------------------------------------------------------------------ compiling


def compile_watchlists(settings: Settings) -> Watchlists:
    return Watchlists(compile_watchlist(n, wl) for n, wl in settings.watchlist.items())


def compile_watchlist(name: str, wl: WatchlistSettings) -> Watchlist:
    queries: dict[str, Query] = {}
    entries: list[tuple[str | TermSettings | QuerySettings, bool]] = [
        *((t, True) for t in wl.terms),
        *((q, False) for q in wl.queries),
    ]
    for entry, is_term in entries:
        node: Node
        if isinstance(entry, TermSettings):
            text, node = entry.term.strip(), term_node(entry.term)
        elif isinstance(entry, QuerySettings):
            text, node = entry.query, parse_query(entry.query)
        elif is_term:
            text, node = entry.strip(), term_node(entry)
        else:
            text, node = entry, parse_query(entry)
        options = _options(wl, None if isinstance(entry, str) else entry)
        if text not in queries:
            queries[text] = _compile_query(text, node, options, tuple(wl.fields))
    return Watchlist(name, tuple(queries), tuple(wl.fields), tuple(queries.values()))


def _options(wl: WatchlistSettings, entry: TermSettings | QuerySettings | None) -> Options:
    def pick(value: object, default: object) -> object:
        return default if value is None else value

    return Options(
        inflect=bool(pick(entry and entry.inflect, wl.inflect)),
        translit=bool(pick(entry and entry.translit, wl.translit)),
        case=str(pick(entry and entry.case, wl.case)),
    )


def _compile_query(text: str, node: Node, options: Options, fields: tuple[str, ...]) -> Query:
    compiled = []
    for leaf in dict.fromkeys(leaves(node)):
        leaf_fields = leaf.fields or fields
        if isinstance(leaf, Regex):
            pattern = re.compile(leaf.pattern, re.IGNORECASE)
            compiled.append(Leaf(leaf, leaf_fields, (), pattern))
        else:
            compiled.append(Leaf(leaf, leaf_fields, tuple(term_forms(leaf, options))))
    return Query(text, node, tuple(compiled), options)


def term_forms(term: Term, options: Options) -> list[Form]:
    """Every concrete form of a term under its options."""
    choices: list[list[tuple[str, str]]] = []
    for i, word in enumerate(term.words):
        is_prefix = term.prefix_at(i)
        bare = normalise(word[:-1] if is_prefix else word)
        spellings = expand(bare) if options.translit else [bare]
        choices.append(
            [(s, "as written" if s == bare else f"transliterated from {bare}") for s in spellings]
        )
    forms: list[Form] = []
    for combo in list(product(*choices))[:_FORMS_PER_TERM]:
        forms.append(_form([s for s, _ in combo], term, options, combo))
    return list(dict.fromkeys(forms))


def _form(
    spellings: list[str], term: Term, options: Options, combo: tuple[tuple[str, str], ...]
) -> Form:
    slots: list[tuple[str, str]] = []
    seps: list[str] = []
    lead = trail = ""
    for i, spelling in enumerate(spellings):
        before, rest = words_of(spelling.casefold())
        parts = [before, *rest]
        if i == 0:
            lead = before
        else:
            seps.append(separator_key(trail + " " + before))
        words = parts[1::2]
        for j, word in enumerate(words):
            if j:
                seps.append(separator_key(parts[2 * j]))
            if term.prefix_at(i) and j == len(words) - 1:
                slots.append(("p", word))
            elif options.inflect and not any(ch.isdigit() for ch in word):
                slots.append(("s", word))
            else:
                slots.append(("x", word))
        trail = parts[-1]
    how = [h for _, h in combo if h != "as written"]
    if any(k == "p" for k, _ in slots):
        how.append("prefix")
    if any(k == "s" for k, _ in slots):
        how.append("with inflections")
    return Form(
        tuple(slots),
        tuple(seps),
        separator_key_raw(lead),
        separator_key_raw(trail),
        " ".join(spellings),
        ", ".join(how) or "as written",
        options.case,
    )


# ------------------------------------------------------------------ matching


def find_matches(watchlists: Iterable[Watchlist], article: Article) -> list[Match]:
    """Every watchlist that matches the article, with at most a few hits per field."""
    compiled = watchlists if isinstance(watchlists, Watchlists) else Watchlists(watchlists)
    if not compiled:
        return []
    texts = {
        "title": normalise(article.title),
        "text": normalise(article.text),
        "source": normalise(_source(article)),
    }
    language = article_language(article) if compiled.has_inflection else article.language
    languages = fallback_languages(language)
    by_form: dict[Form, list[_Spot]] = {}
    for field, norm in texts.items():
        if not norm:
            continue
        folded = fold(norm)
        for hit in compiled.lexicon.find(folded.text, languages):
            start, end = folded.to_normalised(hit.start), folded.to_normalised(hit.end)
            if _case_ok(hit.form, norm[start:end]):
                by_form.setdefault(hit.form, []).append((field, start, end))
    touched = set(compiled.with_regex)
    for form in by_form:
        touched |= compiled.by_form[form]
    found: list[Match] = []
    for w in sorted({w for w, _ in touched}):
        queries = [compiled[w].queries[q] for ww, q in sorted(touched) if ww == w]
        found += _watchlist_matches(compiled[w].name, queries, by_form, texts)
    return found


def article_language(article: Article) -> str | None:
    return detect_language(f"{article.title}\n{article.text}", article.language)


def _source(article: Article) -> str:
    host = urlsplit(article.url).hostname or "" if article.url else ""
    return " ".join(x for x in (article.sitename, host) if x)


def _case_ok(form: Form, found: str) -> bool:
    if form.case == "ignore":
        return True
    if form.case == "proper":
        first = next((ch for ch in found if ch.isalpha()), "")
        return first.isupper() or first.istitle()
    surface = form.surface
    k = 0
    while k < min(len(found), len(surface)) and found[k].casefold() == surface[k].casefold():
        k += 1
    return found[:k] == surface[:k]


def _query_hits(
    query: Query, by_form: dict[Form, list[_Spot]], texts: dict[str, str]
) -> dict[Term | Regex, list[_Hit]]:
    """Term -> its hits, for the terms of this query that hit."""
    hits: dict[Term | Regex, list[_Hit]] = {}
    for leaf in query.regex_leaves:
        assert leaf.regex is not None
        for field in leaf.fields:
            for n, m in enumerate(leaf.regex.finditer(texts[field])):
                if n >= _HITS_PER_LEAF:
                    break
                if m.end() > m.start():
                    hits.setdefault(leaf.node, []).append(
                        _Hit(field, m.start(), m.end(), leaf, "regex")
                    )
    mine = query.by_form
    for form, spots in by_form.items():
        for leaf in mine.get(form, ()):
            found = hits.setdefault(leaf.node, [])
            for field, start, end in spots:
                if field in leaf.fields and len(found) < _HITS_PER_LEAF:
                    found.append(_Hit(field, start, end, leaf, form.how))
    return hits


def _evaluate(
    node: Node, hits: dict[Term | Regex, list[_Hit]], texts: dict[str, str]
) -> tuple[bool, list[_Hit]]:
    if isinstance(node, Term | Regex):
        found = hits.get(node, [])
        return bool(found), found
    if isinstance(node, Not):
        is_match, _ = _evaluate(node.child, hits, texts)
        return not is_match, []
    if isinstance(node, And):
        results = [_evaluate(c, hits, texts) for c in node.children]
        if all(ok for ok, _ in results):
            return True, [h for _, found in results for h in found]
        return False, []
    if isinstance(node, Or):
        # many plain terms under one OR: look only at those that hit
        plain, others = _split_children(node)
        found = [h for leaf, leaf_hits in hits.items() if leaf in plain for h in leaf_hits]
        is_match = bool(found)
        for child in others:
            ok, more = _evaluate(child, hits, texts)
            is_match |= ok
            found += more if ok else []
        return is_match, found
    assert isinstance(node, Near)
    _, left = _evaluate(node.left, hits, texts)
    _, right = _evaluate(node.right, hits, texts)
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


def _near(left: list[_Hit], right: list[_Hit], distance: int, texts: dict[str, str]) -> list[_Hit]:
    found: dict[_Hit, None] = {}
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


def _watchlist_matches(
    name: str, queries: list[Query], by_form: dict[Form, list[_Spot]], texts: dict[str, str]
) -> list[Match]:
    chosen: list[_Hit] = []
    for query in queries:
        hits = _query_hits(query, by_form, texts)
        if not any(hits.values()):
            continue
        is_match, found = _evaluate(query.node, hits, texts)
        if is_match:
            chosen += found
    # the longest hit wins where hits overlap; then document order, a few per field
    chosen.sort(key=lambda h: (_FIELD_ORDER[h.field], h.start, -h.end))
    kept: list[_Hit] = []
    for hit in chosen:
        if kept and kept[-1].field == hit.field and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    matches: list[Match] = []
    per_field: dict[str, int] = {}
    for hit in kept:
        per_field[hit.field] = per_field.get(hit.field, 0) + 1
        if per_field[hit.field] > _HITS_PER_FIELD:
            continue
        text = texts[hit.field]
        matches.append(
            Match(
                watchlist=name,
                term=hit.leaf.node.source,
                field=hit.field,
                start=hit.start,
                end=hit.end,
                snippet=sentence_around(text, hit.start, hit.end),
                found=text[hit.start : hit.end],
                how=hit.how,
            )
        )
    return matches


def snippet(text: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]`` (kept for callers of the old name)."""
    return sentence_around(text, start, end)


def render_forms(watchlist: Watchlist) -> Sequence[tuple[Query, Leaf, Form]]:
    """Every (query, term, form) of a watchlist, for ``watchlists show``."""
    return [(q, leaf, form) for q in watchlist.queries for leaf in q.leaves for form in leaf.forms]
