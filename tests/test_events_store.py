"""Event stories in the store: one alert per event and watchlist, events kept apart,
growth announced once per threshold, "copies" watchlists alerted per report, and
retention dropping what was weighed from a pruned article's text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitor.model import Article, Entry, Match, TextSource
from monitor.pipeline.entry import index_words
from monitor.store import entries as entry_store
from monitor.store import retention
from monitor.store.alerts import list_alerts
from monitor.store.db import Database, connect
from monitor.store.entries import Outcome
from monitor.store.events import EventQuery
from monitor.store.feeds import add_feed
from monitor.store.tables import Alert as AlertRow
from monitor.store.tables import EventProfile, EventTerm, TermCount
from monitor.stories import events
from monitor.stories.growth import grower

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# reports written for these tests, in the style of wire leads
TALKS = [
    (
        "wire.invalid",
        "Geneva talks on Ukraine end without agreement",
        "Russian and US negotiators ended two days of talks in Geneva on Tuesday without an "
        "agreement, Deputy Foreign Minister Sergei Ryabkov told reporters.",
    ),
    (
        "daily.invalid",
        "No deal on Ukraine as Ryabkov leaves Geneva",
        "Talks between Russia and the United States in Geneva broke up without agreement on "
        "Tuesday, Sergei Ryabkov said after the two-day meeting on Ukraine.",
    ),
    (
        "courier.invalid",
        "Ukraine talks in Geneva: no agreement, says Ryabkov",
        "Two days of Russian-US talks on Ukraine in Geneva ended on Tuesday without agreement, "
        "Russia's deputy foreign minister Sergei Ryabkov told reporters in Geneva.",
    ),
]
COUNCIL = (
    "herald.invalid",
    "NATO-Russia Council meets in Brussels over Ukraine",
    "Ambassadors of the 30 NATO members and Russia met in Brussels on Wednesday for the "
    "first NATO-Russia Council in two years, alliance officials said.",
)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = connect(db_url)
    database.migrate()
    add_feed(database, "news", "http://feed.invalid/rss", T0)
    yield database
    database.close()


def _report(
    db: Database,
    report: tuple[str, str, str],
    at: datetime,
    *,
    copies_only: frozenset[str] = frozenset(),
    growth: tuple[int, ...] = (),
) -> list[int]:
    host, title, text = report
    url = f"http://{host}/{abs(hash(title))}"
    counts = events.terms(title, text, "en")
    query = EventQuery(
        list(counts), at, 2 * 86400.0, events.weigher(counts, at), events.picker(at, 0.225)
    )
    article = Article(url, title, text, TextSource.PAGE, sitename=host, published=at)
    outcome = Outcome(
        entry=Entry(url, url, title, "", at),
        url_key=url,
        article=article,
        words=index_words(article),
        matches=[Match("ukraine", "Ukraine", "title", 0, 7, title, "Ukraine")],
        routes={"ukraine": ["chat"]},
        event=query,
        copies_only=copies_only,
        growth=grower(growth) if growth else None,
    )
    return entry_store.record_entry(db, feed_id=1, outcome=outcome, now=at)


def test_one_alert_per_event_and_a_new_development_apart(db: Database) -> None:
    first = _report(db, TALKS[0], T0)
    later = [_report(db, r, T0 + timedelta(hours=n + 1)) for n, r in enumerate(TALKS[1:])]
    council = _report(db, COUNCIL, T0 + timedelta(hours=20))
    assert len(first) == 1 and later == [[], []] and len(council) == 1
    alerts = {a.id: a for a in list_alerts(db)}
    talks = alerts[first[0]].story
    assert talks is not None
    assert [m.source for m in talks.members] == [h for h, _, _ in TALKS]
    assert alerts[first[0]].also_reported_by == 2
    assert alerts[council[0]].story is not None
    assert alerts[council[0]].story.id != talks.id


def test_reports_days_apart_stay_apart(db: Database) -> None:
    # a backfill: the second report's publication time is 5 days after the first
    assert len(_report(db, TALKS[0], T0)) == 1
    assert len(_report(db, TALKS[1], T0 + timedelta(days=5))) == 1


def test_copies_watchlists_alert_every_report(db: Database) -> None:
    only = frozenset({"ukraine"})
    assert [
        len(_report(db, r, T0 + timedelta(hours=n), copies_only=only)) for n, r in enumerate(TALKS)
    ] == [1, 1, 1]


def test_growth_is_announced_once_per_threshold(db: Database) -> None:
    made = [_report(db, r, T0 + timedelta(hours=n), growth=(2, 3)) for n, r in enumerate(TALKS)]
    assert [len(m) for m in made] == [1, 1, 1]  # the first alert, then growth at 2 and 3
    grown = [a for a in list_alerts(db) if a.kind == "growth"]
    assert len(grown) == 2
    notes = sorted(a.diff or "" for a in grown)
    assert notes[0].startswith("Now reported by 2 sources")
    assert "daily.invalid: No deal on Ukraine" in notes[0]
    assert notes[1].startswith("Now reported by 3 sources")
    assert "courier.invalid" in notes[1] and "daily.invalid" not in notes[1]
    assert all(a.watchlists == ["ukraine"] for a in grown)
    assert all([d.channel for d in a.deliveries] == ["chat"] for a in grown)


def test_prune_drops_the_event_rows_of_pruned_articles(db: Database) -> None:
    first = _report(db, TALKS[0], T0)
    assert _report(db, TALKS[1], T0 + timedelta(hours=1)) == []  # joins the event
    council = _report(db, COUNCIL, T0 + timedelta(hours=20))
    with db.session() as s:
        counts = sorted(s.execute(select(TermCount.term, TermCount.documents)).all())
        council_id = s.scalar(select(AlertRow.article_id).where(AlertRow.id == council[0]))
        assert s.scalar(select(func.count()).select_from(EventProfile)) == 3
    before = {a.id: (a.story.id, len(a.story.members)) for a in list_alerts(db) if a.story}

    later = T0 + timedelta(days=5)
    done = [retention.prune_articles(db, T0 + timedelta(hours=2), later, 1) for _ in range(3)]
    assert done == [1, 1, 0]  # the two talks reports, a batch each; the council stays
    with db.session() as s:
        profiles = set(s.scalars(select(EventProfile.article_id)))
        indexed = set(s.scalars(select(EventTerm.article_id)))
        assert profiles == indexed == {council_id}
        # counts since counting began: pruning does not change the weights of others
        assert sorted(s.execute(select(TermCount.term, TermCount.documents)).all()) == counts
    after = {a.id: (a.story.id, len(a.story.members)) for a in list_alerts(db) if a.story}
    assert after == before and before[first[0]][1] == 2  # the event and its members stay
