"""Events: which story of other outlets' reports a new article tells the same news as.

Copies (copies.py) group one article's variants. Different outlets write their own text
about one event; these are grouped into an **event** by comparing weighted terms:

* ``terms(title, text, language)`` lowercases and stems the words of the headline
  (counted twice)
  and the opening ``LEAD_WORDS`` words, stemmed in the article's language
  (monitor/match/inflect.py; by script when unknown). Names (capitalised words not
  opening a sentence) and figures count ``BOOST`` times: they tell events apart.
* ``profile(counts, documents, total)`` weighs them by sublinear TF-IDF with document
  frequencies kept in the database (``term_counts``), L2-normalised and cut to the
  ``KEPT`` heaviest terms. Profiles are stored with each article; they are its index keys.
* ``similarity`` is their cosine, decayed exponentially with the hours between the two
  publication times (``DECAY``).
* ``pick_event`` joins the article to the candidate event whose ``LINK`` members nearest
  in time are *all* at least ``threshold`` similar (complete link): an event cannot drift
  through a chain of loosely related reports. When in doubt, a new event.

docs/stories.md explains the choices and the measured figures.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.match.inflect import LANGUAGES, script_of, stem_many

__all__ = [
    "BOOST",
    "DECAY",
    "GRACE",
    "KEPT",
    "LEAD_WORDS",
    "LINK",
    "INDEXED",
    "Candidate",
    "Profile",
    "decode",
    "encode",
    "index_keys",
    "pick_event",
    "picker",
    "profile",
    "similarity",
    "term_key",
    "terms",
    "weigher",
]

LEAD_WORDS = 150  # the opening tells the event; the rest adds background
BOOST = 1.5  # names and figures
INDEXED = 16  # of them in the index that finds candidate events
KEPT = 96  # heaviest terms kept per article
LINK = 4  # members nearest in time an article must resemble, every one
GRACE = 6 * 3600.0  # seconds: reports this close in publication time are not decayed
DECAY = 2 * 86400.0  # seconds: then similarity falls by 1/e over this gap
TITLE_TIMES = 2
_WORD = re.compile(r"\w+(?:[.,'’]\d+)*")
_SENTENCE_END = re.compile(r"[.!?:;\"“”«»]")
_MIN_LENGTH = 2
_STOP_WORDS = (  # the commonest words of the stemmed languages: no event in them
    "the a an and or of to in on at for by with from as is are was were be been it its this "
    "that these those he she they his her their we our you said says will would has have had "
    "not but after over into about than more who which what when where also can could",
    "der die das und oder ein eine zu im am mit von für ist sind war wurde den dem des",
    "и в во на с со по за к о об от из у что как это не но а же для",
)
_STOP = frozenset(word for line in _STOP_WORDS for word in line.split())


@dataclass(frozen=True)
class Profile:
    """An article's weighted terms (key -> weight, unit length) and publication time."""

    weights: Mapping[int, float]
    at: datetime


@dataclass(frozen=True)
class Candidate:
    """A recent event and its members' profiles (any order)."""

    event_id: int
    members: Sequence[Profile]


def _language(language: str | None, words: Sequence[str]) -> str | None:
    """The stemmer's language: the article's, else guessed from the script."""
    code = (language or "").split("-")[0].lower()
    if code in LANGUAGES:
        return code
    cyrillic = sum(script_of(w) == "cyrillic" for w in words[:50])
    return "ru" if cyrillic > len(words[:50]) / 2 else "en"


def term_key(term: str) -> int:
    """A signed 64-bit key for a stemmed term (the database's BIGINT)."""
    digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def terms(title: str, text: str, language: str | None = None) -> dict[int, float]:
    """Weighted term counts (key -> count) of the headline and the opening of the text."""
    counts: defaultdict[int, float] = defaultdict(float)
    lead = " ".join(text.split()[:LEAD_WORDS])
    for part, times in ((title, TITLE_TIMES), (lead, 1)):
        part = unicodedata.normalize("NFKC", part)
        words, weights = _words(part)
        code = _language(language, words)
        stems = stem_many(words, code) if code else words
        for stemmed, weight in zip(stems, weights, strict=True):
            counts[term_key(stemmed)] += times * weight
    return dict(counts)


