"""Watchlists compiled once; article -> matches with provenance.

A watchlist holds plain ``terms`` (each a whole word or phrase; any one is enough) and
``queries`` in the query language (monitor.query.syntax). Every term is expanded into its forms
(transliterations, prefixes, inflections), and all forms of all watchlists go into one
index (monitor.match.automaton), searched once per article field. Queries are then evaluated on
the hits. Text and terms are compared after NFKC normalisation and casefolding
(monitor.match.normalize); offsets refer to the normalised text, while a match's ``found`` and
``snippet`` are cut from the text as written. `/regex/` parts run on RE2
(monitor.query.regex), in linear time; a ``budget`` bounds the time spent on one article.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import NamedTuple
from urllib.parse import urlsplit

from monitor.config.settings import QuerySettings, Settings, TermSettings, WatchlistSettings
from monitor.extract.language import detect_language, language_code
from monitor.match.automaton import Form, Lexicon
from monitor.match.deadline import Deadline
from monitor.match.evaluate import Hit, evaluate
from monitor.match.forms import Options, term_forms
from monitor.match.inflect import fallback_languages
from monitor.match.normalize import fold, normalise, sentence_around
from monitor.match.offsets import Offsets, original_offsets, original_span
from monitor.model import Article, Match
from monitor.query.regex import UserRegex
from monitor.query.syntax import (
    Node,
    Or,
    Regex,
    Term,
    compile_regex,
    has_near,
    leaves,
    parse_query,
    term_node,
)

__all__ = [
    "Leaf",
    "Query",
    "Watchlist",
    "Watchlists",
    "article_language",
    "compile_watchlist",
    "compile_watchlists",
    "find_matches",
    "normalise",
    "snippet",
]

_HITS_PER_FIELD = 3
_HITS_PER_LEAF = 200
_PLAIN_CAP = 2 * _HITS_PER_FIELD  # hits per form and field of a query without NEAR
_FIELDS = ("title", "text", "source")
_FIELD_ORDER = {field: n for n, field in enumerate(_FIELDS)}


@dataclass(frozen=True)
class Leaf:
    node: Term | Regex
    fields: tuple[str, ...]
    forms: tuple[Form, ...]
    regex: UserRegex | None = None


@dataclass(frozen=True)
class Query:
    source: str
    node: Node
    leaves: tuple[Leaf, ...]
    options: Options
    has_near: bool = False  # NEAR needs every hit's position; else a few per field do

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

    @cached_property
    def where(self) -> str:
        """Where matching is, for a time-out's message."""
        return f"watchlist {self.name}"


class PlainUse(NamedTuple):
    """A term of a query that any one of its terms satisfies (no AND, NOT, NEAR or
    regex): a hit of the term's form is a hit of the watchlist, nothing to evaluate."""

    watchlist: int
    query: int
    term: str
    fields: tuple[str, ...]


class Watchlists(tuple[Watchlist, ...]):
    """Compiled watchlists with one combined index; what ``find_matches`` wants."""

    lexicon: Lexicon
    has_inflection: bool
    by_form: dict[Form, set[tuple[int, int]]]  # form -> (watchlist, query) to evaluate
    plain: dict[Form, list[PlainUse]]  # form -> the plain queries' terms that use it
    with_regex: set[tuple[int, int]]  # queries with a /regex/, always evaluated

    def __new__(cls, items: Iterable[Watchlist]) -> Watchlists:
        self = super().__new__(cls, items)
        self.lexicon = Lexicon()
        self.has_inflection = False
        self.by_form = {}
        self.plain = {}
        self.with_regex = set()
        # one object for equal forms: the lookups per hit then find them by identity
        canonical: dict[Form, Form] = {}
        for w, wl in enumerate(self):
            for q, query in enumerate(wl.queries):
                self.has_inflection |= query.options.inflect
                is_plain = _is_plain(query.node)
                mine: dict[Form, list[Leaf]] = {}
                for leaf in query.leaves:
                    if leaf.regex is not None:
                        self.with_regex.add((w, q))
                    for form in leaf.forms:
                        form = canonical.setdefault(form, form)
                        mine.setdefault(form, []).append(leaf)
                        self.lexicon.add(form)
                        if is_plain:
                            use = PlainUse(w, q, leaf.node.source, leaf.fields)
                            self.plain.setdefault(form, []).append(use)
                        else:
                            self.by_form.setdefault(form, set()).add((w, q))
                object.__setattr__(query, "_by_form", mine)
        return self


