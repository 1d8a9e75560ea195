"""Every watchlist's words in one Aho-Corasick automaton (ahocorasick_rs, a DFA), so the
cost of matching does not grow with the number of terms.

A *form* is one concrete way a term can appear: a sequence of *slots* (a word as
written, a prefix, or a word with its inflections) with the separators between them.
Each form is filed under an *anchor*: its first word, its prefix, or the part that the
word and its stems share ("рябк" for "Рябков"). One pass of the automaton over the
casefolded text finds every anchor; only there is the rest of the form checked: whole-word
edges, the following words and separators, stems in the article's language. Terms in
Chinese or Japanese script, written without spaces, match anywhere (no word edges).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import ahocorasick_rs

from monitor.match import inflect
from monitor.match.normalize import is_cjk, separator_key

__all__ = ["Form", "FormHit", "Languages", "Lexicon", "SlotKey", "separator_key_raw"]

SlotKey = tuple[str, str]  # ("x", word) as written, ("p", prefix), ("s", word with inflections)
_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"\W*")
_RAW = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")
    | dict.fromkeys("\u2019\u02bc\u2018`\u00b4", "'")
)


def separator_key_raw(sep: str) -> str:
    """Dashes and apostrophes unified, nothing else changed (for punctuation in terms)."""
    return sep.translate(_RAW)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class Form:
    slots: tuple[SlotKey, ...]
    seps: tuple[str, ...]  # separator keys between the slots
    lead: str  # punctuation that must stand right before the first word ("" for none)
    trail: str  # ... and right after the last ("++" in "C++")
    surface: str  # as written or expanded, before casefolding
    how: str  # "as written", "prefix", "with inflections", "transliterated from X"
    case: str = "ignore"  # ignore, proper or exact

    @property
    def is_cjk(self) -> bool:
        return is_cjk(self.surface)

    def __hash__(self) -> int:
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.slots, self.seps, self.lead, self.trail, self.surface, self.case))
            object.__setattr__(self, "_hash", cached)
        return cached


class FormHit(NamedTuple):
    form: Form
    start: int  # folded offsets
    end: int


@dataclass
class Lexicon:
    """The combined index of many forms: ``add`` them, then ``find`` (which freezes it)."""

    stems: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    _anchors: dict[str, list[Form]] = field(default_factory=dict)
    _automaton: Any = None
    _accepted: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    _stemmed: dict[tuple[str, str], str] = field(default_factory=dict)
    # stemmers -> (anchor, word) -> what the word starts there, kept across texts
    _decided: dict[frozenset[str], dict[tuple[int, str], _Decision]] = field(default_factory=dict)

    def add(self, form: Form) -> None:
        if form.is_cjk:
            anchor = form.surface.casefold()
        else:
            kind, word = form.slots[0]
            anchor = self._stem_anchor(word) if kind == "s" else word
            for kind, word in form.slots:
                if kind == "s":
                    self._stem_anchor(word)
        forms = self._anchors.setdefault(anchor, [])
        if form not in forms:
            forms.append(form)
        self._automaton = None
        self._decided.clear()

    def anchor(self, word: str) -> str:
        """Where an inflected word is looked for: every form of ``word`` that matching
        accepts as its first word starts with this (what full-text search relies on)."""
        return self._stem_anchor(word)

    def _stem_anchor(self, word: str) -> str:
        """Record the word's stems; return the start that every accepted word shares."""
        if word not in self.stems:
            by_language: dict[str, frozenset[str]] = {}
            for lang in inflect.languages_for(inflect.script_of(word)):
                stem = inflect.stem(word, lang)
                is_usable = len(stem) >= inflect.MIN_STEM
                by_language[lang] = frozenset({word, stem} if is_usable else {word})
            self.stems[word] = by_language
        common = os.path.commonprefix([word, *(s for g in self.stems[word].values() for s in g)])
        return common if len(common) >= 3 else word

    @property
    def size(self) -> int:
        return sum(len(forms) for forms in self._anchors.values())

    def prepare(self) -> None:
        """Build the automaton now rather than on the first ``find``."""
        self._built()

    def _built(self) -> tuple[Any, list[_Entry], list[bool]]:
        if self._automaton is None:
            automaton = ahocorasick_rs.AhoCorasick(
                list(self._anchors), implementation=ahocorasick_rs.Implementation.DFA
            )
            entries = [_entry(anchor, fs) for anchor, fs in self._anchors.items()]
            has_cjk = [any(kind == _CJK for _, kind in entry) for entry in entries]
            self._automaton = (automaton, entries, has_cjk)
        return self._automaton  # type: ignore[no-any-return]

    # matching -------------------------------------------------------------------------
    def find(self, text: str, languages: Languages) -> list[FormHit]:
        """Every place where a form occurs in the casefolded ``text`` (overlaps kept).

        ``languages``: the stemmers to try, or a function that gives them; it is called
        only when an inflected word's match depends on them (detecting the language of
        an article costs more than matching it)."""
        if not self._anchors:
            return []
        langs = _Languages(languages)
        hits: list[FormHit] = []
        automaton, entries, has_cjk = self._built()
        is_known = langs.known
        decided: dict[tuple[int, str], _Decision] | None = None
        for index, start, end in automaton.find_matches_as_indexes(text, overlapping=True):
            before = text[start - 1] if start else " "
            is_edge = not (before.isalnum() or before == "_")
            if has_cjk[index]:
                self._check(text, start, end, entries[index], is_edge, langs, hits)
                continue
            if not is_edge:
                continue
            # what the word at the anchor is decides, kept once the stemmers are known
            # (else asked for only if a stemmer's answer matters); the rest of a longer
            # form is then checked here
            token = _word_at(text, start)
            if is_known:
                if decided is None:
                    decided = self._decisions(langs.get())
                found = decided.get((index, token))
                if found is None:
                    found = decided[(index, token)] = self._decide(entries[index], token, langs)
            else:
                found = self._decide(entries[index], token, langs)
            if found is _NOTHING:
                continue
            words, longer = found
            if words:
                stop = start + len(token)
                hits += [FormHit(form, start, stop) for form in words]
            for form in longer:
                stop = self._verify(text, start, form, langs, first=token)
                if stop is not None:
                    hits.append(FormHit(form, start - len(form.lead), stop + len(form.trail)))
        return hits

    def _check(
        self,
        text: str,
        start: int,
        end: int,
        entry: _Entry,
        is_edge: bool,
        langs: _Languages,
        hits: list[FormHit],
    ) -> None:
        """The forms under an anchor of Chinese or Japanese script (matched anywhere)
        found at ``start``, checked one by one."""
        after = text[end] if end < len(text) else " "
        is_whole = not (after.isalnum() or after == "_")
        token = ""
        for form, kind in entry:
            if kind == _CJK:
                hits.append(FormHit(form, start, end))
            elif not is_edge:
                continue
            elif kind == _WHOLE:
                if is_whole:
                    hits.append(FormHit(form, start, end))
            elif kind == _ONE:
                token = token or _word_at(text, start)
                if self._accepts(form.slots[0], token, langs):
                    hits.append(FormHit(form, start, start + len(token)))
            else:
                stop = self._verify(text, start, form, langs)
                if stop is not None:
                    hits.append(FormHit(form, start - len(form.lead), stop + len(form.trail)))

    def _decisions(self, languages: frozenset[str]) -> dict[tuple[int, str], _Decision]:
        """The decisions kept for these stemmers: (anchor, word) -> what it starts."""
        decided = self._decided.get(languages)
        if decided is None:
            if len(self._decided) >= 8:
                self._decided.clear()
            decided = self._decided[languages] = {}
        elif len(decided) >= _CACHE_MAX:
            decided.clear()
        return decided

    def _decide(self, entry: _Entry, token: str, languages: _Languages) -> _Decision:
        """(the one-word forms that ``token`` is, the longer forms it may start): the
        word found where an anchor is, for every form filed under that anchor."""
        words: list[Form] = []
        longer: list[Form] = []
        for form, kind in entry:
            if kind == _WHOLE:
                if token == form.slots[0][1]:
                    words.append(form)
            elif self._accepts(form.slots[0], token, languages):
                (words if kind == _ONE else longer).append(form)
        return (tuple(words), tuple(longer)) if words or longer else _NOTHING

    def _verify(
        self, text: str, start: int, form: Form, languages: _Languages, first: str = ""
    ) -> int | None:
        """The end of the form's last word when the form starts at ``start``; ``first``:
        the word there, when it is known to be the form's first."""
        pos = start + len(first)
        for j, slot in enumerate(form.slots):
            if j == 0 and first:
                continue
            if j:
                gap = _NON_WORD.match(text, pos)
                assert gap is not None
                if separator_key(gap.group()) != form.seps[j - 1]:
                    return None
                pos = gap.end()
            word = _WORD.match(text, pos)
            if word is None or not self._accepts(slot, word.group(), languages):
                return None
            pos = word.end()
        if form.lead:
            before = separator_key_raw(text[max(0, start - len(form.lead) - 1) : start])
            if not before.endswith(form.lead) or (
                len(before) > len(form.lead) and _is_word_char(before[0])
            ):
                return None
        if form.trail:
            after = separator_key_raw(text[pos : pos + len(form.trail) + 1])
            if not after.startswith(form.trail) or (
                len(after) > len(form.trail) and _is_word_char(after[-1])
            ):
                return None
        return pos

    def _accepts(self, slot: SlotKey, token: str, languages: _Languages) -> bool:
        kind, word = slot
        if kind == "x" or token == word:
            return token == word
        if kind == "p":
            return token.startswith(word)
        accepting = self._accepted.get((word, token))
        if accepting is None and languages.known:  # only this text's stemmers are wanted
            wanted = self.stems[word]
            return any(self._stem(token, g) in wanted[g] for g in languages.get() if g in wanted)
        if accepting is None:
            accepting = self._accepting(word, token)
        return bool(accepting) and not accepting.isdisjoint(languages.get())

    def _accepting(self, word: str, token: str) -> frozenset[str]:
        """The languages whose stemmer takes ``token`` for a form of ``word`` (kept
        across texts: the same words recur)."""
        wanted = self.stems[word]
        found = frozenset(g for g, ok in wanted.items() if self._stem(token, g) in ok)
        if len(self._accepted) >= _CACHE_MAX:
            self._accepted.clear()
        self._accepted[(word, token)] = found
        return found

    def _stem(self, token: str, language: str) -> str:
        key = (token, language)
        found = self._stemmed.get(key)
        if found is None:
            if len(self._stemmed) >= _CACHE_MAX:
                self._stemmed.clear()
            found = self._stemmed[key] = inflect.stem(token, language)
        return found


