"""One alert per story, end to end: syndicated copies, AMP and canonical links, edits.

The fixtures in tests/fixtures/stories (see its README) are served by the local Site.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config.settings import load
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import AlertView, list_alerts

FIXTURES = Path(__file__).parent / "fixtures" / "stories"


@pytest.fixture
def stories_site() -> Site:
    with Site(FIXTURES) as server:
        yield server  # type: ignore[misc]


def _config(tmp_path: Path, db_url: str, site: Site, hook: Receiver, extra: str = "") -> Path:
    path = tmp_path / "newsmon.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[http]
concurrency = 1
allow_networks = ["127.0.0.1/32"]
[defaults]
alert_backlog = true
[delivery]
retry_base = "1s"
{extra}
[[feed]]
name = "wire"
url = "{site.base}/feeds/wire.xml"
[[feed]]
name = "partner"
url = "{site.base}/feeds/partner.xml"
[[feed]]
name = "mirror"
url = "{site.base}/feeds/mirror.xml"
[channel.chat]
urls = ["json://{hook.base[7:]}/hook"]
[watchlist.osce]
terms = ["OSCE"]
channels = ["chat"]
[watchlist.nato]
terms = ["NATO"]
channels = ["chat"]
""",
        encoding="utf-8",
    )
    return path


def _by_path(alerts: list[AlertView], base: str) -> dict[str, AlertView]:
    return {(a.url or "").removeprefix(base): a for a in alerts if a.kind == "new"}


def _edit_the_wire_story(site: Site) -> None:
    feed = (FIXTURES / "feeds" / "wire.xml").read_text(encoding="utf-8")
    feed = feed.replace("Three arrested", "Four arrests").replace("three men", "four men")
    site.routes["/feeds/wire.xml"] = Reply(200, feed.replace("{base}", site.base).encode())
    page = (FIXTURES / "wire" / "convoy-edited.html").read_bytes()
    site.routes["/wire/convoy.html"] = Reply(
        200,
        page.replace(b"{base}", site.base.encode()),
        {"Content-Type": "text/html; charset=utf-8"},
    )


def test_copies_join_the_story_and_alert_once(
    db_url: str, stories_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    ctx = open_context(load(_config(tmp_path, db_url, stories_site, hook)))
    try:
        report = poll_once(ctx)
        alerts = list_alerts(ctx.db, limit=100)
    finally:
        close_context(ctx)

    got = {path: a.watchlists for path, a in _by_path(alerts, stories_site.base).items()}
    # the partner's copy (other headline, other template) and the re-post joined the wire
    # story; the unrelated story in the same partner template alerted on its own
    assert got == {"/wire/convoy.html": ["osce"], "/partner/ferry-strike.html": ["osce"]}
    assert report.deliveries.sent == 2 and len(hook.received) == 2
    # the AMP link with tracking parameters was known by its URL: never fetched
    assert "/wire/convoy.html/amp" not in stories_site.hits

    wire = _by_path(alerts, stories_site.base)["/wire/convoy.html"]
    assert wire.story is not None
    members = {(m.url or "").removeprefix(stories_site.base) for m in wire.story.members}
    assert members == {"/wire/convoy.html", "/partner/border-raid.html", "/mirror/repost-4411.html"}
    assert wire.story.sources == ["Demo Wire", "Lakeside Courier", "Mirror Digest"]
    assert wire.also_reported_by == 2
    ferry = _by_path(alerts, stories_site.base)["/partner/ferry-strike.html"]
    assert ferry.story is not None and ferry.story.id != wire.story.id
    assert ferry.also_reported_by == 0


def test_alerts_show_and_list_json_carry_the_story(
    db_url: str, stories_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = _config(tmp_path, db_url, stories_site, hook)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "poll", "--once"]).exit_code == 0
    listed = runner.invoke(cli, ["--config", str(config), "alerts", "list", "--format", "json"])
    rows = {r["url"].removeprefix(stories_site.base): r for r in json.loads(listed.stdout)}
    wire = rows["/wire/convoy.html"]
    assert wire["story_id"] and wire["also_reported_by"] == 2
    assert wire["sources"] == ["Demo Wire", "Lakeside Courier", "Mirror Digest"]
    assert [m["is_alerted"] for m in wire["members"]] == [True, False, False]
    assert rows["/partner/ferry-strike.html"]["story_id"] != wire["story_id"]

    shown = runner.invoke(
        cli, ["--config", str(config), "alerts", "show", str(wire["id"]), "--format", "json"]
    )
    data = json.loads(shown.stdout)
    listed_keys = list(wire["members"][0])
    assert [{k: m[k] for k in listed_keys} for m in data["members"]] == wire["members"]
    assert [m["is_first"] for m in data["members"]] == [True, False, False]
    assert data["kind"] == "new"
    text = runner.invoke(cli, ["--config", str(config), "alerts", "show", str(wire["id"])])
    assert "Story " in text.stdout and "also reported by 2 sources" in text.stdout, text.stdout
    assert "Lakeside Courier: Border convoy raid" in text.stdout


