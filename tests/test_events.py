"""The event clusterer (monitor/stories/events.py): terms, weights, complete link."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from monitor.stories import events

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# reports written for these tests, in the style of wire leads
TALKS_A = (
    "Geneva talks on Ukraine end without agreement",
    "Russian and US negotiators ended two days of talks in Geneva on Tuesday without an "
    "agreement, Deputy Foreign Minister Sergei Ryabkov told reporters.",
)
TALKS_B = (
    "No deal as Ryabkov leaves Geneva",
    "Talks between Russia and the United States in Geneva broke up without agreement on "
    "Tuesday, Sergei Ryabkov said after the two-day meeting.",
)
COUNCIL = (
    "NATO-Russia Council meets in Brussels",
    "Ambassadors of the 30 NATO members and Russia met in Brussels on Wednesday for the "
    "first NATO-Russia Council in two years, alliance officials said.",
)


def _profile(report: tuple[str, str], at: datetime, seen: list[dict[int, float]]) -> events.Profile:
    counts = events.terms(*report, language="en")
    documents: Counter[int] = Counter()
    for other in seen:
        documents.update(other.keys())
    seen.append(counts)
    return events.profile(counts, documents, len(seen) - 1, at)


def test_names_and_figures_weigh_more_than_words() -> None:
    counts = events.terms("", "The talks went on. Officials met Ryabkov on 12 May.", "en")
    assert counts[events.term_key("ryabkov")] == events.BOOST
    assert counts[events.term_key("12")] == events.BOOST
    assert counts[events.term_key("talk")] == 1  # stemmed, sentence start not a name
    assert counts[events.term_key("offici")] == 1


def test_headline_counts_twice_and_russian_is_stemmed() -> None:
    counts = events.terms("Переговоры в Женеве", "", "ru")
    assert counts[events.term_key("переговор")] == events.TITLE_TIMES


@pytest.mark.parametrize(
    ("gap", "is_same"),
    [(timedelta(hours=3), True), (timedelta(days=6), False)],
    ids=["hours-apart", "days-apart"],
)
def test_one_event_joins_while_recent(gap: timedelta, is_same: bool) -> None:
    seen: list[dict[int, float]] = []
    first = _profile(TALKS_A, T0, seen)
    council = _profile(COUNCIL, T0 + timedelta(hours=1), seen)
    second = _profile(TALKS_B, T0 + gap, seen)
    candidates = [events.Candidate(1, [first]), events.Candidate(2, [council])]
    assert events.pick_event(second, candidates, 0.225) == (1 if is_same else None)


def test_a_new_development_stays_apart() -> None:
    seen: list[dict[int, float]] = []
    first = _profile(TALKS_A, T0, seen)
    council = _profile(COUNCIL, T0 + timedelta(hours=20), seen)
    assert events.similarity(first, council) < 0.225
    assert events.pick_event(council, [events.Candidate(1, [first])], 0.225) is None


def test_complete_link_needs_every_near_member() -> None:
    seen: list[dict[int, float]] = []
    first = _profile(TALKS_A, T0, seen)
    council = _profile(COUNCIL, T0 + timedelta(hours=1), seen)
    second = _profile(TALKS_B, T0 + timedelta(hours=2), seen)
    # a (wrongly) mixed event: the talks report must resemble every near member
    assert events.pick_event(second, [events.Candidate(1, [first, council])], 0.225) is None
    assert events.pick_event(second, [events.Candidate(1, [first])], 0.225) == 1