Languages = Iterable[str] | Callable[[], Iterable[str]]
# how a form is checked where its anchor is found: the anchor as a whole word, anywhere
# (Chinese or Japanese script, written without spaces), one word, or word by word
_WHOLE, _CJK, _ONE, _WORDS = 0, 1, 2, 3
_Entry = tuple[tuple[Form, int], ...]
_Decision = tuple[tuple[Form, ...], tuple[Form, ...]]
_NOTHING: _Decision = ((), ())
_CACHE_MAX = 20_000  # entries per cache: a few MB at most


def _word_at(text: str, start: int) -> str:
    word = _WORD.match(text, start)
    return word.group() if word else ""


def _entry(anchor: str, forms: list[Form]) -> _Entry:
    """The forms filed under ``anchor``, in the order they were added, each with its kind."""
    out = []
    for f in forms:
        if f.is_cjk:
            out.append((f, _CJK))
        elif f.slots == (("x", anchor),) and not f.lead and not f.trail:
            out.append((f, _WHOLE))
        elif len(f.slots) == 1 and not f.lead and not f.trail:
            out.append((f, _ONE))
        else:
            out.append((f, _WORDS))
    return tuple(out)


class _Languages:
    """The stemmers for one text, asked for at most once."""

    __slots__ = ("_given", "_langs")

    def __init__(self, given: Languages) -> None:
        self._given = given
        self._langs: frozenset[str] | None = None

    @property
    def known(self) -> bool:
        """Told, or asked for already: nothing left to detect."""
        return self._langs is not None or not callable(self._given)

    def get(self) -> frozenset[str]:
        if self._langs is None:
            given = self._given
            self._langs = frozenset(given() if callable(given) else given)
        return self._langs
