"""``alerts search``, the listing formats and ``alerts show``, on the database of a real
poll of the sample site (English, German, Russian, Ukrainian), once per backend.

Two channels: ``chat`` (a local webhook that accepts) and ``pager`` (a port where nothing
listens, so every delivery to it fails, with a secret in its URL)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from helpers.config import hook_url, write_config
from helpers.db import BACKENDS, PG_URL, reset_postgres
from helpers.paths import SAMPLE_SITE
from monitor.cli import cli
from monitor.cli.deliveries import DELIVERY_FIELDS
from monitor.cli.feeds import FEED_FIELDS
from monitor.cli.search import SEARCH_FIELDS
from monitor.cli.watchlists import SHOW_FIELDS
from monitor.demo.server import Receiver, Site
from monitor.history.search import Request, compile_search, run
from monitor.match.watchlists import find_matches
from monitor.model import ALERT_FIELDS
from monitor.store.backfill import read_articles
from monitor.store.db import connect

TERMS = ["Ukraine", "Ukrainian", "Україна", "України", "Украина", "ukrainische", "NATO", "НАТО"]
TERMS += ["OTAN", "OSCE", "OSZE", "ОБСЕ", "ОБСЄ", "Ryabkov", "Riabkov", "Rjabkow", "Рябков"]
SECRET = "Hunter2Secret"
UNHURRIED = ("--max-seconds", "600")
PAGER = f"json://bot:{SECRET}@127.0.0.1:9/hook"


@dataclass(frozen=True)
class History:
    config: Path
    url: str

    def run(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(
            cli, ["--config", str(self.config), *args], catch_exceptions=False
        )
        return result.exit_code, result.stdout, result.stderr

    def rows(self, *args: str) -> list[dict[str, Any]]:
        """The whole answer: time enough that no page is cut short on a busy machine."""
        code, out, err = self.run("alerts", "search", *args, *UNHURRIED, "--format", "json")
        assert code == 0, err
        assert "stopped after" not in err
        return list(json.loads(out))


@pytest.fixture(scope="module", params=BACKENDS)
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    folder = tmp_path_factory.mktemp(request.param)
    url = f"sqlite:///{folder / 'newsmon.db'}"
    if request.param == "postgresql":
        assert PG_URL
        reset_postgres(PG_URL)
        url = PG_URL
    with Site(SAMPLE_SITE) as site, Receiver() as hook:
        channels = {"chat": [hook_url(hook)], "pager": [PAGER]}
        done = History(write_config(folder / "newsmon.toml", url, site, channels), url)
        code, _, err = done.run("poll", "--once", "--format", "json")
        assert code == 0, err
        yield done


def expected(history: History, query: str, **options: bool) -> list[int]:
    """Every stored article that a watchlist with this query matches, newest first:
    matching run over all of them, without the index."""
    compiled = compile_search(query, **options)
    db = connect(history.url)
    try:
        stored = read_articles(db, limit=10_000)
    finally:
        db.close()
    return sorted((a.id for a in stored if find_matches(compiled, a.article)), reverse=True)


@pytest.mark.parametrize(
    ("query", "flags"),
    [
        ("NATO", ()),
        ("AUSSENMINISTER", ()),  # Außenminister: ß casefolds to ss
        ('"foreign ministers"', ()),
        ("ОБСЕ OR OSZE OR OSCE", ()),
        ("Ukraine -NATO", ()),
        ("/rj?abkow?/", ()),
        ("NATO NEAR/3 ministers", ()),
        ("title:Україна", ()),
        ("Рябков", ("--inflect", "--translit")),
        ("україн*", ()),
        ("Nato-Gipfel", ()),
        ("source:Rundschau", ()),
        ("senator", ()),
        ("снег", ()),
        ('"arms control"', ()),
        ('"control arms"', ()),
        ('"New START"', ()),
        ('"министра иностранных дел"', ()),
        ('"иностранных министра"', ()),
        ('"Moscow, Ryabkov"', ()),
        ('"foreign ministers" NEAR/5 NATO', ()),
        ('"Рябков заявил"', ("--translit",)),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_search_finds_what_a_watchlist_would_match(
    history: History, query: str, flags: tuple[str, ...]
) -> None:
    options = {flag.lstrip("-"): True for flag in flags}
    rows = history.rows(query, *flags, "--articles", "--limit", "1000")
    assert [r["article_id"] for r in rows] == expected(history, query, **options)
    if query not in ("снег", '"control arms"', '"иностранных министра"'):
        assert rows, "the sample site has articles for this query"
    for row in rows:
        assert row["hits"] and all(h["found"] for h in row["hits"])


def test_without_articles_only_alerted_ones(history: History) -> None:
    assert history.rows("снег") == []  # the weather report raised no alert
    (weather,) = history.rows("снег", "--articles")
    assert weather["id"] is None and weather["alerts"] == [] and weather["language"] == "ru"
    nato = history.rows("NATO")
    assert nato and all(r["id"] == max(r["alerts"]) for r in nato)


def test_filters(history: History) -> None:
    every = " OR ".join(TERMS)  # what the watchlists of write_config match
    everything = history.rows(every, "--limit", "1000")
    assert len(everything) == 12

    osce = history.rows(every, "--watchlist", "osce")
    assert sorted(r["title"][:4] for r in osce) == ["Moni", "OSZE", "ОБСЕ"]
    novosti = history.rows(every, "--feed", "novosti")
    assert novosti and all("novosti" in r["feeds"] for r in novosti)
    assert len(novosti) < len(everything)
    code, _, err = history.run("alerts", "search", "NATO", "--feed", "nope")
    assert code == 1 and "no feed named 'nope'" in err and "nachrichten, novosti, world" in err

    meridian = history.rows(every, "--source", "The Meridian Post")
    assert meridian and {r["source"] for r in meridian} == {"The Meridian Post"}
    local = history.rows(every, "--source", "127.0.0.1", "--limit", "1000")
    assert [r["id"] for r in local] == [r["id"] for r in everything if r["url"]]  # one has none

    ryabkov = history.rows(every, "--term", "Рябков")
    assert ryabkov and all("Рябков" in r["terms"] for r in ryabkov)
    german = history.rows(every, "--language", "de")
    assert german and {r["language"] for r in german} == {"de"}
    assert any(r["title"].startswith("OSZE") for r in german)
    assert {r["language"] for r in history.rows(every, "--language", "uk")} == {"uk"}

    failed = history.rows(every, "--channel", "pager", "--status", "failed", "--limit", "1000")
    assert len(failed) == 12
    for row in failed:
        assert {"alert": row["id"], "channel": "pager", "status": "failed"} in row["deliveries"]
    assert history.rows(every, "--channel", "chat", "--status", "failed") == []
    assert len(history.rows(every, "--status", "sent", "--limit", "1000")) == 12

    # (stored times rise with article ids even when feeds are read in parallel)
    assert len(history.rows(every, "--since", "1h", "--limit", "1000")) == 12
    assert history.rows(every, "--until", "2000-01-01") == []
    assert history.rows(every, "--since", "2999-01-01") == []


def test_paging(history: History) -> None:
    query = ["NATO OR Ukraine OR Україна OR OSCE OR ОБСЕ OR Рябков*", "--articles"]
    whole = [r["article_id"] for r in history.rows(*query, "--limit", "1000")]
    assert len(whole) > 5
    pages: list[list[int]] = []
    after: list[str] = []
    while True:
        code, out, err = history.run(
            "alerts", "search", *query, *UNHURRIED, "--limit", "2", "--format", "ndjson", *after
        )
        assert code == 0
        pages.append([json.loads(line)["article_id"] for line in out.splitlines()])
        more = re.search(r"more: --after (\d+)", err)
        if more is None:
            break
        after = ["--after", more.group(1)]
    assert [i for page in pages for i in page] == whole
    assert all(len(page) == 2 for page in pages[:-1])
    second = [r["article_id"] for r in history.rows(*query, "--limit", "2", "--page", "2")]
    assert second == pages[1]

    code, _, err = history.run("alerts", "search", "NATO", "--page", "2", "--after", "5")
    assert code == 2 and "not both" in err
    code, out, err = history.run("alerts", "search", "/ukrain/", "--max-scan", "2")
    assert code == 0 and "stopped after checking 2 articles" in err
    assert re.search(r"--after \d+", err)
    code, _, err = history.run("alerts", "search", "NATO", "--max-seconds", "0")
    assert code == 2 and "--max-seconds" in err


@pytest.mark.parametrize(
    ("query", "position"),
    [("NATO AND", 9), ("(NATO", 6), ('"unclosed', 1), ("NATO OR -", 9), ("ab*", 1)],
)
def test_a_bad_query_says_where(history: History, query: str, position: int) -> None:
    code, out, err = history.run("alerts", "search", query)
    assert code == 1 and out == ""
    assert err.startswith("error: search: ") and f"at character {position}" in err
    assert "hint: " in err and "Traceback" not in err


def test_formats_and_fields(history: History) -> None:
    code, out, _ = history.run("alerts", "search", "OSCE OR ОБСЕ")
    assert code == 0 and "search: OSCE OR ОБСЕ" in out and "ОБСЕ опубликовала" in out
    rows = history.rows("OSCE OR ОБСЕ")
    assert rows and all(list(r) == SEARCH_FIELDS for r in rows)
    for r in rows:
        assert r["snippet_marks"]
        for start, end in r["snippet_marks"]:
            assert r["snippet"][start:end].casefold() in ("osce", "обсе")

    code, out, _ = history.run("alerts", "search", "OSCE OR ОБСЕ", "--format", "csv")
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["id", "stored_at", "source", "language", "title", "watchlists", "snippet"]
    assert len(table) == len(rows) + 1
    code, out, _ = history.run(
        "alerts", "search", "OSCE", "--format", "ndjson", "--fields", "title,id"
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and all(list(x) == ["title", "id"] for x in lines)

    code, _, err = history.run("alerts", "search", "OSCE", "--fields", "id,nope,bad")
    assert code == 2 and "unknown fields 'nope', 'bad'" in err
    assert "available: " + ", ".join(SEARCH_FIELDS) in " ".join(err.split())


@pytest.mark.parametrize(
    ("command", "fields"),
    [
        (["alerts", "list"], list(ALERT_FIELDS)),
        (["deliveries", "list"], DELIVERY_FIELDS),
        (["feeds", "list"], FEED_FIELDS),
        (["watchlists", "show"], SHOW_FIELDS),
    ],
    ids=["alerts", "deliveries", "feeds", "watchlists"],
)
def test_every_listing_has_the_formats_and_fields(
    history: History, command: list[str], fields: list[str]
) -> None:
    code, out, _ = history.run(*command, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows and all(set(r) == set(fields) for r in rows)
    code, out, _ = history.run(*command, "--format", "ndjson")
    assert [json.loads(line) for line in out.splitlines()] == rows
    chosen = ",".join(fields[:2])
    code, out, _ = history.run(*command, "--format", "csv", "--fields", chosen)
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == fields[:2] and len(table) == len(rows) + 1
    code, out, _ = history.run(*command, "--fields", fields[-1])
    assert code == 0 and fields[-1] in out
    code, _, err = history.run(*command, "--fields", "nope")
    assert code == 2 and "unknown field 'nope'" in err and fields[0] in err


def test_alerts_show_tells_the_story_and_highlights(history: History) -> None:
    # the same URL comes through two feeds, polled in parallel: either may bring it first
    (nato,) = [r for r in history.rows("NATO") if "nato-ministers" in r["url"]]
    code, out, _ = history.run("alerts", "show", str(nato["id"]), "--format", "json")
    shown = json.loads(out)
    assert code == 0
    (member,) = shown["members"]
    assert sorted(member["feeds"]) == ["nachrichten", "world"] and member["is_first"]
    marks = shown["excerpt"]["marks"]
    assert marks and {shown["excerpt"]["text"][s:e] for s, e in marks} <= {
        "NATO",
        "Ukraine",
        "Ukrainian",
    }
    assert {shown["title"][s:e] for s, e in shown["title_marks"]} <= {"NATO", "Ukraine"}
    assert shown["title_marks"]
    deliveries = {d["channel"]: d for d in shown["deliveries"]}
    assert deliveries["chat"]["status"] == "sent"
    pager = deliveries["pager"]
    assert pager["status"] == "failed" and pager["attempts"] == 1 and pager["last_error"]
    assert SECRET not in out

    code, text, _ = history.run("alerts", "show", str(nato["id"]))
    assert code == 0 and SECRET not in text
    assert "»NATO« foreign ministers" in text  # hits marked where colours are lost
    via = ", ".join(member["feeds"])
    assert f"(via {via})  [first, this alert]" in text
    assert "pager: failed (attempts 1)  error: " in text


def test_windows_and_budgets_change_nothing_but_where_a_page_ends(history: History) -> None:
    query = "NATO OR Ukraine OR Україна OR OSCE OR ОБСЕ OR Рябков*"
    db = connect(history.url)
    try:
        whole = run(db, Request(query, is_alerted=False, limit=100))
        narrow = run(db, Request(query, is_alerted=False, limit=100, span=1))
        hurried = run(db, Request(query, is_alerted=False, limit=100, span=1, seconds=0))
        rest = run(db, Request(query, is_alerted=False, limit=100, after=hurried.next_after))
    finally:
        db.close()
    ids = [r.stored.id for r in whole.results]
    assert len(ids) > 5 and not whole.is_cut and whole.next_after is None
    assert [r.stored.id for r in narrow.results] == ids  # a window of one article at first
    assert hurried.is_cut and hurried.is_out_of_time and hurried.next_after is not None
    assert len(hurried.results) <= 1 and not whole.is_out_of_time
    assert [r.stored.id for r in hurried.results + rest.results] == ids


@pytest.mark.parametrize(
    ("span", "listed", "limit"),
    [(1, 2_000, 1), (1, 2_000, 3), (1, 2, 2), (1, 0, 1), (3, 1, 100), (2_048, 0, 2)],
)
@pytest.mark.parametrize("filters", [{}, {"is_alerted": False}, {"status": "sent"}])
def test_pages_end_to_end_whichever_way_the_index_is_asked(
    history: History, span: int, listed: int, limit: int, filters: dict[str, Any]
) -> None:
    """Listed at once (PostgreSQL, when the index names few), or in windows walked or
    looked up: page after page (--after) gives what one page gives."""
    query = 'NATO OR Ukraine OR Україна OR OSCE OR ОБСЕ OR Рябков* OR "foreign ministers"'
    db = connect(history.url)
    try:
        whole = run(db, Request(query, limit=1000, seconds=600, **filters))
        ids = [r.stored.id for r in whole.results]
        paged: list[int] = []
        after = None
        for _ in range(100):
            page = run(
                db,
                Request(
                    query,
                    limit=limit,
                    after=after,
                    span=span,
                    listed=listed,
                    seconds=600,
                    **filters,
                ),
            )
            assert not page.is_cut and len(page.results) <= limit
            paged += [r.stored.id for r in page.results]
            if page.next_after is None:
                break
            after = page.next_after
    finally:
        db.close()
    assert len(ids) > 5 and paged == ids
