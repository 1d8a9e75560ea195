"""A source's kind from the command line: ``feeds add --kind``, ``feeds list`` and
``feeds show``, OPML export and import (newsmonKind), and the config's validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import write_config
from monitor.cli import cli
from monitor.config.settings import load
from monitor.demo.server import Reply, Site
from monitor.errors import ConfigError
from monitor.sources.opml import read_opml

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_kind_is_kept_from_add_to_list_export_and_import(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    news = (FIXTURES / "sitemaps/shinpaideshou-news-sitemap.xml").read_bytes()
    site.routes["/news.xml"] = Reply(200, news, {"Content-Type": "text/html"})  # mislabelled
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {})
    url = f"{site.base}/news.xml"
    code, out, _ = invoke(config, "feeds", "add", url, "--check", "--format", "json")
    assert code == 0
    added = json.loads(out)
    assert (added["kind"], added["detected_kind"], added["entries"]) == (None, "sitemap", 3)
    assert added["name"] == "what-can-i-do-with-a-b-a-in-japanese-studies"  # news:name

    page = f"{site.base}/section"
    code, out, _ = invoke(config, "feeds", "add", page, "--kind", "page", "--name", "front")
    assert code == 0 and out.startswith("added feed front")
    code, out, _ = invoke(config, "feeds", "list", "--format", "json", "--fields", "name,kind")
    assert {f["name"]: f["kind"] for f in json.loads(out)}["front"] == "page"
    code, out, _ = invoke(config, "feeds", "show", "front", "--format", "json")
    assert json.loads(out)["kind"] == "page"

    exported = tmp_path / "out.opml"
    code, _, _ = invoke(config, "feeds", "export", "--output", str(exported))
    assert code == 0
    kinds = {f.url: f.kind for f in read_opml(exported.read_bytes()).feeds}
    assert kinds[page] == "page" and kinds[url] is None  # detected kinds are not forced

    other = write_config(tmp_path / "other.toml", f"sqlite:///{tmp_path / 'o.db'}", site, {})
    code, _, _ = invoke(other, "feeds", "import", str(exported))
    assert code == 0
    code, out, _ = invoke(other, "feeds", "list", "--format", "json", "--fields", "url,kind")
    assert {f["url"]: f["kind"] for f in json.loads(out)}[page] == "page"


def test_an_unknown_kind_in_opml_is_reported_not_guessed() -> None:
    found = read_opml(
        b'<opml version="2.0"><body><outline text="a" xmlUrl="https://s.example/a"'
        b' newsmonKind="rss"/></body></opml>'
    )
    assert found.feeds[0].kind is None
    assert found.problems == ["line 1: unknown newsmonKind 'rss'"]


def test_the_config_refuses_an_unknown_kind(tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text(
        '[[feed]]\nname = "x"\nurl = "https://s.example/"\nkind = "rss"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="kind"):
        load(config)


def test_a_telegram_channel_is_added_at_the_telegram_interval(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {})
    code, out, _ = invoke(config, "feeds", "add", "https://t.me/MID_Russia", "--format", "json")
    assert code == 0
    added = json.loads(out)
    assert (added["url"], added["kind"], added["interval"]) == (
        "https://t.me/s/MID_Russia",
        "telegram",
        load(config).defaults.telegram_interval,
    )
    code, out, _ = invoke(config, "feeds", "add", f"{site.base}/wire.xml", "--format", "json")
    assert code == 0 and json.loads(out)["interval"] == load(config).defaults.interval
