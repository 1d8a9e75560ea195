"""The language of an article: py3langid over its title and text, else the page's lang.

The detector is limited to the languages newsmon can stem (see monitor.match.inflect) plus a
few common others, which makes it steadier on short texts. Texts shorter than
``MIN_CHARS`` letters are too short to tell: the page's ``lang`` attribute is used, if any.

py3langid counts its features by walking a byte automaton over the text in a Python loop,
which costs more than matching the article. Its automaton has no state deeper than
``_DEPTH`` bytes, so the state after any byte is the state reached from the start by the
``_DEPTH`` bytes that end there: ``_walker`` takes all those walks at once with numpy,
giving py3langid the same counts, in the same order (tests/test_match_fastpath.py). The
identifier's scores are then taken from those counts with numpy too (``_fast_scores``),
without a Python dict of counts: the same features, counts and order, so the same scores.
numpy is imported when a language is first detected, not at start-up. The model is read
once per process, small (monitor.extract.langmodel): 42 MB held, where py3langid's own
loader holds 64 MB and peaks at 105.
"""

from __future__ import annotations

import re
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from monitor.model import Article

__all__ = ["detect_language", "language_code", "with_language"]

MIN_CHARS = 40
MIN_CONFIDENCE = 0.5
_SAMPLE = 3000
_DEPTH = 6
_HEAD = 400  # letters are counted in this many characters first
_NON_LETTERS = re.compile(r"[\W\d_]+")
_ASCII_NON_LETTERS = str.maketrans(
    "", "", "".join(c for c in map(chr, range(128)) if not c.isalpha())
)
_KNOWN = [
    "ca",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "hu",
    "it",
    "lt",
    "nl",
    "no",
    "pl",
    "pt",
    "ro",
    "ru",
    "sr",
    "sv",
    "tr",
    "uk",
    "be",
    "bg",
    "mk",
    "ar",
    "he",
    "ja",
    "zh",
    "ko",
    "hi",
    "fa",
]


_LOADING = threading.Lock()
_model: Any = None


def _identifier() -> Any:
    """The model, loaded once per process: polls detect in several threads at once, and
    each load would otherwise keep a copy of its own (66 MB each)."""
    global _model
    if _model is None:
        with _LOADING:
            if _model is None:
                _model = _load()
    return _model


def _load() -> Any:
    from py3langid import langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    from monitor.extract.langmodel import read_model

    class Identifier(LanguageIdentifier):  # type: ignore[misc]
        """py3langid's, scoring with ``_fast_scores``."""

        __slots__ = ("fast_scores",)

        def _raw_score(self, text: bytes) -> Any:
            return self.fast_scores(text)

    model = read_model(MODEL_DIR / MODEL_FILE, _KNOWN)
    if model is None:  # laid out otherwise: py3langid's own loader (a higher peak)
        identifier = _as_loaded(Identifier.from_model_file(MODEL_FILE, norm_probs=True))
    else:
        ptc, pc, classes, moves, rows, output = model
        identifier = Identifier(ptc, pc, classes, moves, output, norm_probs=True, tk_row=rows)
        identifier._full_model = None  # the languages are chosen: the others are not read
    # per-state lists of Python ints cost ten times the arrays that hold the same numbers
    identifier._rowbase = array("L", identifier._rowbase)
    identifier.tk_output = array("l", identifier.tk_output)
    features = _walker(identifier)
    langid.visit_counts = _fast_visits(features, identifier.tk_nextmove, langid.visit_counts)
    original = partial(LanguageIdentifier._raw_score, identifier)
    identifier.fast_scores = _fast_scores(identifier, features, original)
    return identifier


def _as_loaded(identifier: Any) -> Any:
    """An identifier py3langid loaded, made what ``read_model`` reads: the languages
    chosen, the features' rows row-major in float32 (ten times faster to gather; the
    product casts them to float32 anyway), the other languages' table dropped (27 MB)
    and the moves held small."""
    import numpy as np

    from monitor.extract.langmodel import Moves

    identifier.set_languages(_KNOWN)
    identifier.nb_ptc = np.ascontiguousarray(identifier.nb_ptc, dtype=np.float32)
    identifier._full_model = None
    identifier.tk_nextmove = Moves.of(identifier.tk_nextmove)
    return identifier


def detect_language(text: str, declared: str | None = None) -> str | None:
    """An ISO 639-1 code, or None when neither the text nor ``declared`` tells."""
    sample = text[:_SAMPLE]
    hint = language_code(declared)
    if _letters(sample[:_HEAD]) < MIN_CHARS and _letters(sample) < MIN_CHARS:
        return hint
    language, confidence = _identifier().classify(sample)
    if float(confidence) < MIN_CONFIDENCE:
        return hint
    return str(language)


