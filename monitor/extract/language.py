"""The language of an article: py3langid over its title and text, else the page's lang.

The detector is limited to the languages newsmon can stem (see monitor.match.inflect) plus a
few common others, which makes it steadier on short texts. Texts shorter than
``MIN_CHARS`` letters are too short to tell: the page's ``lang`` attribute is used, if any.

py3langid counts its features by walking a byte automaton over the text in a Python loop,
which costs more than matching the article. Its automaton has no state deeper than
``_DEPTH`` bytes, so the state after any byte is the state reached from the start by the
``_DEPTH`` bytes that end there: ``_visit_counts`` takes all those walks at once with numpy
and gives py3langid the same counts, in the same order (tests/test_match_fastpath.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

__all__ = ["detect_language"]

MIN_CHARS = 40
MIN_CONFIDENCE = 0.5
_SAMPLE = 3000
_DEPTH = 6
_HEAD = 400  # letters are counted in this many characters first
_LETTERS = re.compile(r"[^\W\d_]")
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


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid import langid
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(_KNOWN)
    langid.visit_counts = _fast_visits(identifier, langid.visit_counts)
    return identifier


def detect_language(text: str, declared: str | None = None) -> str | None:
    """An ISO 639-1 code, or None when neither the text nor ``declared`` tells."""
    sample = text[:_SAMPLE]
    hint = declared.split("-")[0].lower()[:2] if declared else None
    head = len(_LETTERS.findall(sample, 0, _HEAD))
    if head < MIN_CHARS and len(_LETTERS.findall(sample)) < MIN_CHARS:
        return hint
    language, confidence = _identifier().classify(sample)
    if float(confidence) < MIN_CONFIDENCE:
        return hint
    return str(language)


_Visits = Callable[[Sequence[int], Sequence[int], Sequence[int], bytes], "Counter[int] | None"]


def _fast_visits(identifier: Any, original: _Visits) -> _Visits:
    """py3langid's ``visit_counts`` for this identifier's automaton, taken with numpy."""
    import numpy as np  # here, not at the top: a poll that detects no language skips it

    table = identifier.tk_nextmove  # an array.array, viewed rather than copied
    moves = np.frombuffer(table, dtype=np.dtype(table.typecode))
    rows = np.asarray(identifier._rowbase, dtype=np.int64)
    outputs = np.asarray(identifier.tk_output, dtype=np.int64)
    byte = np.arange(256, dtype=np.int64)
    # the state after any two bytes from the start, at first * 256 + second
    pairs = moves[(rows[moves[rows[0] + byte]][:, None] + byte[None, :]).ravel()]

    def visits(
        nm: Sequence[int], rowbase: Sequence[int], out: Sequence[int], text: bytes
    ) -> Counter[int] | None:
        if nm is not table or len(text) < 4 * _DEPTH:
            return original(nm, rowbase, out, text)
        found: list[int] = []
        state = 0
        for letter in text[: _DEPTH - 1]:  # walks that start at the first byte
            state = nm[rowbase[state] + letter]
            if out[state] >= 0:
                found.append(out[state])
        # every other byte: the walk over the _DEPTH bytes that end there
        data = np.frombuffer(text, dtype=np.uint8)
        stop = len(data) - _DEPTH + 1
        states = pairs[data[:stop].astype(np.int64) * 256 + data[1 : stop + 1]]
        for k in range(2, _DEPTH):
            states = moves[rows[states] + data[k : stop + k]]
        features = outputs[states]
        found += features[features >= 0].tolist()
        return Counter(found) if found else None

    return visits
