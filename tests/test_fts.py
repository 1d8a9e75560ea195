"""The full-text pre-filter never drops an article that the query matches.

A property test writes texts and queries (words and phrases) from words that
normalisation, casefolding, transliteration, inflection, dashes, soft hyphens and ``_``
make tricky, indexes each text in the store's own index (SQLite FTS5, and PostgreSQL when
NEWSMON_TEST_DATABASE_URL is set), and checks: whenever matching (monitor.match.watchlists) finds
the query in the article, the index lets the article through.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from helpers.db import BACKENDS, PG_URL, reset_postgres
from monitor.errors import SearchError
from monitor.history.search import compile_search, question
from monitor.match import fulltext
from monitor.match.fulltext import AllOf, AnyOf, Phrase, Word, index_text, prefilter
from monitor.match.watchlists import find_matches
from monitor.model import Article, TextSource
from monitor.store import search
from monitor.store.db import connect
from monitor.store.tables import Article as ArticleRow

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
    "arms",
    "control",
    "Kontrolle",
    "контроль",
    "вооружений",
    "a_b",
    "a",
    "b",
    "\u19b0",  # a word to Python, a separator to SQLite's unicode61
    "x\u19b1y",
]
SEPARATORS = [" ", " ", " ", "-", "'", ", ", "\u200b", ". ", "\n", "_"]


@pytest.fixture(scope="module", params=BACKENDS)
def index(request: pytest.FixtureRequest) -> Iterator[Session]:
    """The store's own index: in-memory SQLite (contentless FTS5), or PostgreSQL's table
    (with the one article row its foreign key wants)."""
    if request.param == "sqlite":
        engine = create_engine("sqlite://")
        with engine.begin() as conn:
            search.create(conn)
        with Session(engine) as session:
            yield session
        engine.dispose()
        return
    assert PG_URL
    reset_postgres(PG_URL)
    db = connect(PG_URL)
    db.migrate()
    with db.engine.begin() as conn:
        row = {"id": 1, "url_key": "a", "title": "", "text": "", "text_source": "page"}
        conn.execute(insert(ArticleRow), [row | {"created_at": datetime.now(UTC)}])
    with db.session() as session:
        yield session
    db.close()


def passes(session: Session, article: Article, query: str, **options: bool) -> bool:
    """Whether the index lets ``article`` through for ``query`` (it is the only row)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {search.TABLE}({search.TABLE}) VALUES ('delete-all')")
    terms = index_text(article.title, article.text, article.sitename, article.url)
    search.index_article(conn, 1, terms)
    match = question(session, prefilter(compile_search(query, **options)))
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
        ('"foreign ministers"', "ministers of foreign affairs", False),  # not next to each other
        ('"foreign ministers"', "Foreign Ministers met", True),
        ('"foreign ministers"', "foreign, ministers", True),  # next to each other: matching decides
        ('"arms control"', "control of arms", False),
        ('"контроль вооружений"', "Контроль вооружений", True),
        ('"контроль вооружений"', "контроль и вооружений", False),
        ('"a_b c"', "a_b c", True),  # PostgreSQL splits a_b: its pieces stay together
        ('"a_b c"', "a c b", False),
        ("Nato-Gipfel", "Nato Gipfel", True),
        ("Nato-Gipfel", "Gipfel der Nato", False),
        ('"arms contr*"', "control of arms", True),  # a prefix in a phrase: its words
        ('"arms control" NEAR/3 talks', "arms control talks", True),
        ('"arms control" NEAR/3 talks', "arms talks control", False),
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
        ('"North Atlantic"', Phrase(("north", "atlantic"))),
        ("Nato-Gipfel NEAR/3 Ukraine", AllOf((Phrase(("nato", "gipfel")), Word("ukraine")))),
        ('"North Atlant*"', AllOf((Word("north"), Word("atlant", is_prefix=True)))),
    ],
    ids=["regex", "or-regex", "not", "cjk", "phrase", "near", "phrase-prefix"],
)
def test_what_the_index_is_asked(query: str, expected: object) -> None:
    assert prefilter(compile_search(query)) == expected


def test_a_phrase_with_inflections_is_asked_as_before() -> None:
    """Only a phrase of words as written is a phrase to the index; an inflected one asks
    for the anchor of its first word (its later words may take any form)."""
    assert prefilter(compile_search('"arms control"', inflect=True)) == Word("arms", True)


def test_the_index_holds_the_words_in_order_normalised() -> None:
    terms = index_text(
        "NATO's Straße",
        "Nach\u00adrichten NATO ＮＡＴＯ foo_bar",
        "Demo Wire",
        "https://www.x.org/p",
    )
    assert terms.split() == ["nato", "s", "strasse", "demo", "wire", "www", "x", "org"] + [
        "nachrichten",
        "nato",
        "nato",
        "foo_bar",
    ]
    assert search.distinct(terms, 1000) == "nato s strasse demo wire www x org nachrichten foo_bar"
    assert search.distinct(terms, 12) == "nato s"  # as many as fit


def test_unicode61_splits_words_only_where_the_index_knows(index: Session) -> None:
    """The characters that Python takes for word characters and unicode61 for separators
    are those monitor.match.fulltext leaves out of a word (a word of only those would be an
    empty phrase, which FTS5 finds nowhere)."""
    if index.get_bind().dialect.name != "sqlite":
        pytest.skip("unicode61 is SQLite's")
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    chars = [c for c in chars if re.fullmatch(r"\w", c)]
    conn = index.connection()
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE temp.probe USING fts5(t, content='', "
        "tokenize=\"unicode61 remove_diacritics 2 tokenchars '_'\")"
    )
    conn.exec_driver_sql("CREATE VIRTUAL TABLE temp.probe_vocab USING fts5vocab(probe, 'instance')")
    conn.exec_driver_sql(
        "INSERT INTO probe (rowid, t) VALUES (?, ?)",
        [(i + 1, f"q{c}q") for i, c in enumerate(chars)],
    )
    split = conn.exec_driver_sql(
        "SELECT doc FROM probe_vocab GROUP BY doc HAVING count(*) > 1"
    ).scalars()
    found = {chars[doc - 1] for doc in split}
    conn.exec_driver_sql("DROP TABLE probe")
    assert found == {c for c in chars if fulltext._UNICODE61_SPLITS.fullmatch(c)}
