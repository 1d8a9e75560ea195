"""Watchlists compiled once; article -> matches with provenance.

A term matches as a whole word or phrase, case-insensitively, after Unicode NFKC
normalisation: ``NATO`` matches "NATO's", "Nato-Gipfel" and "anti-NATO" but never
"senator" or "Chinatown", because a letter or digit may not touch either end.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.config import Settings
from monitor.model import Article, Match

__all__ = ["Watchlist", "compile_watchlists", "find_matches", "normalise"]

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_HITS_PER_FIELD = 3
_CONTEXT = 90


@dataclass(frozen=True)
class Watchlist:
    name: str
    terms: tuple[str, ...]
    fields: tuple[str, ...]
    pattern: re.Pattern[str]


def normalise(text: str) -> str:
    """NFKC, invisible characters dropped; offsets of matches refer to this form."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


def _term_regex(term: str) -> str:
    words = normalise(term).split()
    return r"[\s\u00a0]+".join(re.escape(w) for w in words)


def compile_watchlists(settings: Settings) -> list[Watchlist]:
    compiled = []
    for name, wl in settings.watchlist.items():
        terms = tuple(dict.fromkeys(t.strip() for t in wl.terms))
        order = sorted(range(len(terms)), key=lambda i: -len(terms[i]))  # longest first
        alternation = "|".join(f"(?P<t{i}>{_term_regex(terms[i])})" for i in order)
        pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)
        compiled.append(Watchlist(name, terms, tuple(wl.fields), pattern))
    return compiled


def find_matches(watchlists: Iterable[Watchlist], article: Article) -> list[Match]:
    """Every watchlist hit in the article's title and text, at most a few per field."""
    fields = {"title": normalise(article.title), "text": normalise(article.text)}
    found: list[Match] = []
    for wl in watchlists:
        for field in wl.fields:
            text = fields[field]
            for n, hit in enumerate(wl.pattern.finditer(text)):
                if n >= _HITS_PER_FIELD:
                    break
                term = wl.terms[int(str(hit.lastgroup)[1:])]
                found.append(
                    Match(
                        watchlist=wl.name,
                        term=term,
                        field=field,
                        start=hit.start(),
                        end=hit.end(),
                        snippet=snippet(text, hit.start(), hit.end()),
                        found=hit.group(0),
                    )
                )
    return found


def snippet(text: str, start: int, end: int, context: int = _CONTEXT) -> str:
    """The words around [start, end), cut at word boundaries, with ellipses."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")
