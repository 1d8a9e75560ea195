"""Text normalisation for matching: NFKC, invisible characters dropped, casefolded words.

``normalise`` gives the text that match offsets refer to; monitor.match.offsets maps them
back to the text as written, so that what is shown is cut from the article itself.
``Folded`` casefolds it and splits it into words (maximal runs of letters, digits and
``_``) and the separators between them, keeping a map back to normalised offsets when
casefolding changes a length ("ß" -> "ss"). ``sentence_around`` cuts the sentence that holds a hit.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "Folded",
    "fold",
    "is_cjk",
    "normalise",
    "sentence_around",
    "separator_key",
    "words_of",
]

# soft hyphen, zero-width space/joiners, word joiner, BOM; combining accents left after NFKC
# (Russian stress marks: "Рябко́в" is "Рябков")
_DROP = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\u0300-\u036f]")
_PARTS = re.compile(r"(\w+)")
_WORDS = re.compile(r"\s+|\S+")
_SEP_FOLD = str.maketrans(
    {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
    | {c: "'" for c in "\u2019\u02bc\u2018`\u00b4"}
)
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SNIPPET_MAX = 240
_CONTEXT = 90
_MARK = re.compile("[.!?…\n]")
_LAST_MARK = re.compile("(?s).*[.!?…\n]")  # up to the last mark: greedy, in one call
_CLOSERS = ".!?…\"'»”’)]"
_ABBREVIATION = re.compile(
    r"(?:^|[\s(])(?:\w|mr|mrs|ms|dr|prof|st|gen|lt|col|sgt|jr|sr|vs|no|nr|inc|ltd|co|corp|"
    r"ca|bzw|z\.b|u\.a|d\.h|usw|ggf|vgl|etc|т\.е|т\.д|г|гг|ул|им|см|e\.g|i\.e|u\.s)\.$",
    re.IGNORECASE,
)


def _expands(text: str) -> re.Pattern[str]:
    """The characters of ``text`` that casefolding makes longer ("ß" -> "ss")."""
    grows = sorted(ch for ch in set(text) if len(ch.casefold()) != 1)
    return _expanding("".join(grows))


@lru_cache(maxsize=256)
def _expanding(chars: str) -> re.Pattern[str]:
    return re.compile("[" + "".join(map(re.escape, chars)) + "]")


def normalise(text: str) -> str:
    """NFKC, invisible characters and stray combining accents dropped."""
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _DROP.sub("", text) if _DROP.search(text) else text


def is_cjk(text: str) -> bool:
    """Chinese or Japanese script, written without spaces between words."""
    return _CJK.search(text) is not None


def separator_key(sep: str) -> str:
    """What must agree between a term's and the text's separator: whitespace runs are one
    space, dashes are '-', apostrophes are "'"."""
    return " ".join(sep.translate(_SEP_FOLD).split()) or (" " if sep else "")


@dataclass(frozen=True)
class Folded:
    """A casefolded text, with a map back to normalised offsets where casefolding made a
    character longer ("ß" -> "ss")."""

    text: str
    grown_at: list[int]  # folded offsets of characters that casefolding lengthened
    grown: list[tuple[int, int, int]]  # (their length, normalised offset, shift after them)

    def to_normalised(self, offset: int) -> int:
        """The normalised offset that a folded offset comes from."""
        k = bisect_right(self.grown_at, offset) - 1
        if k < 0:
            return offset
        size, norm_at, shift = self.grown[k]
        if offset < self.grown_at[k] + size:
            return norm_at if offset == self.grown_at[k] else norm_at + 1
        return offset - shift


def fold(norm: str) -> Folded:
    """Casefold ``norm`` (already normalised)."""
    folded = norm.casefold()
    grown_at: list[int] = []
    grown: list[tuple[int, int, int]] = []
    if len(folded) != len(norm):
        shift = 0
        for m in _expands(norm).finditer(norm):
            size = len(m.group().casefold())
            grown_at.append(m.start() + shift)
            shift += size - 1
            grown.append((size, m.start(), shift))
    return Folded(folded, grown_at, grown)


def words_of(text: str) -> tuple[str, list[str]]:
    """(text before the first word, [word, separator, word, separator, ...])."""
    parts = _PARTS.split(text)
    return parts[0], parts[1:]


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence that holds ``text[start:end]``, whitespace collapsed; a long sentence is
    cut to the words around the hit, with ellipses where it was cut."""
    left = _sentence_start(text, start)
    right = _sentence_end(text, end)
    if right - left > _SNIPPET_MAX:
        return _window(text, start, end, left, right)
    return " ".join(text[left:right].split())


def _boundary_end(text: str, at: int) -> int | None:
    """Where the sentence that ends with the mark at ``at`` ends, or None if it does not."""
    if text[at] == "\n":
        return at
    end = at + 1
    while end < len(text) and text[end] in _CLOSERS:
        end += 1
    if end < len(text) and not text[end].isspace():
        return None  # "3.5", "U.S.A", "example.org"
    nxt = text[end : end + 3].lstrip()
    if nxt and nxt[0].islower():
        return None
    if text[at] == "." and _ABBREVIATION.search(text, max(0, at - 6), at + 1):
        return None
    return end


def _sentence_start(text: str, start: int) -> int:
    low = max(0, start - _SNIPPET_MAX)
    found, stop = low, start
    while (mark := _LAST_MARK.match(text, low, stop)) is not None:  # nearest first
        at = mark.end() - 1
        end = _boundary_end(text, at)
        if end is not None and end <= start:
            found = end
            break
        stop = at
    while found < start and text[found].isspace():
        found += 1
    return found


def _sentence_end(text: str, end: int) -> int:
    high = min(len(text), end + _SNIPPET_MAX)
    for mark in _MARK.finditer(text, end, high):
        stop = _boundary_end(text, mark.start())
        if stop is not None:
            return stop
    return high


def _window(text: str, start: int, end: int, left: int, right: int) -> str:
    """The words around [start, end) inside [left, right), with ellipses at the cuts."""
    lo = max(left, start - _CONTEXT)
    hi = min(right, end + _CONTEXT)
    if lo > left:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < right:
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    body = " ".join(text[lo:hi].split())
    return ("…" if lo > left else "") + body + ("…" if hi < right else "")
