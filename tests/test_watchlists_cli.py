"""``newsmon watchlists``: show, dry runs on files, stdin and a local site, and backfill."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import hook_url, write_config
from monitor.cli import cli
from monitor.demo.server import Receiver, Reply, Site

SAILING = '[watchlist.sailing]\nterms = ["regatta"]\nchannels = ["chat"]\n'
MOLDOVA = '[watchlist.moldova]\nqueries = ["Dniester OR Moldova"]\nchannels = ["chat"]\n'
RYABKOV = """
[watchlist.names]
terms = [{ term = "Рябков", translit = true, inflect = true }]
queries = ['title:"Kestrel Bay" OR (NATO NEAR/3 summit)']
"""


def invoke(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], input=stdin, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path, site: Site, hook: Receiver) -> Path:
    return write_config(
        tmp_path / "newsmon.toml",
        f"sqlite:///{tmp_path}/n.db",
        site,
        {"chat": [hook_url(hook)]},
        extra=RYABKOV,
    )


# ------------------------------------------------------------------ show


def test_show_lists_every_term_with_its_expansions(config: Path) -> None:
    code, out, _ = invoke(config, "watchlists", "show", "names", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    ryabkov = next(r for r in rows if r["term"] == "Рябков")
    forms = " ".join(ryabkov["forms"])
    for spelling in ("рябков~", "ryabkov~", "riabkov~", "rjabkow~", "rjabkov~"):
        assert spelling in forms
    assert "рябк (ru)" in forms  # the Russian stem it also accepts
    near = next(r for r in rows if r["term"] == "NATO")
    assert near["reads_as"] == '(title:"Kestrel Bay" OR (NATO NEAR/3 summit))'
    assert {r["watchlist"] for r in rows} == {"names"}
    code, out, _ = invoke(config, "watchlists", "show")
    assert code == 0 and "ukraine" in out and "names" in out


def test_show_unknown_watchlist_names_the_known_ones(config: Path) -> None:
    code, _, err = invoke(config, "watchlists", "show", "nope")
    assert code == 1 and "no watchlist named 'nope'" in err and "ryabkov" in err


# ------------------------------------------------------------------ test


def test_dry_run_on_a_url_from_a_local_site(config: Path, site: Site) -> None:
    url = f"{site.base}/articles/ryabkov-ru.html"
    code, out, _ = invoke(config, "watchlists", "test", url, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["source"] == url and "ryabkov" in report["watchlists"]
    for m in report["matches"]:
        assert {"watchlist", "term", "field", "start", "end", "snippet"} <= set(m)
        assert m["found"] and m["found"].casefold() in m["snippet"].casefold()
    names = [m for m in report["matches"] if m["watchlist"] == "names"]
    assert names and all(m["term"] == "Рябков" for m in names)
    assert site.hits[urlpath(url)] == 1


def urlpath(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_dry_run_stores_and_sends_nothing(config: Path, site: Site, hook: Receiver) -> None:
    invoke(config, "watchlists", "test", f"{site.base}/articles/nato-gipfel.html")
    assert hook.received == []
    code, out, _ = invoke(config, "alerts", "list", "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_dry_run_on_html_and_text_files_and_stdin(config: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html lang=de><head><title>Gipfel</title></head><body><article><h1>Gipfel</h1>"
        + "<p>Der Nato-Gipfel in Vilnius beginnt heute mit Gesprächen über die Ukraine "
        + "und die Ostflanke der Allianz.</p>" * 3
        + "</article></body></html>",
        encoding="utf-8",
    )
    code, out, _ = invoke(config, "watchlists", "test", str(page), "--format", "json")
    assert code == 0 and set(json.loads(out)["watchlists"]) == {"nato", "ukraine"}
    text = tmp_path / "note.txt"
    text.write_text("Kestrel Bay news\n\nNothing about alliances here.\n", encoding="utf-8")
    code, out, _ = invoke(config, "watchlists", "test", str(text), "--format", "json")
    report = json.loads(out)
    assert report["title"] == "Kestrel Bay news"
    assert [(m["watchlist"], m["field"]) for m in report["matches"]] == [("names", "title")]
    code, out, _ = invoke(config, "watchlists", "test", "-", stdin="Рябкову позвонили.")
    assert code == 0 and "Рябкову" in out and "names" in out
    code, out, _ = invoke(config, "watchlists", "test", "--watchlist", "nato", str(page))
    assert code == 0 and "ukraine" not in out and "nato" in out


def test_dry_run_errors_say_what_to_do(config: Path, site: Site, tmp_path: Path) -> None:
    code, _, err = invoke(config, "watchlists", "test", str(tmp_path / "missing.html"))
    assert code == 1 and "cannot read" in err and "hint:" in err and "Traceback" not in err
    site.routes["/gone.html"] = Reply(404, b"gone")
    code, _, err = invoke(config, "watchlists", "test", f"{site.base}/gone.html")
    assert code == 1 and "fetch: not found (404)" in err
    assert "does not retry" in err and "next check" not in err  # a dry run is not polled


# ------------------------------------------------------------------ backfill


@pytest.fixture
def polled(db_url: str, site: Site, hook: Receiver, tmp_path: Path) -> Path:
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {"chat": [hook_url(hook)]})
    code, _, _ = invoke(config, "poll", "--once")
    assert code == 0
    hook.received.clear()
    with config.open("a", encoding="utf-8") as handle:  # watchlists added after the poll
        handle.write(SAILING + MOLDOVA)
    return config


def alerts(config: Path, watchlist: str) -> list[dict[str, object]]:
    code, out, _ = invoke(config, "alerts", "list", "--watchlist", watchlist, "--format", "json")
    assert code == 0
    return list(json.loads(out))


def test_backfill_records_without_notifying(polled: Path, hook: Receiver) -> None:
    code, out, _ = invoke(polled, "watchlists", "backfill", "sailing", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["new_alerts"] == 1 and report["scanned"] >= 12 and report["queued"] == 0
    (alert,) = alerts(polled, "sailing")
    assert "regatta" in str(alert["title"]) and alert["deliveries"] == []
    # moldova hits a story that already alerted osce: a story alerts each watchlist once,
    # so it gets its own moldova alert, and the osce alert stays as it was
    code, out, _ = invoke(polled, "watchlists", "backfill", "moldova", "--format", "json")
    report = json.loads(out)
    assert report["new_alerts"] == 1 and report["matches"] >= 1 and report["queued"] == 0
    (alert,) = alerts(polled, "moldova")
    code, out, _ = invoke(polled, "alerts", "show", str(alert["id"]), "--format", "json")
    shown = json.loads(out)
    assert {m["watchlist"] for m in shown["matches"]} == {"moldova"}
    (osce,) = [a for a in alerts(polled, "osce") if a["url"] == alert["url"]]
    assert osce["id"] != alert["id"]
    # a second run finds nothing new
    code, out, _ = invoke(polled, "watchlists", "backfill", "moldova", "--format", "json")
    assert json.loads(out)["matches"] == 0
    assert hook.received == []


def test_backfill_notify_sends(polled: Path, hook: Receiver) -> None:
    code, out, _ = invoke(polled, "watchlists", "backfill", "sailing", "--notify")
    assert code == 0 and "1 delivery queued" in out
    assert len(hook.received) == 1 and b"regatta" in hook.received[0][2]


def test_backfill_since_skips_older_articles(polled: Path) -> None:
    code, out, _ = invoke(
        polled, "watchlists", "backfill", "sailing", "--since", "2999-01-01", "--format", "json"
    )
    assert code == 0 and json.loads(out)["scanned"] == 0
