"""render: untrusted feed text is escaped per format and chat mentions are defused."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.deliver.digest import render_digest
from monitor.deliver.render import render
from monitor.model import Match
from monitor.store.alerts import AlertView, StoryView
from monitor.store.members import Member

HOSTILE = "<script>alert(1)</script> **bold** [link](http://evil) @everyone @here"
URL = "http://news.example.org/world/nato-summit?id=7"
FORMATS = ["text", "markdown", "html"]


def match(snippet: str, found: str, *, watchlist: str = "nato", field: str = "text") -> Match:
    start = snippet.find(found)
    return Match(watchlist, found.upper(), field, start, start + len(found), snippet, found)


def alert(
    matches: list[Match], *, title: str = f"Summit: {HOSTILE}", url: str | None = URL
) -> AlertView:
    return AlertView(
        id=7,
        created_at=datetime(2026, 11, 4, 8, 0, tzinfo=UTC),
        title=title,
        url=url,
        feed="world",
        sitename="Demo World Wire",
        published_at=datetime(2026, 11, 3, 10, 5, tzinfo=UTC),
        text_source="page",
        text="",
        matches=matches,
    )


HOSTILE_ALERT = alert(
    [
        match(f"OSCE title {HOSTILE}", "OSCE", watchlist="osce", field="title"),
        match(f"Ministers said {HOSTILE} about NATO today", "NATO"),
        match(f"Ministers said {HOSTILE} about NATO today", "NATO"),  # same term: listed once
    ]
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_mentions_are_defused_everywhere(fmt: str) -> None:
    message = render(HOSTILE_ALERT, fmt)
    assert message.format == fmt
    for part in (message.title, message.body):
        assert "@everyone" not in part
        assert "@here" not in part
        assert "everyone" in part  # the word stays readable, only the ping is broken


@pytest.mark.parametrize("fmt", FORMATS)
def test_title_names_newsmon_and_the_watchlists(fmt: str) -> None:
    message = render(HOSTILE_ALERT, fmt)
    assert message.title.startswith("[newsmon] osce, nato: Summit:")
    assert len(message.title) <= 250
    long = render(alert(HOSTILE_ALERT.matches, title="word " * 200), fmt)
    assert len(long.title) <= 250


@pytest.mark.parametrize("fmt", FORMATS)
def test_body_has_source_date_and_hits(fmt: str) -> None:
    body = render(HOSTILE_ALERT, fmt).body
    assert "Demo World Wire" in body
    assert "2026-11-03 10:05 UTC" in body  # published, not created
    assert "Matched:" in body
    assert body.count("nato ← NATO") == 1  # the same watchlist and term is listed once
    assert "osce ← OSCE" in body


def test_html_escapes_markup() -> None:
    body = render(HOSTILE_ALERT, "html").body
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>NATO</b>" in body
    assert f'<a href="{URL}">' in body


def test_html_link_cannot_break_out_of_the_attribute() -> None:
    body = render(alert(HOSTILE_ALERT.matches, url='http://evil.example/"><script>x'), "html").body
    assert "<script>" not in body
    assert '<a href="http://evil.example/&quot;&gt;&lt;script&gt;x">' in body


def test_markdown_escapes_markup() -> None:
    body = render(HOSTILE_ALERT, "markdown").body
    assert "**bold**" not in body
    assert r"\*\*bold\*\*" in body
    assert r"\[link\]\(http://evil\)" in body
    assert re.findall(r"(?<!\\)[\[\]]", body) == []  # no live link syntax left
    # the only live emphasis: the bold title and the highlighted hit
    assert re.findall(r"(?<!\\)\*+", body) == ["**"] * 4
    assert "**NATO**" in body
    assert f"<{URL}>" in body


def test_text_keeps_the_url_and_marks_the_hit() -> None:
    body = render(HOSTILE_ALERT, "text").body
    assert URL in body
    assert "«NATO»" in body
    assert "<script>alert(1)</script>" in body  # plain text: nothing to escape, shown as is


def test_snippet_prefers_a_text_hit_over_a_title_hit() -> None:
    for fmt in FORMATS:
        body = render(HOSTILE_ALERT, fmt).body
        assert "Ministers said" in body
        assert "OSCE title" not in body


def test_title_only_match_still_gives_a_snippet() -> None:
    view = alert([match("NATO leaders meet", "NATO", field="title")], title="NATO leaders meet")
    assert "<b>NATO</b> leaders meet" in render(view, "html").body


def test_alert_without_matches_or_url_renders() -> None:
    view = alert([], title="Quiet day", url=None)
    for fmt in FORMATS:
        message = render(view, fmt)
        assert "Quiet day" in message.body
        assert "None" not in message.body
        assert message.title.startswith("[newsmon]")


def test_highlight_marks_the_real_hit_not_a_substring() -> None:
    view = alert([match("The senator praised NATO today", "NATO")])
    body = render(view, "html").body
    assert "<b>NATO</b>" in body
    assert "se<b>" not in body


def test_highlight_marks_a_phrase_found_across_a_line_break() -> None:
    phrase = Match(
        "nato",
        "North Atlantic Treaty Organization",
        "text",
        4,
        39,
        "The North Atlantic Treaty Organization met.",
        "North Atlantic\nTreaty Organization",
    )
    body = render(alert([phrase]), "html").body
    assert "<b>North Atlantic" in body
    assert "Organization</b>" in body


@pytest.mark.parametrize(
    ("fmt", "marked"),
    [("text", "«{}»"), ("markdown", "**{}**"), ("html", "<b>{}</b>")],
    ids=FORMATS,
)
def test_every_hit_in_the_snippet_is_highlighted(fmt: str, marked: str) -> None:
    sentence = "Рябков said the OSCE and Ryabkov's staff met <b>NATO</b>."
    view = alert(
        [
            match(sentence, "Рябков", watchlist="ryabkov"),
            match(sentence, "OSCE", watchlist="osce"),
            match(sentence, "Ryabkov", watchlist="ryabkov"),
        ]
    )
    body = render(view, fmt).body
    for hit in ("Рябков", "OSCE", "Ryabkov"):
        assert marked.format(hit) in body
    assert marked.format("NATO") not in body  # not a hit: stays plain (and escaped)


def _in_story(languages: list[str | None]) -> AlertView:
    """HOSTILE_ALERT in an event story whose other reports are in ``languages``."""
    seen = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
    own = Member(1, "Summit", URL, "Demo World Wire", seen, language="en")
    others = [
        Member(i + 2, f"Report {i}", f"http://o{i}.example/a", f"Outlet {i}", seen, language=lang)
        for i, lang in enumerate(languages)
    ]
    story = StoryView(9, "Summit", seen, [own, *others])
    return replace(HOSTILE_ALERT, article_id=1, story=story)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_says_how_many_others_reported_the_story(fmt: str) -> None:
    body = render(_in_story(["en", "de", "de"]), fmt).body
    assert "Also reported by 3 sources in 2 languages: Outlet 0, Outlet 1, Outlet 2" in body
    single = render(_in_story([None]), fmt).body  # no language known: none said
    assert "Also reported by 1 source: Outlet 0" in single and "language" not in single
    assert "Also reported" not in render(_in_story([]), fmt).body


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_digest_says_how_many_others_reported_each_story(fmt: str) -> None:
    body = render_digest([_in_story(["en", "ru"])], fmt, ["nato"]).body
    assert "Also reported by 2 sources in 2 languages" in body
