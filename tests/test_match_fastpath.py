"""The fast paths of matching give what the straightforward algorithms give: offsets
mapped back only around the changed chunks, anchors taken as whole words without a
word-by-word check, stems cached across articles, the language asked for only when an
inflected word depends on it."""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter

from hypothesis import example, given
from hypothesis import strategies as st

from monitor.extract.language import _identifier, detect_language
from monitor.match import inflect
from monitor.match.automaton import Form, FormHit, Lexicon
from monitor.match.forms import Options, term_forms
from monitor.match.normalize import fold, normalise, separator_key
from monitor.match.offsets import original_offsets, original_span
from monitor.query.syntax import term_node

TEXTS = [
    "Рябкова встретили в Москве; Рябкову сказали «нет». Україну, України, Украине.",
    "Die Straße in Gießen: STRASSE, Ukrainern und den Ukrainer\u00adn halfen.",
    "Café cafe\u0301 naïve nai\u0308ve São Paulo — Zürich, Ελλάδα και Ελλάδας.",
    "Ｎａｔｏ and ＮＡＴＯ met at ＯＳＣＥ；full\u3000width ﬁnance ﬂag … #metoo a#metoo",
    "NATO\u00a0summit\u2009in Kyiv \u2026 C++ and C# and e-mail\u2011address O\u2019Neil.",
    "中华人民共和国 and 東京都 with ﾃｽﾄ and 한국어 \u1100\u1161\u11a8 here.",
    "zero\u200bwidth join\u200dhere, Rja\u0301bkov Ryabkov's Riabkova Rjabkow.",
    "",
    "ß",
    "\u00ad\u00ad",
]
TERMS = [
    "#MeToo",
    "Рябков",
    "Ukraine",
    "Straße",
    "NATO",
    "C++",
    "ﬁnance",
    "São Paulo",
    "東京",
    "e-mail",
]
_Spot = tuple[Form, int, int]
TRICKY = "aßé\u0301\u00ad\u200b\u00a0 \u2026ﬁＮ한\u1100\u1161\u11a8ǅİΣς\u3000Рр-’\n"


def _reference_offsets(text: str) -> tuple[list[int], list[int]]:
    """Each normalised character's original span, mapped chunk by chunk and character by
    character (what original_offsets did before it skipped unchanged chunks)."""
    norm = normalise(text)
    starts: list[int] = []
    ends: list[int] = []
    parts: list[str] = []
    for word in re.finditer(r"\s+|\S+", text):
        start = word.start()
        for at in range(start + 1, word.end() + 1):
            if at < word.end() and unicodedata.combining(text[at]):
                continue
            part = normalise(text[start:at])
            parts.append(part)
            starts += [start] * len(part)
            ends += [at] * len(part)
            start = at
    if "".join(parts) != norm:
        starts = [min(k, len(text)) for k in range(len(norm))]
        ends = [min(k + 1, len(text)) for k in range(len(norm))]
    return starts, ends


def _check_offsets(text: str) -> None:
    norm = normalise(text)
    offsets = original_offsets(text, norm)
    starts, ends = _reference_offsets(text)
    if offsets is None:
        assert norm == text
        return
    for k in range(len(norm)):
        assert original_span(offsets, k, k + 1) == (starts[k], ends[k]), (text, k)
    assert original_span(offsets, len(norm), len(norm) + 5)[0] == (ends[-1] if ends else 0)


def test_offsets_agree_with_the_reference_on_varied_texts() -> None:
    for text in TEXTS:
        _check_offsets(text)
        _check_offsets(text * 3)


@given(st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=40))
@example("\xa00\ua674")  # a mark NFKC leaves after a digit, in a text it changes elsewhere
def test_offsets_agree_with_the_reference_on_any_text(text: str) -> None:
    _check_offsets(text)


