"""Two instances sharing one database never alert twice for one story, nor for one
event, nor announce an event's growth twice.

Each "instance" is a thread with its own engine and connections (as a second daemon
would have), released at the same moment by a barrier, storing a copy of the same story
under a different URL. The database decides: on PostgreSQL the story lock
(pg_advisory_xact_lock) and the (story, watchlist) primary key; on SQLite its single
writer. Run on both backends; the PostgreSQL run is the one that matters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitor.model import Article, Entry, Match, TextSource
from monitor.pipeline.entry import index_words
from monitor.store import entries as entry_store
from monitor.store.db import Database, connect
from monitor.store.entries import Outcome
from monitor.store.feeds import add_feed
from monitor.store.stories import Identity
from monitor.store.tables import Alert, Delivery, StoryClaim
from monitor.store.tables import Article as ArticleRow
from monitor.stories.copies import fingerprint, story_picker

ROUNDS = 8
TEXT = (
    "Harbour pilots in the northern port stopped work for six hours on Monday "
    "after a tug collided with a moored ferry, the port authority said. Nobody was hurt, "
    "but the ferry's ramp was bent and the evening crossing to the islands was cancelled. "
    "Inspectors from the maritime agency will examine the tug's steering gear, and the "
    "pilots' association asked for a review of night manoeuvres in the narrow channel."
)


def _feed(db: Database, name: str) -> int:
    return add_feed(db, name, f"http://{name}.invalid/feed", datetime.now(UTC))


def _story(n: int) -> str:
    """Story ``n``: the same report with round-specific words woven in, so that no run of
    five words is shared between rounds (each round is a different story)."""
    words = TEXT.split()
    return " ".join(f"{w} r{n}w{i}" if i % 3 == 0 else w for i, w in enumerate(words))


def _outcome(n: int, copy: str, url: str) -> Outcome:
    text = _story(n)
    found = fingerprint(text)
    match = Match("osce", "OSCE", "text", 0, 4, "snippet", "OSCE")
    article = Article(url, f"Headline {copy} {n}", text, TextSource.PAGE)
    return Outcome(
        entry=Entry(f"{copy}-{n}", url, f"Headline {copy} {n}", "", None),
        url_key=url,
        article=article,
        words=index_words(article),
        matches=[match],
        routes={"osce": ["chat", "desk"]},
        identity=Identity(
            None, found.keys, story_picker(found.shingles), datetime.now(UTC) - timedelta(days=1)
        ),
    )


def _race(
    db_url: str, setup: Database, outcome_for: Callable[[int, int], Outcome]
) -> list[list[int]]:
    """Two instances (separate engines and pools) store ``outcome_for(instance, round)``
    at the same moment, ``ROUNDS`` times; the alert ids each round gave."""
    feeds = [_feed(setup, "first"), _feed(setup, "second")]
    instances = [connect(db_url), connect(db_url)]
    results: list[list[int]] = [[] for _ in range(ROUNDS)]
    errors: list[BaseException] = []

    def run(index: int, barrier: threading.Barrier, n: int) -> None:
        outcome = outcome_for(index, n)
        try:
            barrier.wait(timeout=30)
            found = entry_store.record_entry(
                instances[index], feed_id=feeds[index], outcome=outcome, now=datetime.now(UTC)
            )
            results[n] += found
        except BaseException as exc:  # reported below, with the round
            errors.append(exc)

    try:
        for n in range(ROUNDS):
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=run, args=(i, barrier, n)) for i in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
    finally:
        for db in instances:
            db.close()
    assert errors == []
    return results


@pytest.mark.parametrize("is_same_url", [False, True], ids=["syndicated-copy", "same-url"])
def test_racing_instances_alert_once_per_story(db_url: str, is_same_url: bool) -> None:
    setup = connect(db_url)
    setup.migrate()

    def outcome(index: int, n: int) -> Outcome:
        url = f"http://wire.invalid/{n}" if is_same_url else f"http://site{index}.invalid/{n}"
        return _outcome(n, f"copy{index}", url)

    try:
        results = _race(db_url, setup, outcome)
        assert [len(r) for r in results] == [1] * ROUNDS  # one alert per story, each round
        with setup.session() as s:
            alerts = s.scalar(select(func.count()).select_from(Alert))
            claims = s.scalar(select(func.count()).select_from(StoryClaim))
            deliveries = s.scalar(select(func.count()).select_from(Delivery))
            stories = s.scalar(select(func.count(func.distinct(ArticleRow.story_id))))
            articles = s.scalar(select(func.count()).select_from(ArticleRow))
        assert alerts == claims == stories == ROUNDS
        assert deliveries == 2 * ROUNDS  # chat and desk, once each per story
        assert articles == (ROUNDS if is_same_url else 2 * ROUNDS)  # both copies recorded
    finally:
        setup.close()


# two outlets' own reports of one event (written for this test): no copies of each other
REPORTS = (
    (
        "Geneva talks on Ukraine end without agreement",
        "Russian and US negotiators ended two days of talks in Geneva on Tuesday without an "
        "agreement, Deputy Foreign Minister Sergei Ryabkov told reporters.",
    ),
    (
        "No deal on Ukraine as Ryabkov leaves Geneva",
        "Talks between Russia and the United States in Geneva broke up without agreement on "
        "Tuesday, Sergei Ryabkov said after the two-day meeting on Ukraine.",
    ),
    (
        "Ukraine talks in Geneva: no agreement, says Ryabkov",
        "Two days of Russian-US talks on Ukraine in Geneva ended on Tuesday without agreement, "
        "Russia's deputy foreign minister Sergei Ryabkov told reporters in Geneva.",
    ),
)


def _event_outcome(n: int, index: int, growth: tuple[int, ...] = ()) -> Outcome:
    from monitor.store.events import EventQuery
    from monitor.stories import events
    from monitor.stories.growth import grower

    title, text = REPORTS[index]
    url = f"http://outlet{index}.invalid/{n}"
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=5 * n)  # rounds never meet
    counts = events.terms(title, text, "en")
    article = Article(url, title, text, TextSource.PAGE, published=at)
    return Outcome(
        entry=Entry(f"report{index}-{n}", url, title, "", at),
        url_key=url,
        article=article,
        words=index_words(article),
        matches=[Match("osce", "OSCE", "text", 0, 4, "snippet", "OSCE")],
        routes={"osce": ["chat"]},
        event=EventQuery(
            list(counts), at, 2 * 86400.0, events.weigher(counts, at), events.picker(at, 0.225)
        ),
        growth=grower(growth) if growth else None,
    )


def test_racing_instances_alert_once_per_event(db_url: str) -> None:
    setup = connect(db_url)
    setup.migrate()
    try:
        results = _race(db_url, setup, lambda index, n: _event_outcome(n, index))
        assert [len(r) for r in results] == [1] * ROUNDS  # one alert per event, each round
        with setup.session() as s:
            claims = s.scalar(select(func.count()).select_from(StoryClaim))
            stories = s.scalar(select(func.count(func.distinct(ArticleRow.story_id))))
        assert claims == ROUNDS and stories == 2 * ROUNDS  # two stories, one event, a round
    finally:
        setup.close()


def test_racing_instances_announce_an_events_growth_once(db_url: str) -> None:
    """An event alerted through a third outlet; two more outlets' reports arrive at once
    through two instances. The first to be stored brings it to 2 sources, the threshold:
    one growth alert, however the race goes."""
    setup = connect(db_url)
    setup.migrate()
    try:
        seed = _feed(setup, "seed")
        for n in range(ROUNDS):
            first = _event_outcome(n, 2)
            at = first.entry.published
            assert at is not None
            assert len(entry_store.record_entry(setup, feed_id=seed, outcome=first, now=at)) == 1
        results = _race(db_url, setup, lambda index, n: _event_outcome(n, index, growth=(2,)))
        assert [len(r) for r in results] == [1] * ROUNDS  # one growth alert per event
        with setup.session() as s:
            kinds = sorted(s.scalars(select(Alert.kind)))
            grown = set(s.scalars(select(StoryClaim.grown_to)))
        assert kinds == ["growth"] * ROUNDS + ["new"] * ROUNDS and grown == {2}
    finally:
        setup.close()
