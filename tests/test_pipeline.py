"""End to end: the sample site polled twice, alerts stored once, mail and webhook received."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers.config import hook_url, write_config
from helpers.servers import Mailbox
from monitor.config.settings import load
from monitor.demo.server import Receiver, Reply, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import list_alerts
from monitor.store.feeds import list_feeds

# What the sample feeds should raise, from reading monitor/demo/site/README.md:
# article path (or title for the link-less entry) -> watchlists.
EXPECTED = {
    "/articles/nato-ministers.html": {"nato", "ukraine"},
    "/articles/osce-mission.html": {"osce"},  # NATO only in a reader comment: no nato
    "/articles/ryabkov-arms-control.html": {"ryabkov"},
    "/articles/removed-page.html": {"ukraine"},  # 404: the summary is used
    "/articles/grain-corridor.html": {"ukraine"},
    "/articles/nato-gipfel.html": {"nato", "ukraine"},
    "/articles/osze-beobachter.html": {"osce"},
    "/articles/rjabkow.html": {"ryabkov"},
    "/articles/ryabkov-ru.html": {"ryabkov"},
    "/articles/obse-doklad.html": {"osce"},
    "/articles/ukraina-nato.html": {"nato", "ukraine"},
    "Украина: экстренное сообщение": {"ukraine"},
}
NEVER = ["senator-festival", "harbour-regatta", "anatolien-wetter", "pogoda"]


def _key(alert_url: str | None, title: str, base: str) -> str:
    if not alert_url:
        return title
    return alert_url.removeprefix(base).split("?")[0].split("#")[0]


def test_two_polls_alert_once_per_article_and_deliver(
    db_url: str, site: Site, hook: Receiver, smtp: Mailbox, tmp_path: Path
) -> None:
    mail = f"mailto://{smtp.host}:{smtp.port}?from=newsmon@example.org&to=desk@example.org"
    config = write_config(
        tmp_path / "newsmon.toml",
        db_url,
        site,
        {"desk": [mail], "chat": [hook_url(hook)]},
    )
    ctx = open_context(load(config))
    try:
        first = poll_once(ctx)
        second = poll_once(ctx)
        alerts = list_alerts(ctx.db, limit=1000)
        feeds = {f.name: f for f in list_feeds(ctx.db)}
    finally:
        close_context(ctx)

    got = {_key(a.url, a.title, site.base): set(a.watchlists) for a in alerts}
    assert got == EXPECTED
    assert not any(n in (a.url or "") for a in alerts for n in NEVER)
    # the syndicated copy (tracking parameters, fragment) did not alert again
    assert sum("nato-ministers" in (a.url or "") for a in alerts) == 1
    assert {r.status for r in first.feeds} == {"ok"}
    assert all(r.status == "not-modified" for r in second.feeds)  # conditional GET: 304
    assert sum(len(r.alerts) for r in second.feeds) == 0
    assert first.deliveries.sent == 2 * len(EXPECTED) and second.deliveries.sent == 0
    assert all(d.status == "sent" for a in alerts for d in a.deliveries)
    assert feeds["world"].entry_count == 7 and feeds["world"].last_status == "not-modified"

    # the page fell back to the summary and says so; the comment-only NATO did not count
    by_key = {_key(a.url, a.title, site.base): a for a in alerts}
    assert by_key["/articles/removed-page.html"].text_source == "summary"
    assert by_key["/articles/osce-mission.html"].text_source == "page"

    assert len(smtp.messages) == len(EXPECTED)
    subjects = sorted(str(m["Subject"]) for m in smtp.messages)
    assert all(s.startswith("[newsmon]") for s in subjects)
    posts = [json.loads(body) for _, _, body in hook.received]
    assert len(posts) == len(EXPECTED)
    ryabkov = next(p for p in posts if "Ryabkov says" in p["title"])
    assert site.base + "/articles/ryabkov-arms-control.html" in ryabkov["message"]
    assert "ryabkov" in ryabkov["message"] and "Ryabkov" in ryabkov["message"]


def test_first_poll_of_a_new_feed_records_backlog_silently(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "n.toml",
        db_url,
        site,
        {"chat": [hook_url(hook)]},
        alert_backlog=False,
    )
    world = (Path(__file__).parent.parent / "monitor/demo/site/feeds/world.xml").read_text()
    site.routes["/feeds/world.xml"] = Reply(200, world.replace("{base}", site.base).encode())
    ctx = open_context(load(config))
    try:
        first = poll_once(ctx, ["world"])
        assert first.feeds[0].backlog == 7 and first.feeds[0].alerts == []
        assert site.hits.get("/articles/nato-ministers.html") is None  # no page fetched
        # a new entry appears: only it is processed and alerted
        item = (
            "<item><title>NATO envoy visits Kyiv</title><guid>new-1</guid>"
            f"<link>{site.base}/articles/nato-ministers-2.html</link>"
            "<description>NATO envoy meets Ukrainian officials.</description></item>"
        )
        fresh = world.replace("<item>", item + "<item>", 1).replace("{base}", site.base)
        site.routes["/feeds/world.xml"] = Reply(200, fresh.encode())
        second = poll_once(ctx, ["world"])
        alerts = list_alerts(ctx.db)
    finally:
        close_context(ctx)
    assert second.feeds[0].new_entries == 1
    assert [a.title for a in alerts] == ["NATO envoy visits Kyiv"]
    assert alerts[0].text_source == "summary"  # the page does not exist
    assert len(hook.received) == 1


def test_failed_delivery_stays_queued_with_masked_error_then_succeeds(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    url = f"json://newsmon:S3cretTok3n@{hook.base[7:]}/hook"
    config = write_config(tmp_path / "n.toml", db_url, site, {"chat": [url]})
    hook.status = 500
    ctx = open_context(load(config))
    try:
        report = poll_once(ctx, ["novosti"])
        assert report.deliveries.sent == 0 and report.deliveries.failed == 4
        alerts = list_alerts(ctx.db)
        errors = [d.last_error or "" for a in alerts for d in a.deliveries]
        assert all(d.status == "failed" and d.attempts == 1 for a in alerts for d in a.deliveries)
        assert all(errors) and not any("S3cretTok3n" in e for e in errors)
        hook.status = 200
        from datetime import timedelta

        from monitor.deliver.drain import drain

        later = ctx.clock() + timedelta(seconds=10)
        result = drain(ctx.db, ctx.settings, later)
        assert result.sent == 4
        assert all(d.status == "sent" for a in list_alerts(ctx.db) for d in a.deliveries)
    finally:
        close_context(ctx)
    assert len(hook.received) == 4


@pytest.mark.parametrize("status", [404, 500], ids=["not-found", "server-error"])
def test_broken_feed_is_recorded_and_others_unaffected(
    db_url: str, site: Site, tmp_path: Path, status: int
) -> None:
    config = write_config(tmp_path / "n.toml", db_url, site, {})
    site.routes["/feeds/nachrichten.xml"] = Reply(status, b"nope")
    ctx = open_context(load(config))
    try:
        report = poll_once(ctx)
        feeds = {f.name: f for f in list_feeds(ctx.db)}
    finally:
        close_context(ctx)
    status_by_feed = {r.feed: r.status for r in report.feeds}
    assert status_by_feed == {"world": "ok", "nachrichten": "error", "novosti": "ok"}
    assert feeds["nachrichten"].error_count == 1
    assert f"({status})" in (feeds["nachrichten"].last_error or "")
    assert feeds["nachrichten"].next_check_at > feeds["nachrichten"].last_polled_at  # type: ignore[operator]


def test_feed_dates_in_portuguese_are_stored_as_published_times(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "n.toml", db_url, site, {})
    items = "".join(
        f"<item><title>NATO {n}</title><guid>pt-{n}</guid>"
        f"<link>{site.base}/articles/pt-{n}.html</link><pubDate>{date}</pubDate>"
        f"<description>A NATO reuniu-se no {n}.</description></item>"
        for n, date in [
            ("um", "Seg, 24 Set 2018 10:00:00 -0300"),
            ("dois", "Ter, 2 Out 2018 9:30 GMT"),
        ]
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>pt</title>{items}</channel></rss>'
    )
    site.routes["/feeds/world.xml"] = Reply(200, feed.encode())
    ctx = open_context(load(config))
    try:
        poll_once(ctx, ["world"])
        alerts = {a.title: a for a in list_alerts(ctx.db)}
    finally:
        close_context(ctx)
    # no page: the summary is used, and the date comes from the feed alone
    assert alerts["NATO um"].text_source == "summary"
    published = {t: a.published_at for t, a in alerts.items()}
    published = {
        t: p.replace(tzinfo=UTC) if p and not p.tzinfo else p for t, p in published.items()
    }
    assert published == {
        "NATO um": datetime(2018, 9, 24, 13, 0, tzinfo=UTC),
        "NATO dois": datetime(2018, 10, 2, 9, 30, tzinfo=UTC),
    }
