"""Exports: the Atom feed read back with feedparser and a strict XML parser, CSV and JSON,
streaming in batches, atomic files, and the feed over HTTP (httpx against 127.0.0.1)
from `alerts serve` and from the daemon."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import httpx
import pytest
from click.testing import CliRunner

from helpers.config import write_config
from helpers.db import BACKENDS, PG_URL, reset_postgres
from helpers.paths import SAMPLE_SITE
from helpers.servers import free_port
from monitor.cli import cli
from monitor.config.settings import ExportSettings, load
from monitor.daemon import Daemon
from monitor.demo.server import Reply, Site
from monitor.history.atom import FeedInfo, write_atom
from monitor.history.export import atomic_file, write_export
from monitor.history.serve import FeedServer
from monitor.model import ALERT_COLUMNS, ALERT_FIELDS
from monitor.store.alerts import AlertView, list_alerts
from monitor.store.db import connect
from monitor.store.export import ExportRow

ATOM = "{http://www.w3.org/2005/Atom}"
AUTHORITY = "news.example.org,2026"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class History:
    config: Path
    url: str
    site: Site
    alerts: list[AlertView]  # as the alert listing reads them, newest first


@pytest.fixture(scope="module", params=BACKENDS)
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    """One poll of the sample site per database, shared by this module's tests (the way
    the `db_url` fixture makes one, once per module, as polling is the slow part)."""
    tmp = tmp_path_factory.mktemp("export")
    url = f"sqlite:///{tmp / 'newsmon.db'}"
    if request.param == "postgresql":
        assert PG_URL
        reset_postgres(PG_URL)
        url = PG_URL
    with Site(SAMPLE_SITE) as site:
        extra = f'[export]\ntag_authority = "{AUTHORITY}"\nentries = 5\n'
        config = write_config(tmp / "newsmon.toml", url, site, {}, extra=extra)
        code, _, err = invoke(config, "poll", "--once")
        assert code == 0, err
        db = connect(url)
        found = list_alerts(db, limit=1000)
        db.close()
        assert len(found) == 12
        yield History(config, url, site, found)


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def entry_id(alert_id: int) -> str:
    return f"tag:{AUTHORITY}:alert/{alert_id}"


def check_atom(xml: bytes) -> ET.Element:
    """Well-formed, and what RFC 4287 requires of a feed and each entry."""
    feed = ET.fromstring(xml)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "author"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        alternate = [e for e in entry.findall(f"{ATOM}link") if e.get("rel") == "alternate"]
        assert alternate or entry.find(f"{ATOM}content") is not None
    return feed


# ------------------------------------------------------------------ export to files


def test_atom_export_round_trips_through_feedparser(history: History, tmp_path: Path) -> None:
    out = tmp_path / "alerts.atom"
    code, _, err = invoke(history.config, "alerts", "export", "-o", str(out))
    assert code == 0 and "exported 12 alert(s)" in err
    check_atom(out.read_bytes())
    parsed = feedparser.parse(out.read_bytes())
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.feed.id == f"tag:{AUTHORITY}:alerts" and parsed.feed.title == "newsmon alerts"
    assert [e.id for e in parsed.entries] == [entry_id(a.id) for a in history.alerts]
    for entry, alert in zip(parsed.entries, history.alerts, strict=True):
        assert entry.title == alert.title
        assert entry.get("link") == (alert.url or None) or alert.url is None
        assert entry.updated_parsed and entry.published_parsed
        tags = {(t.scheme.rsplit(":", 1)[1], t.term) for t in entry.tags}
        assert {("watchlist", w) for w in alert.watchlists} | {
            ("term", t) for t in alert.terms
        } == tags
        text = entry.get("summary") or entry.content[0].value
        assert all(term in text for term in alert.terms) and alert.snippet[:40] in text
        assert entry.source.title == alert.feed
    linked = [a for a in history.alerts if a.url]
    assert linked and all(
        e.link == a.url for e, a in zip(parsed.entries, history.alerts, strict=True) if a.url
    )


def test_watchlist_feed_keeps_the_same_entry_ids(history: History, tmp_path: Path) -> None:
    out = tmp_path / "osce.atom"
    code, _, _ = invoke(history.config, "alerts", "export", "--watchlist", "osce", "-o", str(out))
    parsed = feedparser.parse(out.read_bytes())
    osce = [a for a in history.alerts if "osce" in a.watchlists]
    assert code == 0 and len(osce) == 3
    assert parsed.feed.id == f"tag:{AUTHORITY}:watchlist/osce"
    assert [e.id for e in parsed.entries] == [entry_id(a.id) for a in osce]
    code, out_text, _ = invoke(history.config, "alerts", "export", "--limit", "2")
    assert [e.id for e in feedparser.parse(out_text).entries] == [
        entry_id(a.id) for a in history.alerts[:2]
    ]


def test_one_list_of_alert_columns(history: History) -> None:
    """The export's columns, in order, are the first fields of the alert listing."""
    code, out, _ = invoke(history.config, "alerts", "export", "--format", "csv", "--limit", "1")
    assert code == 0 and next(csv.reader(io.StringIO(out))) == list(ALERT_COLUMNS)
    code, out, _ = invoke(history.config, "alerts", "export", "--format", "json", "--limit", "1")
    assert code == 0 and list(json.loads(out)[0]) == list(ALERT_COLUMNS)
    code, out, _ = invoke(history.config, "alerts", "list", "--format", "json", "--limit", "1")
    assert code == 0 and list(json.loads(out)[0]) == list(ALERT_FIELDS)
    assert ALERT_FIELDS[: len(ALERT_COLUMNS)] == ALERT_COLUMNS


