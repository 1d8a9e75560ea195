"""Search stored articles with a watchlist query: the index narrows, matching decides.

The query is compiled like a watchlist's (monitor.match.watchlists) and turned into a pre-filter for
the full-text index (monitor.match.fulltext). Candidates come from the store newest first, a batch
at a time, already narrowed by what the database can tell (dates, feed, the alert's
watchlist, term, channel, delivery status); each is then matched exactly, so a result is
an article that a watchlist with this query would match, with the hits to show. The
source and language filters are checked here; an article's language is the one its page
declares, else the one detected in its text. A page stops when it is full, or cut short
after ``max_scan`` candidates or ``seconds``, and then says where the next one starts
(an article id) and why it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from monitor.config.settings import QuerySettings, WatchlistSettings
from monitor.errors import SearchError
from monitor.extract.language import detect_language
from monitor.match.fulltext import (
    Expr,
    Word,
    all_of,
    fts5_question,
    index_text,
    leaves_in,
    prefilter,
    tsquery_question,
    words,
)
from monitor.match.watchlists import Watchlists, compile_watchlist, find_matches
from monitor.model import Article, Match
from monitor.query.syntax import QueryError, parse_query
from monitor.store import found, search
from monitor.store.db import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "Page",
    "Request",
    "Result",
    "compile_search",
    "language_of",
    "question",
    "reindex",
    "run",
]

_SAMPLE = 1000  # characters enough to tell a language, and quick


@dataclass(frozen=True)
class Request:
    query: str
    inflect: bool = False
    translit: bool = False
    watchlist: str | None = None
    feed: str | None = None
    source: str | None = None  # a domain (and its subdomains) or a site name
    term: str | None = None
    language: str | None = None
    channel: str | None = None
    status: str | None = None
    since: datetime | None = None  # when the article was stored
    until: datetime | None = None
    is_alerted: bool = True  # False: also articles that raised no alert
    limit: int = 50
    after: int | None = None  # continue below this article id
    skip: int = 0  # results to pass over first (pages before this one)
    max_scan: int = 5_000  # candidates to check exactly, at most
    seconds: float = 2.0  # time to spend, at most (then the page says where to go on)
    span: int = 2_048  # article ids in the first window (see _Walk)
    listed: int = 2_000  # candidates the index may name at once (see _Walk)


@dataclass(frozen=True)
class Result:
    stored: found.StoredText
    language: str | None
    hits: list[Match]
    alerts: list[found.AlertBrief]
    feeds: list[str]


@dataclass(frozen=True)
class Page:
    results: list[Result]
    next_after: int | None  # the article id to continue below, when there may be more
    scanned: int  # candidates matched exactly
    is_cut: bool  # stopped after max_scan candidates or seconds, not at the end
    is_out_of_time: bool = False  # cut because the seconds were spent


def compile_search(query: str, *, inflect: bool = False, translit: bool = False) -> Watchlists:
    """The query as a one-query watchlist; SearchError names the position of a mistake."""
    try:
        parse_query(query)
    except QueryError as exc:
        raise SearchError(
            f"{exc.problem}, at character {exc.position}: {_pointed(query, exc.position)}",
            "queries use the watchlist query language (docs/watchlists.md); "
            'quote a word to search for it literally ("OR")',
        ) from None
    settings = WatchlistSettings(
        queries=[QuerySettings(query=query)], inflect=inflect, translit=translit
    )
    return Watchlists([compile_watchlist("search", settings)])


def _pointed(query: str, position: int) -> str:
    return f"{query[: position - 1]}⟨here⟩{query[position - 1 :]}"


def run(db: Database, request: Request) -> Page:
    compiled = compile_search(request.query, inflect=request.inflect, translit=request.translit)
    expr = prefilter(compiled)
    if request.source:
        expr = all_of([expr, *(Word(w) for w in words(request.source))])
    with db.session() as s:
        filters = _filters(s, request)
        walk = _Walk(s, question(s, expr), filters, request)
        kept = walk.collect(lambda stored: _check(compiled, stored.article, request))
        page = kept[request.skip : request.skip + request.limit]
        ids = [stored.id for stored, _, _ in page]
        alerts = found.alerts_of(s, ids)
        feeds = found.feeds_of(s, ids)
    results = [
        Result(stored, language, hits, alerts.get(stored.id, []), feeds.get(stored.id, []))
        for stored, language, hits in page
    ]
    if len(kept) > request.skip + request.limit and results:
        next_after: int | None = results[-1].stored.id
    else:
        next_after = walk.position if walk.is_cut else None
    return Page(results, next_after, walk.scanned, walk.is_cut, walk.is_out_of_time)


def question(s: Session, expr: Expr | None) -> str | None:
    """The pre-filter as a question in the index's syntax (FTS5 or tsquery); None when
    nothing narrows it. PostgreSQL is first asked how its parser splits the words."""
    if search.dialect(s) == "sqlite":
        return fts5_question(expr)
    leaves = leaves_in(expr)
    if not leaves:
        return None
    return tsquery_question(expr, search.probe(s, [x.text for x in leaves]), search.LONG)


def reindex(db: Database, progress: Callable[[int], None] | None = None) -> int:
    """The full-text index made anew from every stored article (``newsmon db reindex``);
    returns how many."""
    return search.reindex(db, index_text, progress)


_Kept = tuple[found.StoredText, str | None, list[Match]]


class _Walk:
    """Candidates newest first, in windows of article ids that double in size (the first
    is ``request.span``), so that a filter the database must check row by row costs in
    proportion to the window, not to the whole history; stops when the page is full, the
    range is done, or ``max_scan`` candidates or ``seconds`` are spent.

    On PostgreSQL the first window is walked id by id (a common word fills the page
    there). When it does not, and the planner's statistics do not know the words to be
    common (``store.search.estimate``), the index is asked once for every article in
    the rest of the range (``store.search.listed``): a rare word or phrase has few,
    which are then checked a batch at a time, newest first. Otherwise (or with more
    than ``request.listed``), the windows go on: walked while a window is smaller than
    the number of articles the statistics expect the words in (walking costs in
    proportion to the window, a lookup in the GIN index in proportion to those
    articles), looked up after. On SQLite, FTS5 reads its index in id order, and every
    window is asked of it directly."""

    def __init__(
        self, s: Session, match: str | None, filters: search.Filters, request: Request
    ) -> None:
        self.s, self.match, self.filters, self.request = s, match, filters, request
        self.scanned = 0
        self.is_cut = self.is_out_of_time = False
        self.position: int | None = None  # below this id nothing has been checked yet

    def collect(
        self, check: Callable[[found.StoredText], tuple[str | None, list[Match]] | None]
    ) -> list[_Kept]:
        request, s = self.request, self.s
        wanted = request.skip + request.limit + 1  # one more tells whether more follow
        span = search.id_range(s, request.since, request.until)
        if span is None or search.is_unused(s, self.filters):
            return []
        low, high = span
        high = min(high, request.after) if request.after is not None else high
        kept: list[_Kept] = []
        width, batch = request.span, min(max(request.limit + 1, 50), 500)
        listed: list[int] | None = None  # every candidate left, once the index named them
        expected: float | None = None  # articles with the words, as the planner expects
        is_first = True
        deadline = time.monotonic() + request.seconds
        while len(kept) < wanted and high > low:
            size = min(batch, request.max_scan - self.scanned)
            if size <= 0:
                self.is_cut, self.position = True, high
                break
            if listed is not None:
                chunk, listed = listed[:size], listed[size:]
                ids = chunk and search.candidates(
                    s, None, self.filters, before=high, floor=low, limit=size, among=chunk
                )
                high, batch = (listed[0] + 1 if listed else low), min(batch * 4, 2000)
            else:
                floor = max(low, high - width)
                is_dense = expected is None or width < expected
                ids = search.candidates(
                    s,
                    self.match,
                    self.filters,
                    before=high,
                    floor=floor,
                    limit=size,
                    is_dense=is_dense,
                )
            for stored in found.texts(s, ids):
                self.scanned += 1
                hit = check(stored)
                if hit is not None:
                    kept.append((stored, *hit))
                    if len(kept) >= wanted:
                        break
            if listed is None and len(ids) == size:  # more in this window
                high, batch = ids[-1], min(batch * 4, 2000)
            elif listed is None:  # the window is done: the next one, twice as wide
                high, width = floor, width * 2
                if is_first and self.match is not None and high > low and len(kept) < wanted:
                    guess = search.estimate(s, self.match)
                    if guess is None or not guess.is_common:
                        cap = request.listed
                        listed = search.listed(s, self.match, before=high, floor=low, cap=cap)
                    if listed is None and guess is not None:
                        expected = max(guess.articles, request.listed)
                is_first = False
            if time.monotonic() > deadline and len(kept) < wanted and high > low:
                self.is_cut = self.is_out_of_time = True
                self.position = high
                break
        return kept


def _filters(s: Session, request: Request) -> search.Filters:
    feed_id = None
    if request.feed is not None:
        feed_id, known = found.feed_id(s, request.feed)
        if feed_id is None:
            raise SearchError(
                f"no feed named {request.feed!r}",
                f"known feeds: {', '.join(known) or 'none yet'}; see `newsmon feeds list`",
            )
    return search.Filters(
        feed_id=feed_id,
        watchlist=request.watchlist,
        term=request.term,
        channel=request.channel,
        status=request.status,
        language=request.language.lower() if request.language else None,
        since=request.since,
        until=request.until,
        is_alerted=request.is_alerted,
    )


def _check(
    compiled: Watchlists, article: Article, request: Request
) -> tuple[str | None, list[Match]] | None:
    """(language, hits) when the article matches the query and the text filters."""
    if request.source and not _is_from(article, request.source):
        return None
    hits = find_matches(compiled, article)
    if not hits:
        return None
    language = language_of(article)
    if request.language and (language or "") != request.language.lower():
        return None
    return language, hits


def language_of(article: Article) -> str | None:
    """The language the page declares (``de`` for ``de-AT``), else the detected one."""
    if article.language:
        return article.language.split("-")[0].lower()[:3] or None
    return detect_language(f"{article.title}\n{article.text[:_SAMPLE]}")


def _is_from(article: Article, source: str) -> bool:
    """A domain and its subdomains, or the site's name (ignoring case)."""
    wanted = source.strip().casefold().removeprefix("www.")
    if article.sitename and article.sitename.casefold() == wanted:
        return True
    try:
        host = (urlsplit(article.url or "").hostname or "").removeprefix("www.")
    except ValueError:
        return False
    return host == wanted or host.endswith("." + wanted)
