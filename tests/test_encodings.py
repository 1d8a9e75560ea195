"""Feeds and pages in windows-1251, KOI8-R, ISO-8859-5, UTF-16 and UTF-8, served by the
local server with the charset absent, right and wrong, polled through the real pipeline:
the Cyrillic watchlists match, and the feed records which encoding it was read in, why.

No capture of a real feed in these encodings could be used here (those public test
suites keep, such as chardet's, are the publishers' copyright), so the bytes are the demo
site's Russian and Ukrainian feed and article (monitor/demo/site: news-style text
written for newsmon), encoded here into each encoding.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import ALLOW_LOCAL
from helpers.feeds import serve_linked_page
from helpers.paths import SAMPLE_SITE
from monitor.cli import cli
from monitor.config.settings import load
from monitor.demo.server import Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import list_alerts
from monitor.store.feeds import list_feeds

NOVOSTI = (SAMPLE_SITE / "feeds" / "novosti.xml").read_text(encoding="utf-8")
WATCHLISTS = {
    "ukraine": ["Україна", "Украина"],
    "nato": ["НАТО"],
    "osce": ["ОБСЕ"],
    "ryabkov": ["Рябков"],
}


@dataclass(frozen=True)
class Served:
    codec: str  # Python's codec the bytes are written in
    header: str  # the Content-Type sent ("" for none)
    declared: str | None  # the XML declaration's encoding (None: no encoding in it)
    encoding: str  # what newsmon must read it as
    reason: str
    bom: bytes = b""


CASES = {
    "cp1251-undeclared": Served(
        "cp1251", "application/rss+xml", None, "windows-1251", "detected; no charset declared"
    ),
    "cp1251-text-xml-undeclared": Served(
        "cp1251", "text/xml", None, "windows-1251", "detected; no charset declared"
    ),
    "cp1251-in-content-type": Served(
        "cp1251",
        "application/rss+xml; charset=windows-1251",
        None,
        "windows-1251",
        "declared in Content-Type",
    ),
    "cp1251-in-xml-declaration": Served(
        "cp1251",
        "application/xml",
        "windows-1251",
        "windows-1251",
        "declared in the XML declaration",
    ),
    "cp1251-declared-utf8": Served(
        "cp1251",
        "application/rss+xml; charset=utf-8",
        "utf-8",
        "windows-1251",
        "detected; declared utf-8 did not decode",
    ),
    "cp1251-declared-latin1": Served(
        "cp1251",
        "application/rss+xml; charset=iso-8859-1",
        None,
        "windows-1251",
        "detected; declared iso-8859-1 contradicted by the bytes",
    ),
    "koi8r-undeclared": Served(
        "koi8_r", "application/rss+xml", None, "koi8-r", "detected; no charset declared"
    ),
    "koi8r-in-content-type": Served(
        "koi8_r", "text/xml; charset=KOI8-R", None, "koi8-r", "declared in Content-Type"
    ),
    "koi8r-declared-cp1251": Served(
        "koi8_r",
        "application/rss+xml",
        "windows-1251",
        "koi8-r",
        "detected; declared windows-1251 contradicted by the bytes",
    ),
    "iso8859-5-undeclared": Served(
        "iso8859_5", "application/rss+xml", None, "iso-8859-5", "detected; no charset declared"
    ),
    "iso8859-5-in-xml-declaration": Served(
        "iso8859_5", "", "iso-8859-5", "iso-8859-5", "declared in the XML declaration"
    ),
    "utf16-bom-undeclared": Served(
        "utf-16-le", "application/rss+xml", None, "utf-16le", "byte order mark", b"\xff\xfe"
    ),
    "utf16-no-bom": Served(
        "utf-16-be", "application/xml", None, "utf-16be", "detected; UTF-16 by its first bytes"
    ),
    "utf8-undeclared": Served("utf-8", "text/xml", None, "utf-8", "detected; no charset declared"),
    "utf8-in-content-type": Served(
        "utf-8", "application/rss+xml; charset=utf-8", None, "utf-8", "declared in Content-Type"
    ),
    "utf8-declared-cp1251": Served(
        "utf-8",
        "application/rss+xml; charset=windows-1251",
        None,
        "utf-8",
        "detected; declared windows-1251 did not decode",  # Python's has no byte 0x98
    ),
    "utf8-declared-latin1": Served(
        "utf-8",
        "application/rss+xml; charset=iso-8859-1",
        None,
        "utf-8",
        "detected; declared iso-8859-1 contradicted by the bytes",
    ),
}


def feed_bytes(site: Site, served: Served) -> tuple[bytes, set[str]]:
    """The demo feed in ``served``'s encoding (items it cannot write left out: KOI8-R
    has no Ukrainian і or ї), and the watchlists its items match."""
    text = NOVOSTI.replace("{base}", site.base)
    kept = []
    for item in re.findall(r"<item>.*?</item>", text, re.S):
        try:
            item.encode(served.codec)
        except UnicodeEncodeError:
            text = text.replace(item, "")
            continue
        kept.append(item)
    declaration = '<?xml version="1.0"?>'
    if served.declared:
        declaration = f'<?xml version="1.0" encoding="{served.declared}"?>'
    text = text.replace('<?xml version="1.0" encoding="utf-8"?>', declaration)
    matched = {
        name for name, terms in WATCHLISTS.items() for t in terms if any(t in i for i in kept)
    }
    return served.bom + text.encode(served.codec), matched


def config(tmp_path: Path, db_url: str, site: Site, *, fetch_articles: bool = False) -> Path:
    lines = [
        f'[database]\nurl = "{db_url}"\n[scale]\nworkers = 0\n',
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n",
        f'[[feed]]\nname = "ru"\nurl = "{site.base}/feeds/ru.xml"\nalert_backlog = true\n'
        f"fetch_articles = {str(fetch_articles).lower()}\n",
        '[channel.none]\nurls = ["json://127.0.0.1:9/none"]\n',
    ]
    for name, terms in WATCHLISTS.items():
        quoted = ", ".join(f'"{t}"' for t in terms)
        lines.append(f'[watchlist.{name}]\nterms = [{quoted}]\nchannels = ["none"]\n')
    path = tmp_path / "n.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("served", CASES.values(), ids=CASES.keys())
def test_a_cyrillic_feed_is_read_in_its_real_encoding(
    served: Served, db_url: str, site: Site, tmp_path: Path
) -> None:
    body, matched = feed_bytes(site, served)
    headers = {"Content-Type": served.header} if served.header else {}
    site.routes["/feeds/ru.xml"] = Reply(200, body, headers)
    ctx = open_context(load(config(tmp_path, db_url, site)))
    try:
        report = poll_once(ctx)
        alerts = list_alerts(ctx.db, feed="ru")
        (feed,) = list_feeds(ctx.db)
    finally:
        close_context(ctx)
    assert [r.status for r in report.feeds] == ["ok"], feed.last_error
    assert feed.title == "Демо Новости"
    assert {"ryabkov", "osce", "ukraine"} <= matched
    assert {w for a in alerts for w in a.watchlists} == matched
    assert (feed.encoding, feed.encoding_reason) == (served.encoding, served.reason)


ARTICLE = (SAMPLE_SITE / "articles" / "ryabkov-ru.html").read_text(encoding="utf-8")
PAGES = {
    "cp1251-no-charset": ("cp1251", "text/html", "", "windows-1251 (detected; no charset"),
    "cp1251-meta-utf8": (
        "cp1251",
        "text/html",
        '<meta charset="utf-8">',
        "windows-1251 (detected; declared utf-8 did not decode)",
    ),
    "koi8r-header-cp1251": (
        "koi8_r",
        "text/html; charset=windows-1251",
        "",
        "koi8-r (detected; declared windows-1251 contradicted",
    ),
    "koi8r-meta": (
        "koi8_r",
        "text/html",
        '<meta charset="koi8-r">',
        "koi8-r (declared in a meta tag)",
    ),
}


@pytest.mark.parametrize(("codec", "header", "meta", "shown"), PAGES.values(), ids=PAGES.keys())
def test_a_cyrillic_page_is_read_in_its_real_encoding(
    codec: str,
    header: str,
    meta: str,
    shown: str,
    site: Site,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    page = ARTICLE.replace('<meta charset="utf-8">', meta).replace("{base}", site.base)
    body = page.encode(codec, "xmlcharrefreplace")  # KOI8-R has no «»: &#171; as such sites do
    serve_linked_page(site, body, header, "/feeds/ru.xml")
    db_url = f"sqlite:///{tmp_path / 'n.db'}"
    ctx = open_context(load(config(tmp_path, db_url, site, fetch_articles=True)))
    caplog.set_level(logging.DEBUG, logger="newsmon.pipeline")
    try:
        poll_once(ctx)
        (alert,) = list_alerts(ctx.db, feed="ru")
    finally:
        close_context(ctx)
    assert alert.text_source == "page"
    assert "Сергей Рябков" in alert.text and alert.watchlists == ["ryabkov"]
    (logged,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("page read")]
    assert f"url={site.base}/a.html encoding='{shown}" in logged


def test_feeds_show_and_list_say_which_encoding_and_why(site: Site, tmp_path: Path) -> None:
    body, _ = feed_bytes(site, CASES["cp1251-declared-utf8"])
    site.routes["/feeds/ru.xml"] = Reply(200, body, {"Content-Type": "text/xml; charset=utf-8"})
    path = config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}", site)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(path), "poll", "--once"]).exit_code == 0
    shown = runner.invoke(cli, ["--config", str(path), "feeds", "show", "ru"])
    assert shown.exit_code == 0
    assert "windows-1251 (detected; declared utf-8 did not decode)" in shown.output
    listed = runner.invoke(cli, ["--config", str(path), "feeds", "list", "--format", "json"])
    (row,) = json.loads(listed.output)
    assert (row["encoding"], row["encoding_reason"]) == (
        "windows-1251",
        "detected; declared utf-8 did not decode",
    )
    missing = runner.invoke(cli, ["--config", str(path), "feeds", "show", "nope"])
    assert missing.exit_code == 1 and "no feed named 'nope'" in missing.output