def test_csv_and_json_exports(history: History, tmp_path: Path) -> None:
    code, out, _ = invoke(history.config, "alerts", "export", "--format", "csv", "--since", "1d")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [int(r["id"]) for r in rows] == [a.id for a in history.alerts]
    assert rows[0]["title"] == history.alerts[0].title
    assert rows[0]["watchlists"] == ", ".join(history.alerts[0].watchlists)
    target = tmp_path / "alerts.json"
    code, _, _ = invoke(
        history.config, "alerts", "export", "--format", "json", "--limit", "3", "-o", str(target)
    )
    data = json.loads(target.read_text(encoding="utf-8"))
    assert code == 0 and [d["id"] for d in data] == [a.id for a in history.alerts[:3]]
    assert data[0]["terms"] == history.alerts[0].terms and data[0]["created_at"].endswith("Z")
    _, out, _ = invoke(history.config, "alerts", "export", "--format", "json", "--since", "1m")
    assert len(json.loads(out)) == 12
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    _, out, _ = invoke(history.config, "alerts", "export", "--format", "json", "--since", tomorrow)
    assert json.loads(out) == []


def test_progress_goes_to_stderr(history: History, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    code, stdout, err = invoke(
        history.config, "alerts", "export", "--format", "csv", "--progress", "-o", str(out)
    )
    assert code == 0 and stdout == "" and "12/12" in err and "exporting alerts" in err
    assert len(out.read_text(encoding="utf-8").splitlines()) == 13


def test_unwritable_output_is_an_error_with_a_hint(history: History, tmp_path: Path) -> None:
    code, _, err = invoke(history.config, "alerts", "export", "-o", str(tmp_path / "no" / "x"))
    assert code == 1 and "error: export: cannot write in" in err and "hint:" in err


def test_atomic_file_keeps_the_old_file_until_complete(tmp_path: Path) -> None:
    target = tmp_path / "alerts.atom"
    target.write_text("old")
    target.chmod(0o640)
    with pytest.raises(RuntimeError), atomic_file(target) as out:
        out.write("half of an export")
        raise RuntimeError("the database went away")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["alerts.atom"]
    with atomic_file(target) as out:
        out.write("new")
        assert target.read_text() == "old"  # not replaced before the end
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["alerts.atom"]


# ------------------------------------------------------------------ escaping


def row(**changes: object) -> ExportRow:
    base = {
        "id": 7,
        "created_at": NOW,
        "updated_at": NOW,
        "kind": "new",
        "title": "NATO summit",
        "url": "https://example.org/story?a=1&b=2",
        "feed": "world",
        "feed_url": "https://example.org/feed.xml",
        "source": "Example News",
        "published_at": NOW - timedelta(hours=1),
        "story_id": 3,
        "watchlists": ("nato",),
        "terms": ("NATO",),
        "snippet": "The NATO summit opened.",
    }
    return ExportRow(**{**base, **changes})  # type: ignore[arg-type]


HOSTILE = [  # (id, title, as a one-line text, as an attribute)
    ("markup", M := '<script>alert("x")</script> & <b>NATO</b> ]]>', M, M),
    ("controls", "NATO\x00\x07\x1b[31m summit\x0c\ufffe", "NATO[31m summit", "NATO[31m summit"),
    ("bidi", "NATO \u202egnp.exe", "NATO gnp.exe", "NATO gnp.exe"),
    ("newlines", "NATO\r\nSubject: x", "NATO Subject: x", "NATO\r\nSubject: x"),
    ("entities", E := "&amp; &lt;x&gt; &#0; &nbsp;", E, E),
]


@pytest.mark.parametrize(
    ("title", "line", "attribute"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_atom_escapes_untrusted_text(title: str, line: str, attribute: str) -> None:
    url = 'https://example.org/?q="><script>&x=\x01'
    hostile = row(title=title, source=title, snippet=title, terms=(title,), feed=title, url=url)
    out = io.StringIO()
    assert write_atom([hostile], out, FeedInfo(title, AUTHORITY), NOW) == 1
    xml = out.getvalue().encode("utf-8")
    feed = check_atom(xml)
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None
    assert feed.findtext(f"{ATOM}title") == line
    assert entry.findtext(f"{ATOM}title") == line
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == line
    assert entry.findtext(f"{ATOM}source/{ATOM}title") == line
    assert {c.get("term") for c in entry.findall(f"{ATOM}category")} == {"nato", attribute}
    link = entry.find(f"{ATOM}link")
    assert link is not None and link.get("href") == url.replace("\x01", "")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and parsed.entries[0].title == line
    assert b"<script" not in xml and b"\x1b" not in xml and b"\x00" not in xml


def test_only_web_links_become_links() -> None:
    out = io.StringIO()
    write_atom(
        [row(url="javascript:alert(1)"), row(id=8, url=None)], out, FeedInfo("t", AUTHORITY), NOW
    )
    assert "javascript" not in out.getvalue()
    feed = check_atom(out.getvalue().encode())
    for entry in feed.findall(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}link") is None
        assert "The NATO summit opened." in (entry.findtext(f"{ATOM}content") or "")


def test_csv_cells_never_become_formulas() -> None:
    out = io.StringIO()
    hostile = row(title='=HYPERLINK("http://evil.example","click")', snippet="+1 -2 @sum")
    write_export("csv", [hostile, row(id=8, title="- a list")], out, FeedInfo("t", AUTHORITY), NOW)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["title"] == "'" + hostile.title and rows[0]["snippet"] == "'+1 -2 @sum"
    assert rows[1]["title"] == "'- a list" and rows[1]["source"] == "Example News"


# ------------------------------------------------------------------ the feed over HTTP


@pytest.fixture
def server(history: History) -> Iterator[FeedServer]:
    settings = load(history.config)
    db = connect(history.url, is_read_only=True)
    feeds = FeedServer(db, settings.export, settings.watchlist, "127.0.0.1:0")
    feeds.start()
    try:
        yield feeds
    finally:
        feeds.close()
        db.close()


def test_feed_over_http_answers_304_while_nothing_changed(
    history: History, server: FeedServer
) -> None:
    with httpx.Client(timeout=10) as client:
        first = client.get(server.url)
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/atom+xml; charset=utf-8"
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        parsed = feedparser.parse(first.content)
        check_atom(first.content)
        assert [e.id for e in parsed.entries] == [entry_id(a.id) for a in history.alerts[:5]]
        assert parsed.feed.links[0].href == server.url and parsed.feed.links[0].rel == "self"
        for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
            again = client.get(server.url, headers=headers)
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == etag
        changed = client.get(server.url, headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200 and changed.content == first.content
        old = client.get(server.url, headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
        assert old.status_code == 200
        head = client.head(server.url)
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag

        osce = client.get(server.url.replace("/alerts.atom", "/watchlist/osce.atom"))
        wanted = [entry_id(a.id) for a in history.alerts if "osce" in a.watchlists]
        assert osce.status_code == 200 and osce.headers["etag"] != etag
        assert [e.id for e in feedparser.parse(osce.content).entries] == wanted
        for path in ("/watchlist/nope.atom", "/watchlist/..%2Falerts.atom", "/", "/etc/passwd"):
            missing = client.get(server.url.replace("/alerts.atom", path))
            assert missing.status_code == 404 and b"/watchlist/osce.atom" in missing.content
        assert client.post(server.url).status_code == 501


def fetch_then_stop(url: str, results: dict[str, httpx.Response]) -> threading.Thread:
    """A reader in a thread: wait for the feed at ``url``, fetch it twice (the second
    time with its ETag), then stop the server with SIGTERM like systemd or kill would."""

    def read() -> None:
        stop = signal.SIGINT  # KeyboardInterrupt, should nothing be listening yet
        try:
            deadline = time.monotonic() + 20
            while "first" not in results and time.monotonic() < deadline:
                try:
                    results["first"] = httpx.get(url, timeout=5)
                except httpx.TransportError:
                    time.sleep(0.05)
            etag = results["first"].headers["etag"]
            results["again"] = httpx.get(url, headers={"If-None-Match": etag}, timeout=5)
            stop = signal.SIGTERM
        finally:
            os.kill(os.getpid(), stop)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_feed_server_answers_503_while_the_database_is_down() -> None:
    nothing_listens = f"postgresql://postgres@127.0.0.1:{free_port()}/newsmon"
    db = connect(nothing_listens, is_read_only=True)
    feeds = FeedServer(db, ExportSettings(), ["osce"], "127.0.0.1:0")
    feeds.start()
    try:
        answer = httpx.get(feeds.url, timeout=10)
    finally:
        feeds.close()
        db.close()
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"


def test_alerts_serve_command(history: History) -> None:
    port = free_port()
    results: dict[str, httpx.Response] = {}
    reader = fetch_then_stop(f"http://127.0.0.1:{port}/watchlist/osce.atom", results)
    code, _, err = invoke(history.config, "alerts", "serve", "--listen", f"127.0.0.1:{port}")
    reader.join(timeout=10)
    assert code == 0 and f"serving http://127.0.0.1:{port}/alerts.atom" in err
    wanted = [entry_id(a.id) for a in history.alerts if "osce" in a.watchlists]
    assert [e.id for e in feedparser.parse(results["first"].content).entries] == wanted
    assert results["again"].status_code == 304
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back as it was


def test_daemon_serves_the_feed_when_configured(
    history: History, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    extra = f'[export]\nlisten = "127.0.0.1:{port}"\ntag_authority = "{AUTHORITY}"\n'
    config = write_config(tmp_path / "daemon.toml", history.url, history.site, {}, extra=extra)
    results: dict[str, httpx.Response] = {}
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    caplog.set_level("INFO", logger="newsmon")
    try:
        daemon = Daemon(config, load(config))
        reader = fetch_then_stop(f"http://127.0.0.1:{port}/watchlist/ryabkov.atom", results)
        daemon.run()
        reader.join(timeout=10)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    wanted = [entry_id(a.id) for a in history.alerts if "ryabkov" in a.watchlists]
    assert wanted and [e.id for e in feedparser.parse(results["first"].content).entries] == wanted
    assert results["again"].status_code == 304
    assert f"serving feed url=http://127.0.0.1:{port}/alerts.atom" in caplog.text
    assert "stopped" in caplog.text


NEW_ITEM = b"""<item>
  <title>NATO &lt;script&gt;alert(1)&lt;/script&gt; summit &amp; "allies" &lt;b&gt;</title>
  <link>{base}/articles/nato-new.html</link>
  <guid isPermaLink="false">demo-world-wire-new-0001</guid>
  <description>NATO allies met again &lt;img src=x onerror=alert(1)&gt;.</description>
</item>
"""


def test_a_new_alert_changes_the_feed_and_its_etag(history: History, server: FeedServer) -> None:
    """Runs last in this module: it adds an alert to the shared history."""
    first = httpx.get(server.url, timeout=10)
    base = history.site.base.encode()
    feed = (SAMPLE_SITE / "feeds" / "world.xml").read_bytes().replace(b"{base}", base)
    body = feed.replace(b"<item>", NEW_ITEM.replace(b"{base}", base) + b"<item>", 1)
    history.site.routes["/feeds/world.xml"] = Reply(
        body=body, headers={"Content-Type": "application/xml"}
    )
    code, _, err = invoke(history.config, "poll", "--once", "--feed", "world")
    assert code == 0, err
    db = connect(history.url)
    newest = list_alerts(db, limit=1)[0]
    db.close()
    assert newest.id not in {a.id for a in history.alerts} and "NATO" in newest.title
    second = httpx.get(server.url, headers={"If-None-Match": first.headers["etag"]}, timeout=10)
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
    check_atom(second.content)
    entries = feedparser.parse(second.content).entries
    assert entries[0].id == entry_id(newest.id) and entries[0].title == newest.title
    assert b"<script" not in second.content and b"<img" not in second.content