def _is_plain(node: Node) -> bool:
    """A term, or terms under one OR: any hit of any of them is a match."""
    children = node.children if isinstance(node, Or) else (node,)
    return all(isinstance(child, Term) for child in children)


_Spots = dict[str, list[tuple[int, int]]]  # field -> (start, end), in the text's order
# a hit of a query that matched: (field's order, start, -end, query's number, term, how),
# which sorts as reported: document order, the longest first, then the query's order
_Chosen = tuple[int, int, int, int, str, str]
_ORDER = itemgetter(0, 1, 2, 3)  # stable beyond these: the order the hits were found


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
            pattern = compile_regex(leaf.pattern)
            compiled.append(Leaf(leaf, leaf_fields, (), pattern))
        else:
            compiled.append(Leaf(leaf, leaf_fields, tuple(term_forms(leaf, options))))
    return Query(text, node, tuple(compiled), options, has_near(node))


def find_matches(
    watchlists: Iterable[Watchlist], article: Article, *, budget: float | None = None
) -> list[Match]:
    """Every watchlist that matches the article, with at most a few hits per field.

    ``budget``: seconds of CPU this may take; past it, MatchTimeoutError (checked
    between the steps: fields, queries, regex matches)."""
    compiled = watchlists if isinstance(watchlists, Watchlists) else Watchlists(watchlists)
    if not compiled:
        return []
    originals = {"title": article.title, "text": article.text, "source": _source(article)}
    texts = {field: normalise(text) for field, text in originals.items()}
    languages = _LazyLanguages(article, compiled.has_inflection)
    # CPU time of this thread, from here: a loaded machine, and the one-time loading of
    # the language model or the index, do not count against the article
    compiled.lexicon.prepare()
    deadline = Deadline(budget, clock=time.thread_time, wall=time.perf_counter)
    by_form: dict[Form, _Spots] = {}
    for field, norm in texts.items():
        if not norm:
            continue
        deadline.check()
        folded = fold(norm)
        for hit in compiled.lexicon.find(folded.text, languages.known or languages.get):
            start, end = folded.to_normalised(hit.start), folded.to_normalised(hit.end)
            if _case_ok(hit.form, norm[start:end]):
                by_form.setdefault(hit.form, {}).setdefault(field, []).append((start, end))
    if not by_form and not compiled.with_regex:
        return []
    chosen = _plain_hits(compiled, by_form)
    touched: dict[tuple[int, int], list[Form]] = {key: [] for key in compiled.with_regex}
    for form in by_form:
        for key in compiled.by_form.get(form, ()):
            touched.setdefault(key, []).append(form)
    by_watchlist: dict[int, list[tuple[int, Query, list[Form]]]] = {w: [] for w in chosen}
    for (w, q), forms in sorted(touched.items(), key=lambda item: item[0]):
        by_watchlist.setdefault(w, []).append((q, compiled[w].queries[q], forms))
    found: list[tuple[str, Hit]] = []
    for w in sorted(by_watchlist):
        watchlist = compiled[w]
        deadline.where = watchlist.where
        deadline.check()
        hits = chosen.get(w, [])
        if by_watchlist[w]:
            hits += _evaluated(by_watchlist[w], by_form, texts, deadline)
        found += _kept(watchlist.name, hits)
    return _as_written(found, originals, texts)


def _plain_hits(compiled: Watchlists, by_form: dict[Form, _Spots]) -> dict[int, list[_Chosen]]:
    """Watchlist -> the hits of its plain queries (see PlainUse), a few per form and field
    (only the first few per field are reported)."""
    chosen: dict[int, list[_Chosen]] = {}
    for form, spots in by_form.items():
        uses = compiled.plain.get(form)
        if not uses:
            continue
        how = form.how
        for field, places in spots.items():
            order = _FIELD_ORDER[field]
            head = places[:_PLAIN_CAP]
            for use in uses:
                if field in use.fields:
                    mine = chosen.setdefault(use.watchlist, [])
                    mine += [(order, start, -end, use.query, use.term, how) for start, end in head]
    return chosen


