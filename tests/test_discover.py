"""``newsmon feeds discover``: feeds, sitemaps, common paths and Telegram channels a site
offers, found from one page of the local demo site (monitor/demo/site/follow.html)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import ALLOW_LOCAL
from helpers.telegram_pages import PAGE
from monitor.cli import cli
from monitor.demo.server import Reply, Site
from monitor.sources.discover import COMMON_PATHS, kind_of

ROBOTS = (
    b"User-agent: *\nDisallow: /search\n\nSitemap: {base}/sitemap-news.xml\nsitemap: /sitemap.xml\n"
)


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """No feeds: the local site may be fetched."""
    path = tmp_path / "newsmon.toml"
    database = f'[database]\nurl = "sqlite:///{tmp_path}/n.db"\n'
    path.write_text(f"{database}\n[http]\nallow_networks = {ALLOW_LOCAL}\n", encoding="utf-8")
    return path


def _discover(config: Path, url: str, *args: str) -> list[dict[str, str]]:
    code, out, err = invoke(config, "feeds", "discover", url, "--format", "json", *args)
    assert code == 0, err
    found: list[dict[str, str]] = json.loads(out)
    return found


def test_discover_lists_alternates_robots_sitemaps_common_paths_and_a_channel(
    config: Path, site: Site
) -> None:
    site.routes["/robots.txt"] = Reply(
        200, ROBOTS.replace(b"{base}", site.base.encode()), {"Content-Type": "text/plain"}
    )
    site.routes["/rss.xml"] = site.reply_for("/feeds/novosti.xml")
    site.routes["/feed"] = site.reply_for("/follow.html")  # answers, but with a page
    found = _discover(config, f"{site.base}/follow.html")
    by_url = {f["url"]: f for f in found}
    assert len(by_url) == len(found)  # each once
    assert by_url[f"{site.base}/feeds/world.xml"] == {
        "kind": "feed",
        "url": f"{site.base}/feeds/world.xml",
        "how": 'link rel="alternate"',
        "title": "Demo World Wire",
    }
    assert by_url[f"{site.base}/feeds/nachrichten.xml"]["how"] == 'link rel="alternate"'
    sitemaps = [f["url"] for f in found if f["kind"] == "sitemap"]
    assert sitemaps == [f"{site.base}/sitemap-news.xml", f"{site.base}/sitemap.xml"]
    assert by_url[f"{site.base}/rss.xml"]["how"] == "common path /rss.xml"
    assert by_url[f"{site.base}/rss.xml"]["title"] == "Демо Новости"
    assert f"{site.base}/feed" not in by_url
    channels = [f for f in found if f["kind"] == "telegram"]
    assert channels == [
        {
            "kind": "telegram",
            "url": "https://t.me/s/demo_world_wire",
            "how": "linked from the page",
            "title": "",
        }
    ]  # not the t.me/share link
    assert all(site.hits.get(p, 0) == 1 for p in COMMON_PATHS)


def test_no_probe_tries_no_common_path(config: Path, site: Site) -> None:
    site.routes["/rss.xml"] = site.reply_for("/feeds/novosti.xml")
    found = _discover(config, f"{site.base}/follow.html", "--no-probe")
    assert f"{site.base}/rss.xml" not in {f["url"] for f in found}
    assert not any(site.hits.get(p) for p in COMMON_PATHS)


def test_a_feed_url_is_itself_the_answer(config: Path, site: Site) -> None:
    found = _discover(config, f"{site.base}/feeds/world.xml")
    assert found == [
        {
            "kind": "feed",
            "url": f"{site.base}/feeds/world.xml",
            "how": "the URL itself",
            "title": "",
        }
    ]
    assert site.hits.get("/robots.txt") is None


def test_a_telegram_link_is_its_preview_without_a_request(config: Path) -> None:
    found = _discover(config, "https://t.me/MID_Russia")
    assert [(f["kind"], f["url"]) for f in found] == [("telegram", "https://t.me/s/MID_Russia")]


def test_table_output_fits_and_names_the_page(config: Path, site: Site) -> None:
    code, out, _ = invoke(config, "feeds", "discover", f"{site.base}/follow.html", "--no-probe")
    assert code == 0
    assert "t.me/s/demo_world_wire" in out and "follow.html" in out


def test_a_page_that_does_not_answer_is_an_error(config: Path, site: Site) -> None:
    code, _, err = invoke(config, "feeds", "discover", f"{site.base}/missing.html")
    assert code == 1
    assert "cannot discover what" in err and "404" in err


def test_an_address_the_guard_refuses_is_not_fetched(tmp_path: Path, site: Site) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/n.db"\n', encoding="utf-8")
    code, _, err = invoke(config, "feeds", "discover", f"{site.base}/follow.html")
    assert code == 1 and "refused to fetch" in err
    assert not site.hits


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'<?xml version="1.0"?>\n<rss version="2.0"><channel>', "feed"),
        (b'\xef\xbb\xbf<feed xmlns="http://www.w3.org/2005/Atom">', "feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "feed"),
        (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/">', "sitemap"),
        (b"<sitemapindex>", "sitemap"),
        (PAGE[:3000], None),
    ],
    ids=["rss", "atom-bom", "json-feed", "sitemap", "sitemap-index", "telegram-page"],
)
def test_kind_of(body: bytes, kind: str | None) -> None:
    assert kind_of(body, "") == kind


def _add(config: Path, *args: str) -> tuple[int, dict[str, object] | None, str]:
    code, out, err = invoke(config, "feeds", "add", *args, "--format", "json")
    return code, (json.loads(out) if code == 0 else None), err


def test_add_on_a_page_with_yes_takes_the_first_found(config: Path, site: Site) -> None:
    code, added, err = _add(config, f"{site.base}/follow.html", "--yes", "--name", "wire")
    assert code == 0, err
    assert added is not None
    assert (added["url"], added["kind"]) == (f"{site.base}/feeds/world.xml", None)


def test_add_on_a_page_without_yes_lists_what_it_offers(config: Path, site: Site) -> None:
    code, _, err = _add(config, f"{site.base}/follow.html")
    assert code == 1
    assert "is a web page that offers" in err
    assert f"{site.base}/feeds/world.xml" in err and "https://t.me/s/demo_world_wire" in err
    assert "--yes" in err
    _, out, _ = invoke(config, "feeds", "list", "--format", "json")
    assert json.loads(out) == []  # nothing added


def test_add_on_a_page_offering_nothing_watches_the_page(config: Path, site: Site) -> None:
    code, added, err = _add(config, f"{site.base}/articles/pogoda.html")
    assert code == 0, err
    assert added is not None and added["kind"] == "page"
    assert "watching the page" in err


def test_add_a_telegram_link_adds_its_preview(config: Path, site: Site) -> None:
    code, added, _ = _add(config, "https://t.me/MID_Russia", "--name", "mid")
    assert code == 0
    assert added is not None
    assert (added["url"], added["kind"]) == ("https://t.me/s/MID_Russia", "telegram")
    assert not site.hits  # nothing fetched


def test_add_with_kind_does_not_discover(config: Path, site: Site) -> None:
    code, added, _ = _add(config, f"{site.base}/follow.html", "--kind", "page")
    assert code == 0
    assert added is not None and added["url"] == f"{site.base}/follow.html"
    assert not site.hits