def _reference_find(forms: list[Form], lexicon: Lexicon, text: str, langs: set[str]) -> set[_Spot]:
    """Every form tried at every word start, word by word, stems computed afresh."""
    found: set[_Spot] = set()
    for form in forms:
        if form.is_cjk:
            needle = form.surface.casefold()
            found |= {(form, m.start(), m.end()) for m in re.finditer(re.escape(needle), text)}
            continue
        for word in re.finditer(r"\w+", text):
            end = _reference_at(form, lexicon, text, word.start(), langs)
            if end is not None:
                found.add((form, word.start() - len(form.lead), end + len(form.trail)))
    return found


def _reference_at(form: Form, lexicon: Lexicon, text: str, pos: int, langs: set[str]) -> int | None:
    start = pos
    for j, (kind, wanted) in enumerate(form.slots):
        if j:
            gap = re.compile(r"\W*").match(text, pos)
            assert gap is not None
            if separator_key(gap.group()) != form.seps[j - 1]:
                return None
            pos = gap.end()
        token = re.compile(r"\w+").match(text, pos)
        if token is None:
            return None
        word = token.group()
        stems = lexicon.stems.get(wanted, {})
        if not (
            word == wanted
            or (kind == "p" and word.startswith(wanted))
            or (kind == "s" and any(inflect.stem(word, g) in stems.get(g, ()) for g in langs))
        ):
            return None
        pos = token.end()
    before, after = _unified(text[:start]), _unified(text[pos : pos + len(form.trail) + 1])
    if form.lead and (
        not before.endswith(form.lead)
        or (len(before) > len(form.lead) and re.match(r"\w", before[-len(form.lead) - 1]))
    ):
        return None
    if form.trail and (
        not after.startswith(form.trail)
        or (len(after) > len(form.trail) and re.match(r"\w", after[-1]))
    ):
        return None
    return pos


def _unified(text: str) -> str:
    """Dashes as "-", apostrophes as "'"."""
    return re.sub("[\u2019\u02bc\u2018`\u00b4]", "'", re.sub("[\u2010-\u2015\u2212]", "-", text))


def _lexicon(options: Options) -> tuple[Lexicon, list[Form]]:
    lexicon = Lexicon()
    forms: list[Form] = []
    for term in TERMS + ["Ukrain*", "NATO summit", "Рябков OSCE"]:
        for form in term_forms(term_node(term), options):
            lexicon.add(form)
            forms.append(form)
    return lexicon, list(dict.fromkeys(forms))


def _as_set(hits: list[FormHit]) -> set[_Spot]:
    return {(h.form, h.start, h.end) for h in hits}


def test_lexicon_agrees_with_trying_every_form_at_every_word() -> None:
    for options in (Options(), Options(inflect=True, translit=True)):
        lexicon, forms = _lexicon(options)
        for text in TEXTS + [" ".join(TEXTS)]:
            folded = fold(normalise(text)).text
            for langs in ({"ru", "uk"}, {"de"}, {"en", "de", "ru", "uk"}):
                found = _as_set(lexicon.find(folded, langs))
                assert found == _reference_find(forms, lexicon, folded, langs), (text, langs)


def test_the_language_is_asked_for_only_when_an_inflected_word_depends_on_it() -> None:
    lexicon, _ = _lexicon(Options(inflect=True, translit=True))
    asked: list[int] = []

    def languages() -> set[str]:
        asked.append(1)
        return {"ru", "uk"}

    assert lexicon.find("рябков и nato встретились", languages)  # as written: no need
    assert not asked
    assert {h.end - h.start for h in lexicon.find("рябкова и рябкову", languages)} == {7}
    assert len(asked) == 1  # once per text, however many words depend on it
    assert not lexicon.find("рябкова", lambda: {"de"})


def _reference_visits(identifier: object, text: bytes) -> list[tuple[int, int]]:
    """py3langid's feature counts, walked byte by byte as py3langid does."""
    nm, rowbase, out = identifier.tk_nextmove, identifier._rowbase, identifier.tk_output  # type: ignore[attr-defined]
    state, found = 0, []
    for letter in text:
        state = nm[rowbase[state] + letter]
        if out[state] >= 0:
            found.append(out[state])
    return list(Counter(found).items())


