"""A hostile feed: a formula for a spreadsheet and bidirectional controls that spoof a
file name, in a headline and a summary; the ``polled`` fixture serves and polls it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import hook_url, write_config
from monitor.cli import cli
from monitor.demo.hostile import rss
from monitor.demo.server import Receiver, Reply, Site

FORMULA = '=HYPERLINK("http://evil.example/x","Ukraine click")'
SPOOFED = "Ukraine invoice \u202egnp.exe\u202c \u2067\u200fشكرا\u061c\u2069"


def _item(guid: str, title: str, summary: str) -> str:
    return (
        f"<item><title>{title}</title><guid>{guid}</guid>"
        f"<description>{summary}</description></item>"
    )


@pytest.fixture
def polled(db_url: str, site: Site, hook: Receiver, tmp_path: Path) -> Path:
    """The sample feeds and a hostile one, polled once: the hostile feed's two items alert
    (Ukraine) beside the sample's, and all are delivered to a webhook."""
    site.routes["/feeds/hostile.xml"] = Reply(
        200,
        rss(
            _item("f-1", FORMULA.replace('"', "&quot;"), "Ukraine -3.5 points @home +1")
            + _item("b-1", SPOOFED, f"Ukraine \u202eexe.fdp\u202c report {SPOOFED}")
        ),
        {"Content-Type": "application/rss+xml"},
    )
    extra = (
        f'[[feed]]\nname = "hostile"\nurl = "{site.base}/feeds/hostile.xml"\n'
        "alert_backlog = true\nfetch_articles = false\n"
    )
    config = write_config(
        tmp_path / "n.toml", db_url, site, {"chat": [hook_url(hook)]}, extra=extra
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), "poll", "--once"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return config