@pytest.mark.parametrize("is_correcting", [False, True], ids=["plain", "with-corrections"])
def test_an_edit_alerts_new_watchlists_only_and_corrections_on_request(
    db_url: str, stories_site: Site, hook: Receiver, tmp_path: Path, is_correcting: bool
) -> None:
    extra = f"[stories]\ncorrections = {str(is_correcting).lower()}\n"
    ctx = open_context(load(_config(tmp_path, db_url, stories_site, hook, extra)))
    try:
        poll_once(ctx)
        before = {a.id for a in list_alerts(ctx.db, limit=100)}
        _edit_the_wire_story(stories_site)
        report = poll_once(ctx)
        fresh = [a for a in list_alerts(ctx.db, limit=100) if a.id not in before]
    finally:
        close_context(ctx)

    assert sum(len(r.alerts) for r in report.feeds) == len(fresh)
    new = [a for a in fresh if a.kind == "new"]
    # the edit added NATO: one alert for nato only; OSCE had alerted already
    assert [a.watchlists for a in new] == [["nato"]]
    assert new[0].title.startswith("Four arrests")
    corrections = [a for a in fresh if a.kind == "correction"]
    if not is_correcting:
        assert corrections == []
        return
    assert len(corrections) == 1
    diff = corrections[0].diff or ""
    assert corrections[0].watchlists == ["osce"]
    assert "headline:" in diff and "Three arrested → Four arrests" in diff
    assert "lead:" in diff and "four arrests" in diff
    assert [d.channel for d in corrections[0].deliveries] == ["chat"]
    posted = [json.loads(body) for _, _, body in hook.received]
    assert any("correction" in p["title"] and "Four arrests" in p["message"] for p in posted)


def test_without_grouping_by_text_copies_alert_separately(
    db_url: str, stories_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    extra = "[stories]\ngroup = false\nevents = false\n"  # events would join the copy
    ctx = open_context(load(_config(tmp_path, db_url, stories_site, hook, extra)))
    try:
        poll_once(ctx)
        alerts = list_alerts(ctx.db, limit=100)
    finally:
        close_context(ctx)
    paths = set(_by_path(alerts, stories_site.base))
    # URL and canonical identity still hold; only the text copy is now a story of its own
    assert paths == {
        "/wire/convoy.html",
        "/partner/border-raid.html",
        "/partner/ferry-strike.html",
    }


def test_with_corrections_a_known_url_from_another_feed_is_read_again(
    db_url: str, stories_site: Site, hook: Receiver, tmp_path: Path
) -> None:
    extra = "[stories]\ncorrections = true\n"
    ctx = open_context(load(_config(tmp_path, db_url, stories_site, hook, extra)))
    try:
        poll_once(ctx)
        before = {a.id for a in list_alerts(ctx.db, limit=100)}
        page = (FIXTURES / "wire" / "convoy-edited.html").read_bytes()
        stories_site.routes["/wire/convoy.html"] = Reply(
            200,
            page.replace(b"{base}", stories_site.base.encode()),
            {"Content-Type": "text/html; charset=utf-8"},
        )
        partner = (FIXTURES / "feeds" / "partner.xml").read_text(encoding="utf-8")
        item = (
            "<item><title>Wire: convoy raid update</title><guid>lc-9003</guid>"
            "<link>{base}/wire/convoy.html?utm_source=partner</link>"
            "<description>Update from the wire.</description></item>"
        )
        partner = partner.replace("<item>", item + "<item>", 1).replace("{base}", stories_site.base)
        stories_site.routes["/feeds/partner.xml"] = Reply(200, partner.encode())
        poll_once(ctx, ["partner"])
        fresh = [a for a in list_alerts(ctx.db, limit=100) if a.id not in before]
    finally:
        close_context(ctx)
    assert sorted((a.kind, tuple(a.watchlists)) for a in fresh) == [
        ("correction", ("osce",)),
        ("new", ("nato",)),
    ]
    assert all(a.feed == "partner" for a in fresh)