def _as_written(
    hits: list[tuple[str, Hit]], originals: dict[str, str], texts: dict[str, str]
) -> list[Match]:
    """The matches, with ``found`` and ``snippet`` cut from the text as written (offsets
    stay those of the normalised text): "2º turno", not "2o turno". A place that several
    watchlists found is cut once."""
    offsets: dict[str, Offsets | None] = {}
    cut: dict[tuple[str, int, int], tuple[str, str]] = {}
    out = []
    for name, hit in hits:
        field, start, end = hit.field, hit.start, hit.end
        place = (field, start, end)
        found = cut.get(place)
        if found is None:
            if field not in offsets:
                offsets[field] = original_offsets(originals[field], texts[field])
            # no offsets: normalising changed nothing, the text as written is the same
            text = originals[field]
            at, stop = original_span(offsets[field], start, end)
            found = cut[place] = (sentence_around(text, at, stop), text[at:stop])
        out.append(Match(name, hit.term, field, start, end, found[0], found[1], hit.how))
    return out


class _LazyLanguages:
    """The stemmers for an article's language. An article read by the pipeline comes
    with it (monitor.extract.language.with_language); for one without, the language is
    detected only when a match depends on it."""

    def __init__(self, article: Article, detect: bool) -> None:
        self._article, self._detect = article, detect
        self._found: frozenset[str] | None = None

    @property
    def known(self) -> frozenset[str] | None:
        """The stemmers, when no detection is needed to tell them."""
        if self._found is None and (self._article.language or not self._detect):
            self._found = _stemmers(self._article.language)
        return self._found

    def get(self) -> frozenset[str]:
        found = self.known
        if found is None:  # nothing told: detected, once
            found = self._found = _stemmers(article_language(self._article))
        return found


@lru_cache(maxsize=256)
def _stemmers(language: str | None) -> frozenset[str]:
    return fallback_languages(language_code(language))


def article_language(article: Article) -> str | None:
    """The article's language: as given, else detected from its text."""
    if article.language:
        return language_code(article.language)
    return detect_language(f"{article.title}\n{article.text}")


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
    query: Query,
    forms: list[Form],
    by_form: dict[Form, _Spots],
    texts: dict[str, str],
    deadline: Deadline,
) -> dict[Term | Regex, list[Hit]]:
    """Term -> its hits, for the terms of this query that hit."""
    hits: dict[Term | Regex, list[Hit]] = {}
    for leaf in query.regex_leaves:
        assert leaf.regex is not None
        for field in leaf.fields:
            for n, (start, end) in enumerate(leaf.regex.spans(texts[field], deadline.check)):
                if n >= _HITS_PER_LEAF:
                    break
                hits.setdefault(leaf.node, []).append(
                    Hit(field, start, end, leaf.node.source, "regex")
                )
    # without NEAR, the first few hits per field are all that can be reported
    cap = _HITS_PER_LEAF if query.has_near else _PLAIN_CAP
    mine = query.by_form
    for form in forms:
        spots = by_form[form]
        for leaf in mine.get(form, ()):
            found = hits.setdefault(leaf.node, [])
            for field, places in spots.items():
                if field in leaf.fields:
                    term, how = leaf.node.source, form.how
                    found += [Hit(field, start, end, term, how) for start, end in places[:cap]]
    return hits


def _evaluated(
    queries: list[tuple[int, Query, list[Form]]],
    by_form: dict[Form, _Spots],
    texts: dict[str, str],
    deadline: Deadline,
) -> list[_Chosen]:
    """The hits of the queries that match, each with its query's number."""
    chosen: list[_Chosen] = []
    for q, query, forms in queries:
        deadline.check()
        hits = _query_hits(query, forms, by_form, texts, deadline)
        if not any(hits.values()):
            continue
        is_match, found = evaluate(query.node, hits, texts)
        if is_match:
            chosen += [(_FIELD_ORDER[h.field], h.start, -h.end, q, h.term, h.how) for h in found]
    return chosen


def _kept(name: str, chosen: list[_Chosen]) -> list[tuple[str, Hit]]:
    """The hits this watchlist reports, each with its name (as Match wants them)."""
    if len(chosen) > 1:
        # the longest hit wins where hits overlap; then document order, a few per field
        chosen.sort(key=_ORDER)
    kept: list[tuple[str, Hit]] = []
    last_field, last_end, count = -1, 0, 0
    for field, start, end, _, term, how in chosen:
        if field == last_field and start < last_end:
            continue
        count = count + 1 if field == last_field else 1
        last_field, last_end = field, -end
        if count <= _HITS_PER_FIELD:
            kept.append((name, Hit(_FIELDS[field], start, -end, term, how)))
    return kept


def snippet(text: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]`` (kept for callers of the old name)."""
    return sentence_around(text, start, end)
