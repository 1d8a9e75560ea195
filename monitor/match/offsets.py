"""Offsets in the normalised text mapped back to the text as written.

Normalising (monitor.match.normalize.normalise) changes few places of a text: a
non-breaking space, an ellipsis, a ligature, a soft hyphen. Only the whitespace-separated
chunks that hold such a character are mapped character by character; between them an
offset moves by a constant shift.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from monitor.match.normalize import normalise

__all__ = ["Offsets", "original_offsets", "original_span"]


@dataclass(frozen=True)
class _Piece:
    """A changed chunk: where it starts in the normalised text, where each of its
    normalised characters comes from, and the shift of the offsets after it."""

    norm_start: int
    starts: list[int]
    ends: list[int]
    shift: int  # original offset minus normalised offset, after the piece


@dataclass(frozen=True)
class Offsets:
    """For each character of a normalised text, the span of the original it comes from."""

    size: int  # length of the normalised text
    pieces: list[_Piece]
    at: list[int]  # the pieces' norm_start, for bisecting
    clamp: int | None = None  # pieces did not add up: offsets kept as they are, up to this

    def start_of(self, k: int) -> int:
        if self.clamp is not None:
            return min(k, self.clamp)
        i = bisect_right(self.at, k) - 1
        if i < 0:
            return k
        piece = self.pieces[i]
        j = k - piece.norm_start
        return piece.starts[j] if j < len(piece.starts) else k + piece.shift

    def end_of(self, k: int) -> int:
        if self.clamp is not None:
            return min(k + 1, self.clamp)
        i = bisect_right(self.at, k) - 1
        if i < 0:
            return k + 1
        piece = self.pieces[i]
        j = k - piece.norm_start
        return piece.ends[j] if j < len(piece.ends) else k + 1 + piece.shift


def original_offsets(text: str, norm: str | None = None) -> Offsets | None:
    """Where each character of ``normalise(text)`` comes from in ``text``, or None when
    normalising changes nothing (``norm``: that normalised text, when the caller has it).
    Each character with the combining marks after it is normalised on its own; where
    that does not add up to the whole text (conjoining jamo, rare vowel signs), offsets
    are kept as they are, clamped."""
    norm = normalise(text) if norm is None else norm
    if norm == text:
        return None
    pieces: list[_Piece] = []
    parts: list[str] = []
    done = 0  # the original text up to here is in parts
    size = 0  # their length
    for start, end in _suspect_chunks(text):
        chunk = text[start:end]
        part = normalise(chunk)
        if part == chunk and not _has_marks(chunk):  # marks: their base's span takes them
            continue
        parts.append(text[done:start])
        norm_start = size + start - done
        starts: list[int] = []
        ends: list[int] = []
        at = start
        for stop in range(start + 1, end + 1):
            if stop < end and unicodedata.combining(text[stop]):
                continue
            part = normalise(text[at:stop])
            parts.append(part)
            starts += [at] * len(part)
            ends += [stop] * len(part)
            at = stop
        size = norm_start + len(starts)
        pieces.append(_Piece(norm_start, starts, ends, end - size))
        done = end
    parts.append(text[done:])
    if "".join(parts) != norm:
        return Offsets(len(norm), [], [], clamp=len(text))
    return Offsets(len(norm), pieces, [p.norm_start for p in pieces])


def original_span(offsets: Offsets | None, start: int, end: int) -> tuple[int, int]:
    """The span of the original text that ``[start, end)`` of the normalised text comes
    from (``offsets`` from ``original_offsets``), in whole characters: a hit that ends
    inside a ligature ("ﬁ" -> "fi") takes the ligature."""
    if offsets is None:
        return start, end
    size = offsets.size
    end = min(end, size)
    start = min(start, end)
    if start == end:
        at = offsets.start_of(start) if start < size else (offsets.end_of(size - 1) if size else 0)
        return at, at
    return offsets.start_of(start), offsets.end_of(end - 1)


def _has_marks(chunk: str) -> bool:
    """Whether ``chunk`` holds a combining mark that normalising left on its own (after
    a digit, or one NFKC does not compose): the character before it spans it too."""
    return any(unicodedata.combining(ch) for ch in chunk)


def _suspect_chunks(text: str) -> list[tuple[int, int]]:
    """The whitespace runs and the runs of other characters that hold a character that
    normalising may change or join to the one before it."""
    chunks: list[tuple[int, int]] = []
    size = len(text)
    for m in _suspects(frozenset(text)).finditer(text):
        p = m.start()
        if chunks and p < chunks[-1][1]:
            continue
        space = text[p].isspace()
        start, end = p, p + 1
        while start > 0 and text[start - 1].isspace() is space:
            start -= 1
        while end < size and text[end].isspace() is space:
            end += 1
        chunks.append((start, end))
    return chunks


def _suspects(chars: frozenset[str]) -> re.Pattern[str]:
    return _pattern("".join(sorted(ch for ch in chars if not ch.isascii() and _may_change(ch))))


@lru_cache(maxsize=256)
def _pattern(chars: str) -> re.Pattern[str]:
    return re.compile("[" + "".join(map(re.escape, chars)) + "]" if chars else "(?!)")


@lru_cache(maxsize=8192)
def _may_change(ch: str) -> bool:
    """Changed by normalising, or one that NFKC may join to the character before it
    (combining marks, Hangul jamo)."""
    return (
        normalise(ch) != ch
        or unicodedata.category(ch).startswith("M")
        or "\u1100" <= ch <= "\u11ff"
        or "\ua960" <= ch <= "\ua97f"
        or "\ud7b0" <= ch <= "\ud7ff"
        or unicodedata.combining(ch) != 0
    )