def _words(part: str) -> tuple[list[str], list[float]]:
    """The casefolded words worth counting, each with its weight (names, figures boosted)."""
    words, weights = [], []
    is_start = True
    for found in _WORD.finditer(part):
        token = found.group()
        lower = token.casefold()
        is_name = token[:1].isupper() and not is_start
        is_figure = any(ch.isdigit() for ch in token)
        is_start = bool(_SENTENCE_END.match(part, found.end()))
        if lower in _STOP or (len(lower) < _MIN_LENGTH and not is_figure):
            continue
        words.append(lower)
        weights.append(BOOST if is_name or is_figure else 1.0)
    return words, weights


def profile(
    counts: Mapping[int, float], documents: Mapping[int, int], total: int, at: datetime
) -> Profile:
    """Sublinear TF-IDF weights, the ``KEPT`` heaviest, at unit length.

    ``documents`` gives how many stored articles have each term, ``total`` how many
    articles were counted (smoothed, so an empty database still weighs terms)."""
    raw = {
        key: (1.0 + math.log(tf)) * math.log((1.0 + total) / (1.0 + documents.get(key, 0)) + 1.0)
        for key, tf in counts.items()
        if tf > 0
    }
    kept = sorted(raw.items(), key=lambda kv: -kv[1])[:KEPT]
    norm = math.sqrt(sum(w * w for _, w in kept)) or 1.0
    return Profile({key: w / norm for key, w in kept}, at)


def similarity(a: Profile, b: Profile) -> float:
    """Cosine of the two profiles, decayed with the time between their publications."""
    small, large = (
        (a.weights, b.weights) if len(a.weights) <= len(b.weights) else (b.weights, a.weights)
    )
    cosine = sum(w * large.get(key, 0.0) for key, w in small.items())
    gap = abs((a.at - b.at).total_seconds())
    return cosine * math.exp(-max(0.0, gap - GRACE) / DECAY)


def pick_event(mine: Profile, candidates: Sequence[Candidate], threshold: float) -> int | None:
    """The event whose ``LINK`` members nearest in time all resemble this article at
    least ``threshold`` (the best such event), else None: a new event."""
    best: tuple[float, int] | None = None
    for candidate in candidates:
        nearest = sorted(candidate.members, key=lambda m: abs((m.at - mine.at).total_seconds()))
        if not nearest:
            continue
        weakest = min(similarity(mine, m) for m in nearest[:LINK])
        if weakest >= threshold and (best is None or weakest > best[0]):
            best = (weakest, candidate.event_id)
    return best[1] if best else None


def index_keys(mine: Profile) -> list[int]:
    """The ``INDEXED`` heaviest terms: the keys that find candidate events."""
    return [key for key, _ in sorted(mine.weights.items(), key=lambda kv: -kv[1])[:INDEXED]]


def encode(mine: Profile) -> bytes:
    """The weights as stored: keys (int64) then weights (float32), little-endian."""
    keys, weights = array("q", mine.weights.keys()), array("f", mine.weights.values())
    if sys.byteorder == "big":
        keys.byteswap()
        weights.byteswap()
    return keys.tobytes() + weights.tobytes()


def decode(stored: bytes, at: datetime) -> Profile:
    n = len(stored) // 12
    keys, weights = array("q"), array("f")
    keys.frombytes(stored[: 8 * n])
    weights.frombytes(stored[8 * n : 12 * n])
    if sys.byteorder == "big":
        keys.byteswap()
        weights.byteswap()
    return Profile(dict(zip(keys, weights, strict=True)), at)


def weigher(
    counts: Mapping[int, float], at: datetime
) -> Callable[[Mapping[int, int], int], tuple[bytes, list[int]]]:
    """For the store: given document frequencies, the stored profile and index keys."""

    def weigh(documents: Mapping[int, int], total: int) -> tuple[bytes, list[int]]:
        mine = profile(counts, documents, total, at)
        return encode(mine), index_keys(mine)

    return weigh


def picker(
    at: datetime, threshold: float
) -> Callable[[bytes, Sequence[tuple[int, Sequence[tuple[datetime, bytes]]]]], int | None]:
    """For the store: given the stored profile and candidate events, the one to join."""

    def pick(
        stored: bytes, candidates: Sequence[tuple[int, Sequence[tuple[datetime, bytes]]]]
    ) -> int | None:
        found = [
            Candidate(event, [decode(blob, when) for when, blob in members])
            for event, members in candidates
        ]
        return pick_event(decode(stored, at), found, threshold)

    return pick
