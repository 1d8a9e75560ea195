"""Two instances sharing one database never alert twice for one story.

Each "instance" is a thread with its own engine and connections (as a second daemon
would have), released at the same moment by a barrier, storing a copy of the same story
under a different URL. The database decides: on PostgreSQL the story lock
(pg_advisory_xact_lock) and the (story, watchlist) primary key; on SQLite its single
writer. Run on both backends; the PostgreSQL run is the one that matters.
"""

from __future__ import annotations

import threading
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


@pytest.mark.parametrize("is_same_url", [False, True], ids=["syndicated-copy", "same-url"])
def test_racing_instances_alert_once_per_story(db_url: str, is_same_url: bool) -> None:
    setup = connect(db_url)
    setup.migrate()
    feeds = [_feed(setup, "first"), _feed(setup, "second")]
    instances = [connect(db_url), connect(db_url)]  # separate engines and pools
    results: list[list[int]] = [[] for _ in range(ROUNDS)]
    errors: list[BaseException] = []

    def run(index: int, barrier: threading.Barrier, n: int) -> None:
        url = f"http://wire.invalid/{n}" if is_same_url else f"http://site{index}.invalid/{n}"
        outcome = _outcome(n, f"copy{index}", url)
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
        assert errors == []
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
        for db in (*instances, setup):
            db.close()
