"""Every watchlist's words in one index, so matching cost does not grow with their number.

A *form* is one concrete way a term can appear: a sequence of *slots* (a word as
written, a prefix, or a word with its inflections) with the separators between them.
For one field of one article:

1. the casefolded text is split into words once (C speed: ``re.split``);
2. its set of distinct words is intersected with the index: a set intersection for exact
   words, a lookup of 3- or 4-letter heads for prefixes and stems, then stemming of the few
   words that share a head;
3. only the positions of those words are visited (``itertools.compress``), and the forms
   that start there are checked word by word.

The work is proportional to the text and to the words that really occur, not to the number
of terms. Terms in Chinese or Japanese script, written without spaces, are found as
substrings instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress, count

from monitor import inflect
from monitor.textnorm import Folded, is_cjk, separator_key

__all__ = ["Form", "FormHit", "Lexicon", "SlotKey"]

SlotKey = tuple[str, str]  # ("x", word) as written, ("p", prefix), ("s", word with inflections)
_HEADS = (3, 4)


@dataclass(frozen=True)
class Form:
    slots: tuple[SlotKey, ...]
    seps: tuple[str, ...]  # separator keys between the slots
    lead: str  # punctuation that must stand right before the first word ("" for none)
    trail: str  # ... and right after the last ("++" in "C++")
    surface: str  # as written or expanded, before casefolding
    how: str  # "as written", "prefix", "inflected", "transliterated", ...
    case: str = "ignore"  # ignore, proper or exact

    @property
    def is_cjk(self) -> bool:
        return is_cjk(self.surface)


@dataclass(frozen=True)
class FormHit:
    form: Form
    start: int  # folded offsets
    end: int


def _head(word: str) -> tuple[int, str]:
    size = 4 if len(word) >= 4 else 3
    return size, word[:size]


@dataclass
class Lexicon:
    """The combined index of many forms. Build with ``add``; then read-only."""

    exact: set[str] = field(default_factory=set)
    prefix_heads: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    stem_heads: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    stems: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    by_first: dict[SlotKey, list[Form]] = field(default_factory=lambda: defaultdict(list))
    cjk: list[Form] = field(default_factory=list)

    def add(self, form: Form) -> None:
        if form.is_cjk:
            self.cjk.append(form)
            return
        if form not in self.by_first[form.slots[0]]:
            self.by_first[form.slots[0]].append(form)
        for kind, word in form.slots:
            if kind == "x":
                self.exact.add(word)
            elif kind == "p":
                size, head = _head(word)
                self.prefix_heads.setdefault(size, {}).setdefault(head, set()).add(word)
            else:
                self._add_stem(word)

    def _add_stem(self, word: str) -> None:
        if word in self.stems:
            return
        by_language: dict[str, frozenset[str]] = {}
        for lang in inflect.languages_for(inflect.script_of(word)):
            stem = inflect.stem(word, lang)
            by_language[lang] = frozenset({word, stem} if len(stem) >= inflect.MIN_STEM else {word})
        self.stems[word] = by_language
        for stem in {s for group in by_language.values() for s in group} | {word}:
            size, head = _head(stem)
            self.stem_heads.setdefault(size, {}).setdefault(head, set()).add(word)

    # matching -------------------------------------------------------------------------
    def find(self, text: Folded, languages: Iterable[str]) -> list[FormHit]:
        """Every place where a form occurs in ``text`` (folded offsets, overlaps kept)."""
        words = text.words
        accept = self._accept(set(words), frozenset(languages))
        starts: dict[str, list[Form]] = defaultdict(list)
        for key, tokens in accept.items():
            for form in self.by_first.get(key, ()):
                if all(slot in accept for slot in form.slots[1:]):
                    for token in tokens:
                        starts[token].append(form)
        hits = [hit for hit in self._cjk_hits(text)]
        if not starts:
            return hits
        for i in compress(count(), map(starts.__contains__, words)):
            for form in starts[words[i]]:
                hit = self._check(text, i, form, accept)
                if hit is not None:
                    hits.append(hit)
        return hits

    def _accept(self, unique: set[str], languages: frozenset[str]) -> dict[SlotKey, set[str]]:
        """Slot -> the distinct words of the text that it accepts (only slots that hit)."""
        accept: dict[SlotKey, set[str]] = {("x", w): {w} for w in unique & self.exact}
        if not self.prefix_heads and not self.stem_heads:
            return accept
        heads = {
            size: {t[:size] for t in unique if len(t) >= size}
            for size in _HEADS
            if size in self.prefix_heads or size in self.stem_heads
        }
        for size, table in self.prefix_heads.items():
            for head in heads[size] & table.keys():
                group = [t for t in unique if t.startswith(head)]
                for prefix in table[head]:
                    found = {t for t in group if t.startswith(prefix)}
                    if found:
                        accept[("p", prefix)] = found
        candidates: dict[str, set[str]] = defaultdict(set)  # query word -> text words
        for size, table in self.stem_heads.items():
            for head in heads[size] & table.keys():
                group = [t for t in unique if t.startswith(head)]
                for word in table[head]:
                    candidates[word].update(group)
        if candidates:
            self._accept_stems(candidates, languages, accept)
        return accept

    def _accept_stems(
        self,
        candidates: dict[str, set[str]],
        languages: frozenset[str],
        accept: dict[SlotKey, set[str]],
    ) -> None:
        pool = sorted({t for group in candidates.values() for t in group})
        stems_of = {
            lang: dict(zip(pool, inflect.stem_many(pool, lang), strict=True)) for lang in languages
        }
        for word, group in candidates.items():
            wanted = self.stems[word]
            found = {
                t
                for t in group
                if t == word
                or any(stems_of[lang][t] in wanted[lang] for lang in languages if lang in wanted)
            }
            if found:
                accept[("s", word)] = found

    def _check(
        self, text: Folded, i: int, form: Form, accept: dict[SlotKey, set[str]]
    ) -> FormHit | None:
        parts = text.parts
        last = i + len(form.slots) - 1
        if 2 * last + 1 >= len(parts):
            return None
        for j in range(1, len(form.slots)):
            if parts[2 * (i + j) + 1] not in accept[form.slots[j]]:
                return None
            if separator_key(parts[2 * (i + j)]) != form.seps[j - 1]:
                return None
        start, _ = text.word_span(i)
        _, end = text.word_span(last)
        if form.lead:
            before = separator_key_raw(parts[2 * i])
            if not before.endswith(form.lead) or (len(before) == len(form.lead) and i > 0):
                return None
            start -= len(form.lead)
        if form.trail:
            after = separator_key_raw(parts[2 * last + 2])
            is_end = 2 * last + 2 == len(parts) - 1
            if not after.startswith(form.trail) or (len(after) == len(form.trail) and not is_end):
                return None
            end += len(form.trail)
        return FormHit(form, start, end)

    def _cjk_hits(self, text: Folded) -> Iterable[FormHit]:
        for form in self.cjk:
            needle = form.surface.casefold()
            at = text.text.find(needle)
            while at != -1:
                yield FormHit(form, at, at + len(needle))
                at = text.text.find(needle, at + len(needle))


def separator_key_raw(sep: str) -> str:
    """Dashes and apostrophes unified, nothing else changed (for punctuation in terms)."""
    return sep.translate(_RAW)


_RAW = str.maketrans(
    {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
    | {c: "'" for c in "\u2019\u02bc\u2018`\u00b4"}
)