def test_language_features_are_counted_as_py3langid_counts_them() -> None:
    from py3langid import langid

    identifier = _identifier()
    rng = random.Random(5)
    noise = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(30)]
    for text in [t.encode() for t in TEXTS] + [" ".join(TEXTS).encode()] + noise:
        visits = langid.visit_counts(
            identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, text
        )
        assert list((visits or {}).items()) == _reference_visits(identifier, text), text
    assert detect_language(TEXTS[0] * 3) in ("ru", "uk")
    assert detect_language(TEXTS[1] * 3) == "de"


def test_language_scores_are_py3langid_scores_to_the_bit() -> None:
    """Scored from numpy counts, the identifier gives what py3langid itself gives from
    its walk and its dict of counts, on a model loaded afresh."""
    import numpy as np
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from monitor.extract.language import _KNOWN

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(_KNOWN)
    identifier = _identifier()
    rng = random.Random(11)
    words = " ".join(TEXTS).split() + ["the", "und", "и", "на", "de", "la", "και"]
    texts = [" ".join(rng.choices(words, k=rng.randrange(3, 600))) for _ in range(150)]
    texts += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(50)]
    texts += TEXTS
    for text in texts:
        data = reference._encode(text)
        counts = Counter(dict(_reference_visits(identifier, data)))
        expected = (
            reference._sparse_score(counts, reference.nb_ptc)
            if counts
            else reference._raw_score(data)
        )
        assert np.array_equal(identifier._raw_score(data), expected), text
        assert identifier.classify(text) == reference.classify(text), text


@given(st.text(alphabet=st.sampled_from(TRICKY + "abc XYZ 09_.,'1²½") | st.characters()))
def test_letters_are_counted_as_the_letter_pattern_finds_them(text: str) -> None:
    from monitor.extract.language import _letters

    assert _letters(text) == len(re.findall(r"[^\W\d_]", text))
    assert _letters(text.encode("ascii", "ignore").decode()) == len(
        re.findall(r"[^\W\d_]", text.encode("ascii", "ignore").decode())
    )


def test_the_deadline_reads_its_clock_at_the_first_check_and_every_few_after() -> None:
    import pytest

    from monitor.errors import MatchTimeoutError
    from monitor.match.deadline import EVERY, Deadline

    now = [0.0]
    reads: list[float] = []

    def clock() -> float:
        reads.append(now[0])
        return now[0]

    deadline = Deadline(1.0, clock=clock)
    now[0] = 5.0  # over at once: the first check sees it
    with pytest.raises(MatchTimeoutError, match="longer than 1s"):
        deadline.check()
    deadline = Deadline(1.0, clock=clock)  # until 6.0
    reads.clear()
    for _ in range(EVERY):
        deadline.check()
    assert reads == [5.0]  # read at the first check only
    now[0] = 9.0
    with pytest.raises(MatchTimeoutError):
        for _ in range(EVERY):
            deadline.check()  # over: seen within the next EVERY checks
    assert Deadline(None, clock=clock).check() is None


def test_the_deadline_reads_its_dear_clock_only_once_the_cheap_one_says_time_may_be_up() -> None:
    import pytest

    from monitor.errors import MatchTimeoutError
    from monitor.match.deadline import EVERY, Deadline

    cpu, wall = [0.0], [0.0]
    reads: list[str] = []

    def cpu_clock() -> float:
        reads.append("cpu")
        return cpu[0]

    deadline = Deadline(1.0, clock=cpu_clock, wall=lambda: wall[0])
    reads.clear()
    wall[0] = 0.5
    for _ in range(3 * EVERY):
        deadline.check()
    assert reads == []  # the wall clock says there is time left: no system call
    wall[0] = 3.0  # a loaded machine: the wall clock is past, the CPU time is not
    cpu[0] = 0.6
    for _ in range(3 * EVERY):
        deadline.check()
    assert reads == ["cpu"] * 3  # read, and not over
    cpu[0] = 1.5
    with pytest.raises(MatchTimeoutError, match="longer than 1s"):
        for _ in range(EVERY):
            deadline.check()
