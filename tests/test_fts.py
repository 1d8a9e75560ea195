"""The full-text pre-filter never drops an article that the query matches.

A property test writes texts and queries from words that normalisation, casefolding,
transliteration, inflection, dashes, soft hyphens and ``_`` make tricky, indexes each text
in a real SQLite FTS5 table built as the store builds it, and checks: whenever matching
(monitor.match) finds the query in the article, the index lets the article through.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from monitor.errors import SearchError
from monitor.fts import AllOf, AnyOf, Word, index_text, prefilter
from monitor.match import find_matches
from monitor.model import Article, TextSource
from monitor.search import compile_search
from monitor.store import search

WORDS = [
    "NATO",
    "Nato-Gipfel",
    "nato's",
    "Straße",
    "STRASSE",
    "Außenminister",
    "Рябков",
    "Рябкова",
    "Рябкову",
    "Rjabkow",
    "Ryabkov",
    "OSZE",
    "ОБСЄ",
    "Україна",
    "України",
    "foo_bar",
    "Kiév",
    "Kiev",
    "ＮＡＴＯ",
    "Nach\u00adrichten",
    "Nachrichten",
    "Рябко\u0301в",
    "ёлка",
    "елка",
    "armies",
    "army",
    "Häuser",
    "Haus",
    "x²",
    "C++",
    "北约",
    "summit",
    "senator",
]
SEPARATORS = [" ", " ", " ", "-", "'", ", ", "\u200b", ". ", "\n"]


@pytest.fixture(scope="module")
def index() -> Iterator[Session]:
    """An in-memory SQLite database with the store's own (contentless FTS5) index."""
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        search.create(conn)
    with Session(engine) as session:
        yield session
    engine.dispose()


def passes(session: Session, article: Article, query: str, **options: bool) -> bool:
    """Whether the index lets ``article`` through for ``query`` (it is the only row)."""
    conn = session.connection()
    conn.exec_driver_sql(f"INSERT INTO {search.TABLE}({search.TABLE}) VALUES ('delete-all')")
    search.index_article(conn, 1, article.title, article.text, article.sitename, article.url)
    match = search.resolve(session, prefilter(compile_search(query, **options)))
    if match is None:
        return True
    found = search.candidates(
        session, match, search.Filters(is_alerted=False), before=None, floor=None, limit=5
    )
    return found == [1]


texts = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), min_size=1, max_size=12
).map(lambda parts: "".join(w + s for w, s in parts))


@st.composite
def queries(draw: st.DrawFn) -> str:
    def term() -> str:
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2))
        text = " ".join(words)
        if len(words) > 1 or draw(st.booleans()):
            return f'"{text}"'
        if draw(st.booleans()):
            return text[: draw(st.integers(3, max(3, len(text))))] + "*"
        return text

    def node(depth: int) -> str:
        if depth == 0 or draw(st.booleans()):
            return term()
        op = draw(st.sampled_from(["AND", "OR", "NEAR/2", "AND NOT"]))
        return f"({node(depth - 1)} {op} {node(depth - 1)})"

    return node(2)


@given(
    title=texts,
    body=texts,
    query=queries(),
    inflect=st.booleans(),
    translit=st.booleans(),
)
def test_the_index_never_drops_a_match(
    index: Session, title: str, body: str, query: str, inflect: bool, translit: bool
) -> None:
    try:
        compiled = compile_search(query, inflect=inflect, translit=translit)
    except SearchError:
        assume(False)  # a prefix too short, a query of NOT only, ...
        return
    article = Article("https://example.org/a", title, body, TextSource.PAGE, sitename="Demo")
    if find_matches(compiled, article):
        assert passes(index, article, query, inflect=inflect, translit=translit)


@pytest.mark.parametrize(
    ("query", "text", "is_through"),
    [
        ("NATO", "The nato summit", True),
        ("NATO", "The senator spoke", False),
        ("STRASSE", "Die Straße", True),
        ("Nachrichten", "Nach\u00adrichten von heute", True),
        ("Рябков", "Заявление Рябко\u0301ва", False),
        ("Рябков", "Рябко\u0301в заявил", True),
        ('"foreign ministers"', "ministers of foreign affairs", True),  # words, any order
        ("NATO AND OSCE", "Only NATO", False),
        ("NATO OR OSCE", "Only the OSCE", True),
        ("Рябков*", "Рябковский", True),
        ("source:demo", "no such word here", True),
    ],
    ids=lambda v: str(v)[:24],
)
def test_the_index_narrows(index: Session, query: str, text: str, is_through: bool) -> None:
    article = Article("https://example.org/a", "", text, TextSource.PAGE, sitename="Demo")
    assert passes(index, article, query) is is_through


def test_inflected_words_become_the_prefix_all_their_forms_share(index: Session) -> None:
    expr = prefilter(compile_search("Рябков", inflect=True, translit=True))
    assert isinstance(expr, AnyOf)
    assert Word("рябк", is_prefix=True) in expr.parts  # Рябкова, Рябкову, Рябковым
    assert Word("rjabkow", is_prefix=True) in expr.parts or Word("rjabkow") in expr.parts
    article = Article(None, "", "Заявление Рябкову и Рябковым", TextSource.PAGE)
    assert find_matches(compile_search("Рябков", inflect=True), article)
    assert passes(index, article, "Рябков", inflect=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("/nat.o/", None),  # a regex: only the exact check can tell
        ("NATO OR /nat.o/", None),
        ("NATO -senator", Word("nato")),  # NOT imposes nothing
        ("北约", None),  # Chinese is written without spaces
        ('"North Atlantic"', AllOf((Word("north"), Word("atlantic")))),
        ("Nato-Gipfel NEAR/3 Ukraine", AllOf((Word("nato"), Word("gipfel"), Word("ukraine")))),
    ],
    ids=["regex", "or-regex", "not", "cjk", "phrase", "near"],
)
def test_what_the_index_is_asked(query: str, expected: object) -> None:
    assert prefilter(compile_search(query)) == expected


def test_the_index_holds_each_word_once_normalised() -> None:
    terms = index_text(
        "NATO's Straße",
        "Nach\u00adrichten NATO ＮＡＴＯ foo_bar",
        "Demo Wire",
        "https://www.x.org/p",
    )
    assert terms.split() == ["nato", "s", "strasse", "demo", "wire", "www", "x", "org"] + [
        "nachrichten",
        "foo_bar",
    ]
