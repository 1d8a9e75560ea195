"""``newsmon feeds discover``: what a site offers to watch (monitor.sources.discover)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor.cli.feeds import feeds
from monitor.cli.offers import find
from monitor.cli.output import emit, format_option
from monitor.cli.params import TEXT

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register"]

COLUMNS = ["kind", "url", "how", "title"]


@feeds.command("discover")
@click.argument("url", type=TEXT)
@click.option(
    "--no-probe", is_flag=True, help="Do not try the common feed paths (/feed, /rss.xml, ...)."
)
@format_option("table", "json", default="table")
@click.pass_obj
def feeds_discover(obj: Obj, url: str, no_probe: bool, fmt: str) -> None:
    """List what a site offers to watch: the feeds its page names (<link rel="alternate">),
    the sitemaps of its robots.txt, common feed paths that answer, and Telegram channels
    the page links to. Nothing is added; `feeds add` adds one.

    \b
    Example:
        newsmon feeds discover https://meduza.io/
        newsmon feeds discover https://www.reuters.com/ --format json --no-probe
    """
    found = find(obj.settings, url, is_probing=not no_probe)
    rows = [{"kind": f.kind, "url": f.url, "how": f.how, "title": f.title} for f in found.found]
    emit(rows, fmt, COLUMNS, f"found on {found.url}", drop=["how", "title"], main="url")


def register(_group: click.Group) -> None:
    feeds.add_command(feeds_discover)