def language_code(tag: str | None) -> str | None:
    """The two-letter code of a language tag: "de" for "de-AT"; None for none."""
    return tag.split("-")[0].lower()[:2] or None if tag else None


def with_language(article: Article) -> Article:
    """The article with its language: its text's, else the one its page or feed declares.

    Done once, where the article is read, for every stage that asks (matching's stemmers,
    stories, the search filter, what an alert shows). A declared tag whose language the
    text confirms is kept as declared ("de-AT"); a wrong one ("en" on a Russian page) is
    replaced with what the text says."""
    declared = article.language
    found = detect_language(f"{article.title}\n{article.text}", declared)
    if found is None or language_code(declared) == found:
        return article
    return replace(article, language=found)


def _letters(text: str) -> int:
    """How many letters ``text`` holds (word characters other than digits and "_")."""
    if text.isascii():
        return len(text.translate(_ASCII_NON_LETTERS))
    return len(_NON_LETTERS.sub("", text))


_Visits = Callable[[Sequence[int], Sequence[int], Sequence[int], bytes], "Counter[int] | None"]
_Features = Callable[[bytes], Any]  # bytes -> int64 array of features, in the order met


def _walker(identifier: Any) -> _Features:
    """The features that py3langid's walk over ``text`` meets, in order, taken with numpy
    (for texts of at least ``4 * _DEPTH`` bytes)."""
    import numpy as np

    table = identifier.tk_nextmove  # a langmodel.Moves
    moves = table.take
    rows = np.asarray(identifier._rowbase, dtype=np.uint32)  # where each state's moves start
    outputs = np.asarray(identifier.tk_output, dtype=np.int32)
    byte = np.arange(256, dtype=np.uint32)
    # where the moves start of the state after any two bytes from the start, at
    # first * 256 + second
    pairs = rows[moves((rows[moves(rows[0] + byte)][:, None] + byte[None, :]).ravel())]
    rowbase, out = identifier._rowbase, identifier.tk_output

    def features(text: bytes) -> Any:
        found: list[int] = []
        state = 0
        for letter in text[: _DEPTH - 1]:  # walks that start at the first byte
            state = table[rowbase[state] + letter]
            if out[state] >= 0:
                found.append(out[state])
        # every other byte: the walk over the _DEPTH bytes that end there (``take``:
        # a few times faster than indexing with an array of uint32)
        data = np.frombuffer(text, dtype=np.uint8).astype(np.uint32)
        stop = len(data) - _DEPTH + 1
        base = pairs.take((data[:stop] << 8) | data[1 : stop + 1])
        for k in range(2, _DEPTH - 1):
            base = rows.take(moves(base + data[k : stop + k]))
        later = outputs.take(moves(base + data[_DEPTH - 1 : stop + _DEPTH - 1]))
        later = later[later >= 0]
        return np.concatenate((np.asarray(found, dtype=np.int32), later)) if found else later

    return features


def _fast_visits(features: _Features, table: Any, original: _Visits) -> _Visits:
    """py3langid's ``visit_counts`` for this identifier's automaton, taken with numpy."""

    def visits(
        nm: Sequence[int], rowbase: Sequence[int], out: Sequence[int], text: bytes
    ) -> Counter[int] | None:
        if nm is not table or len(text) < 4 * _DEPTH:
            return original(nm, rowbase, out, text)
        found = features(text).tolist()
        return Counter(found) if found else None

    return visits


def _fast_scores(
    identifier: Any, features: _Features, original: Callable[[bytes], Any]
) -> Callable[[bytes], Any]:
    """py3langid's ``_raw_score`` without its dict of counts: the features in the order
    they were first met, each with its count, as that dict holds them; so the same
    scores, to the bit."""
    import numpy as np

    def raw_score(text: bytes) -> Any:
        found = features(text) if len(text) >= 4 * _DEPTH else ()
        if not len(found):
            return original(text)
        keys, counts = _counted(found)
        table = identifier.nb_ptc.take(keys, axis=0)
        return np.log1p(counts.astype(np.float32)) @ table + identifier.nb_pc

    return raw_score


def _counted(found: Any) -> tuple[Any, Any]:
    """The distinct values of ``found`` in the order first met, and their counts."""
    import numpy as np

    size = len(found)
    # each value with its position: all distinct, so any sort is a stable one
    ordered = np.sort((found.astype(np.int64) << 32) | np.arange(size, dtype=np.int64))
    values = ordered >> 32
    is_first = np.empty(size, dtype=bool)
    is_first[0] = True
    np.not_equal(values[1:], values[:-1], out=is_first[1:])
    starts = np.flatnonzero(is_first)
    counts = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = size - starts[-1]
    order = np.argsort(ordered[starts] & 0xFFFFFFFF)  # by first position (distinct)
    return values[starts][order], counts[order]
